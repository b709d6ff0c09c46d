// A PodExec that runs commands on this machine, streaming like the WebSocket exec, so the real
// channel program (bash) runs under test. `/workspace` in argv maps to a temp dir (the "pod
// filesystem"), and `bd` is a fake on PATH that records every call and answers like bd.

import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PodExec } from '../../../../src/kube/ports.js';
import { LocalExec } from '../../../fakes/local-exec.js';

/**
 * Fake bd: logs "cwd argv..." (NUL-separated) to $BD_LOG; `init` creates .beads/metadata.json;
 * `echo` prints its args NUL-separated; `fail` exits 3 with a message; `sleep N` sleeps;
 * `show --json --id=<id>` answers not found for ids starting with "missing"; everything else
 * prints []. While "$BD_LOG.breaker" exists, the next call fails with bd's circuit-breaker error.
 */
const FAKE_BD = `#!/bin/bash
# one locked write per call: concurrent fake bds must not interleave their log lines
{ flock 9; printf '%s\\0' "$PWD" "$@" >>"$BD_LOG"; printf '\\n' >>"$BD_LOG"; } 9>>"$BD_LOG.lock"
# "$BD_LOG.breaker" present: the next call fails as bd does while its Dolt circuit breaker is open
if [ -f "$BD_LOG.breaker" ]; then
  rm -f "$BD_LOG.breaker"
  echo 'Error: failed to open database: dolt circuit breaker is open: server appears down, failing fast (cooldown 5s)' >&2
  exit 1
fi
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

/** `bdServe`: a gc-bd-serve binary to put on the pod's PATH beside the fake bd, as the image has it. */
export function localPod(options: { bdServe?: string } = {}): LocalPod {
  const dir = mkdtempSync(join(tmpdir(), 'gck8s-beads-'));
  const bin = join(dir, 'bin');
  const root = join(dir, 'pod');
  const log = join(dir, 'bd.log');
  mkdirSync(bin);
  mkdirSync(root);
  writeFileSync(join(bin, 'bd'), FAKE_BD);
  chmodSync(join(bin, 'bd'), 0o755);
  if (options.bdServe !== undefined) symlinkSync(options.bdServe, join(bin, 'gc-bd-serve'));
  writeFileSync(log, '');
  const env = { PATH: `${bin}:${process.env['PATH'] ?? '/usr/bin:/bin'}`, BD_LOG: log, HOME: dir };
  const exec = new LocalExec({
    env,
    mapArgv: (argv) => argv.map((a) => (a === '/workspace' || a.startsWith('/workspace/') ? root + a.slice('/workspace'.length) : a)),
  });

  return {
    exec,
    root,
    log,
    calls() {
      return readCalls(log, root);
    },
    reset() {
      exec.killAll();
      rmSync(root, { recursive: true, force: true, maxRetries: 5 });
      mkdirSync(root);
    },
    cleanup() {
      exec.killAll();
      rmSync(dir, { recursive: true, force: true, maxRetries: 5 }); // a killed fake bd may still be writing its log
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
