// Helpers for the cluster integration tests: kubectl against a given kubeconfig, polling, and
// small manifests. Uses the kubectl built by scripts/build-upstream.sh.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ensureBinaries } from '../../src/cluster/host.js';
import { silentReporter } from '../../src/cluster/progress.js';

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
