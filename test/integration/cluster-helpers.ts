// Helpers for the cluster integration tests: kubectl against a given kubeconfig, polling, and
// small manifests. Uses the kubectl built by scripts/build-upstream.sh.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ensureBinaries } from '@gc-k8s/local-cluster';
import { silentReporter } from '@gc-k8s/local-cluster';

const execFileP = promisify(execFile);

let kubectlBin: string | undefined;
export async function kubectlPath(): Promise<string> {
  if (kubectlBin === undefined) {
    const dirs = await ensureBinaries(['k8s'], process.env, silentReporter, new AbortController().signal);
    kubectlBin = join(dirs.k8s, 'kubectl');
  }
  return kubectlBin;
}

export interface Kubectl {
  (args: string[], input?: string): Promise<string>;
  ok(args: string[]): Promise<boolean>;
  readonly kubeconfig: string;
}

export async function kubectlFor(kubeconfig: string): Promise<Kubectl> {
  const bin = await kubectlPath();
  const k = (async (args: string[], input?: string): Promise<string> => {
    if (input === undefined) {
      const r = await execFileP(bin, ['--kubeconfig', kubeconfig, ...args], { maxBuffer: 16 << 20 });
      return r.stdout;
    }
    return new Promise((resolve, reject) => {
      const child = execFile(bin, ['--kubeconfig', kubeconfig, ...args], { maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
        if (err !== null) reject(new Error(`kubectl ${args.join(' ')}: ${stderr}`));
        else resolve(stdout);
      });
      child.stdin?.end(input);
    });
  }) as Kubectl;
  k.ok = async (args) => {
    try {
      await k(args);
      return true;
    } catch {
      return false;
    }
  };
  Object.defineProperty(k, 'kubeconfig', { value: kubeconfig });
  return k;
}

export async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs: number, intervalMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export const run = async (cmd: string, args: string[]): Promise<string> => (await execFileP(cmd, args)).stdout;

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command without throwing on a non-zero exit (the exit code is what the caller checks). */
export function tryRun(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env: opts.env ?? process.env, timeout: opts.timeoutMs ?? 30_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}

export interface LocalUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  /** runs cmd as this user (setpriv: no supplementary groups, no capabilities) */
  run(cmd: string, args: string[]): Promise<RunResult>;
  remove(): Promise<void>;
}

/** A throwaway unprivileged local account (a system user with its own group, no home). */
export async function createLocalUser(name: string): Promise<LocalUser> {
  await tryRun('userdel', [name]);
  await run('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', name]);
  const uid = Number((await run('id', ['-u', name])).trim());
  const gid = Number((await run('id', ['-g', name])).trim());
  const env = { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: '/tmp', LANG: 'C.UTF-8' };
  return {
    name,
    uid,
    gid,
    run: (cmd, args) => tryRun('setpriv', [`--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', '--', cmd, ...args], { env }),
    remove: async () => {
      await tryRun('userdel', [name]);
    },
  };
}
