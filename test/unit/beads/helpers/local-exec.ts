// A PodExec that runs commands on this machine, streaming like the WebSocket exec, so the real
// channel program (bash) runs under test. `/workspace` in argv maps to a temp dir (the "pod
// filesystem"), and `bd` is a fake on PATH that records every call and answers like bd.

import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecRequest, ExecResult, PodExec } from '../../../../src/core/ports.js';
import { abortError } from '../../../../src/util/abort.js';

/**
 * Fake bd: logs "cwd argv..." (NUL-separated) to $BD_LOG; `init` creates .beads/metadata.json;
 * `echo` prints its args NUL-separated; `fail` exits 3 with a message; `sleep N` sleeps;
 * `show --json --id=<id>` answers not found for ids starting with "missing"; everything else
 * prints [].
 */
const FAKE_BD = `#!/bin/bash
# one locked write per call: concurrent fake bds must not interleave their log lines
{ flock 9; printf '%s\\0' "$PWD" "$@" >>"$BD_LOG"; printf '\\n' >>"$BD_LOG"; } 9>>"$BD_LOG.lock"
case "\${1-}" in
  init) mkdir -p .beads && echo '{}' > .beads/metadata.json ;;
  echo) shift; printf '%s\\0' "$@" ;;
  fail) echo "boom on stderr" >&2; exit 3 ;;
  sleep) sleep "$2" ;;
  big) head -c "$2" /dev/zero | tr '\\0' x ;;
  show) case "$3" in --id=missing*) echo "Error fetching: no issue found matching" >&2; exit 1 ;; *) printf '[{"id":"%s","title":"t","status":"open","issue_type":"task"}]' "\${3#--id=}" ;; esac ;;
  *) printf '[]' ;;
esac
`;

export interface LocalPod {
  readonly exec: PodExec;
  readonly root: string;
  readonly log: string;
  /** every bd call so far: [cwd relative to the pod root, ...argv] */
  calls(): string[][];
  /** kills every running exec and wipes the filesystem: what deleting the pod does */
  reset(): void;
  cleanup(): void;
}

export function localPod(): LocalPod {
  const dir = mkdtempSync(join(tmpdir(), 'gck8s-beads-'));
  const bin = join(dir, 'bin');
  const root = join(dir, 'pod');
  const log = join(dir, 'bd.log');
  mkdirSync(bin);
  mkdirSync(root);
  writeFileSync(join(bin, 'bd'), FAKE_BD);
  chmodSync(join(bin, 'bd'), 0o755);
  writeFileSync(log, '');
  const children = new Set<ChildProcess>();
  const env = { PATH: `${bin}:${process.env['PATH'] ?? '/usr/bin:/bin'}`, BD_LOG: log, HOME: dir };

  const exec: PodExec = {
    exec(req: ExecRequest): Promise<ExecResult> {
      const argv = req.command.map((a) => (a === '/workspace' || a.startsWith('/workspace/') ? root + a.slice('/workspace'.length) : a));
      return new Promise<ExecResult>((resolve, reject) => {
        const child = spawn(argv[0] ?? 'false', argv.slice(1), { env });
        children.add(child);
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        child.stdout.on('data', (d: Buffer) => {
          if (req.onOutput) req.onOutput('stdout', d);
          else out.push(d);
        });
        child.stderr.on('data', (d: Buffer) => {
          if (req.onOutput) req.onOutput('stderr', d);
          else err.push(d);
        });
        child.stdin.on('error', () => undefined);
        const onAbort = (): void => {
          child.kill('SIGKILL');
          reject(abortError(req.signal, 'exec'));
        };
        req.signal.addEventListener('abort', onAbort, { once: true });
        child.on('close', (code) => {
          children.delete(child);
          req.signal.removeEventListener('abort', onAbort);
          resolve({ exitCode: code ?? 137, stdout: Buffer.concat(out), stderr: Buffer.concat(err) });
        });
        void (async () => {
          if (req.stdin instanceof Uint8Array) child.stdin.write(req.stdin);
          else if (req.stdin !== undefined) for await (const chunk of req.stdin) child.stdin.write(chunk);
          child.stdin.end();
        })();
      });
    },
  };

  return {
    exec,
    root,
    log,
    calls() {
      return readCalls(log, root);
    },
    reset() {
      for (const c of children) c.kill('SIGKILL');
      rmSync(root, { recursive: true, force: true });
      mkdirSync(root);
    },
    cleanup() {
      for (const c of children) c.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function readCalls(log: string, root: string): string[][] {
  return readFileSync(log, 'utf8')
    .split('\0\n')
    .filter((l) => l !== '')
    .map((l) => {
      const [cwd = '', ...argv] = l.split('\0');
      return [cwd.startsWith(root) ? `/workspace${cwd.slice(root.length)}` : cwd, ...argv];
    });
}
