// Runs our fixed pod-side shell programs for real on this machine, against an isolated tmux
// server (own TMUX_TMPDIR and HOME), so the scripts are tested as they run in a pod.

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Sandbox {
  readonly dir: string;
  readonly env: NodeJS.ProcessEnv;
  tmux(...args: string[]): { status: number; stdout: string; stderr: string };
  run(argv: readonly string[], stdin?: Uint8Array | string): Promise<{ status: number; stdout: string; stderr: string }>;
  cleanup(): void;
}

export function createSandbox(): Sandbox {
  const dir = mkdtempSync(join(tmpdir(), 'gck8s-sh-'));
  const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: dir, TMUX_TMPDIR: dir, TERM: 'xterm-256color' };
  return {
    dir,
    env,
    tmux(...args) {
      const r = spawnSync('tmux', args, { env, encoding: 'utf8' });
      return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
    },
    run(argv, stdin) {
      return new Promise((resolve, reject) => {
        const child = spawn(argv[0]!, argv.slice(1), { env });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('error', reject);
        child.on('close', (code) => {
          resolve({ status: code ?? -1, stdout, stderr });
        });
        child.stdin.end(stdin);
      });
    },
    cleanup() {
      spawnSync('tmux', ['kill-server'], { env });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function until(check: () => boolean, what: string, tries = 200): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`gave up waiting for ${what}`);
}
