// Which process reserved a block of seqs: host, boot id, pid and that pid's start time. With all
// four, a daemon on the same machine can be certain the reserver is gone (a dead process writes
// nothing more) and tombstone what it left unwritten, instead of making every watcher wait out
// the gap timeout. Anything less than certainty (another host, another boot, no /proc) says
// "alive", which only ever costs that wait.

import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

export interface Owner {
  readonly host: string;
  readonly boot: string;
  readonly pid: number;
  /** field 22 of /proc/<pid>/stat: start time in clock ticks since boot */
  readonly start: string;
}

function bootId(): string | undefined {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** The start time of a live pid, or undefined when there is no such process (or only its zombie). */
export function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name may hold spaces and parentheses: fields resume after the last ')'
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // a killed daemon whose parent has not reaped it yet is a zombie: it writes nothing more
    if (fields[0] === 'Z' || fields[0] === 'X') return undefined;
    return fields[19];
  } catch {
    return undefined;
  }
}

export function currentOwner(): Owner | undefined {
  const boot = bootId();
  const start = processStart(process.pid);
  if (boot === undefined || boot === '' || start === undefined) return undefined;
  return { host: hostname(), boot, pid: process.pid, start };
}

export function formatOwner(o: Owner): string {
  return `${o.host}/${o.boot}/${o.pid}/${o.start}`;
}

export function parseOwner(text: string): Owner | undefined {
  const m = /^([^/]+)\/([0-9a-f-]+)\/(\d+)\/(\d+)$/.exec(text);
  const [, host, boot, pid, start] = m ?? [];
  if (host === undefined || boot === undefined || pid === undefined || start === undefined) return undefined;
  return { host, boot, pid: Number(pid), start };
}

/** True only when certain: same machine and boot, and the pid is gone or is another process now. */
export function ownerIsDead(
  o: Owner,
  view: { readonly me?: Owner | undefined; readonly probe?: (pid: number) => string | undefined } = {},
): boolean {
  const me = 'me' in view ? view.me : currentOwner();
  const probe = view.probe ?? processStart;
  if (me === undefined || o.host !== me.host || o.boot !== me.boot) return false;
  if (o.pid === me.pid && o.start === me.start) return false;
  const now = probe(o.pid);
  return now === undefined || now !== o.start;
}
