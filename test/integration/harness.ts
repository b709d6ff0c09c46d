// Shared helpers for integration tests: a fresh namespace per test file, our daemon on a private
// socket, the real exec-provider scripts as gc runs them, and kubectl for checking from outside.

import { execFile, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { grantDaemon, scriptCommand } from './in-cluster.js';

export const ROOT = new URL('../..', import.meta.url).pathname;
export const AGENT_IMAGE = process.env['GC_K8S_TEST_AGENT_IMAGE'] ?? '';
export const KUBECONFIG = process.env['KUBECONFIG'] ?? '';

/** The kubectl built with the local cluster's Kubernetes, else the one on PATH. */
export function kubectlPath(): string {
  const r = spawnSync('bash', [join(ROOT, 'scripts/build-upstream.sh'), '--dirs', 'k8s'], { encoding: 'utf8' });
  const path = join(r.stdout.trim(), 'kubectl');
  return r.status === 0 && existsSync(path) ? path : 'kubectl';
}

/** Polls `check` every 100 ms until it holds, failing after `tries` attempts with what it waited for. */
export async function until(check: () => Promise<boolean>, what: string, tries = 100): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`gave up waiting for ${what}`);
}

export interface Run {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

export class Harness {
  /** kubeconfig: the suite's cluster (KUBECONFIG), or another one a test brings up itself */
  constructor(readonly kubeconfig: string = KUBECONFIG) {}

  readonly namespace = `gct-${randomBytes(4).toString('hex')}`;
  readonly dir = mkdtempSync(join(tmpdir(), 'gck8s-it-'));
  readonly socket = join(this.dir, 'daemon.sock');
  readonly kubectl = kubectlPath();

  env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    return {
      ...process.env,
      KUBECONFIG: this.kubeconfig,
      GC_K8S_SOCKET: this.socket,
      GC_K8S_NAMESPACE: this.namespace,
      GC_K8S_IMAGE: AGENT_IMAGE,
      GC_K8S_CPU_REQUEST: '20m',
      GC_K8S_MEM_REQUEST: '32Mi',
      GC_K8S_CPU_LIMIT: '1',
      GC_K8S_MEM_LIMIT: '256Mi',
      GC_K8S_KUBECTL: this.kubectl,
      ...extra,
    };
  }

  /**
   * The environment gc's supervisor gives an exec provider: its own, with no city and no
   * GC_K8S_* settings (the city's settings are in its city.toml), plus this harness's daemon.
   */
  supervisorEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    return {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      HOME: process.env['HOME'] ?? '/root',
      KUBECONFIG: this.kubeconfig,
      GC_K8S_SOCKET: this.socket,
      GC_K8S_KUBECTL: this.kubectl,
      ...extra,
    };
  }

  /** A provider script as gc's supervisor runs it: from `/`, with supervisorEnv(). */
  asSupervisor(
    script: string,
    argv: readonly string[],
    stdin = '',
    extra: Record<string, string> = {},
    path = join(ROOT, 'bin', script),
  ): Promise<Run> {
    return this.run(path, argv, stdin, this.supervisorEnv(extra), '/');
  }

  /** Runs a command in the harness directory and collects its output (stdin written, then closed). */
  run(cmd: string, args: readonly string[], stdin = '', env: NodeJS.ProcessEnv = this.env(), cwd = this.dir): Promise<Run> {
    // IN_CLUSTER mode (in-cluster.ts): a provider script runs in the in-cluster controller container
    const where = scriptCommand(this.kubectl, cmd, args, env);
    return new Promise((resolve) => {
      const child = spawn(where.cmd, where.args, { env, cwd });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.on('close', (code) => {
        resolve({ code: code ?? -1, out, err });
      });
      child.stdin.on('error', () => undefined); // a script may answer without reading its stdin
      child.stdin.end(stdin);
    });
  }

  /** Runs bin/<script> like gc does: argv, optional stdin, env inherited. */
  script(script: string, argv: readonly string[], stdin = '', extra: Record<string, string> = {}): Promise<Run> {
    // the provider scripts exactly as gc runs them (native fast path, Node fallback); gc-k8s is Node
    const [cmd, args] =
      script === 'gc-k8s' ? [process.execPath, [join(ROOT, 'bin', 'gc-k8s.js'), ...argv]] : [join(ROOT, 'bin', script), [...argv]];
    return this.run(cmd, args, stdin, this.env(extra));
  }

  session(argv: readonly string[], stdin = '', extra: Record<string, string> = {}): Promise<Run> {
    return this.script('gc-session-k8s', argv, stdin, extra);
  }

  /** A session op that must succeed: its stdout. */
  async sessionOk(argv: readonly string[], stdin = '', extra: Record<string, string> = {}): Promise<string> {
    const r = await this.session(argv, stdin, extra);
    expect(r, `${argv.join(' ')}: ${r.err}`).toMatchObject({ code: 0 });
    return r.out;
  }

  k(args: readonly string[]): Promise<Run> {
    return new Promise((resolve) => {
      execFile(this.kubectl, ['-n', this.namespace, ...args], { env: this.env(), maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, out: stdout, err: stderr });
      });
    });
  }

  async setup(): Promise<void> {
    const r = await this.k(['create', 'namespace', this.namespace]);
    if (r.code !== 0 && !r.err.includes('AlreadyExists')) throw new Error(`creating namespace ${this.namespace}: ${r.err}`);
    grantDaemon(this.kubectl, this.namespace, this.env());
  }

  async teardown(): Promise<void> {
    await this.script('gc-k8s', ['stop-daemon']);
    await this.k(['delete', 'namespace', this.namespace, '--wait=false']);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
