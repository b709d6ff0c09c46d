// What /proc says about a cluster's leftovers: mounts under its directories and processes in its
// network namespace (found even when their command line does not name the cluster).

import { readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';

export function mountsUnder(prefixes: readonly string[]): string[] {
  let text: string;
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const mp = line.split(' ')[4];
    if (mp === undefined) continue;
    const p = mp.replace(/\\040/g, ' ');
    if (prefixes.some((pre) => p === pre || p.startsWith(`${pre}/`))) out.push(p);
  }
  // deepest first
  return [...new Set(out)].sort((a, b) => b.length - a.length);
}

/** PIDs whose network namespace is the one bind-mounted at `path`. */
export function processesInNetns(path: string): number[] {
  let target: string;
  try {
    target = `net:[${statSync(path).ino}]`;
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      if (readlinkSync(`/proc/${e}/ns/net`) === target) out.push(Number(e));
    } catch {
      // gone
    }
  }
  return out;
}
