// Waiting for a component to become healthy, and saying why it did not: the tail of its log and,
// for known failure signatures, what to do.

import { sleep } from '../abort.js';
import { ClusterError } from '../errors.js';
import { isAlive, tailFile } from '../proc.js';

/** Known failure signatures in component logs → what to do about them. */
const KNOWN_FIXES: readonly [RegExp, string][] = [
  [/address already in use/i, 'a port is taken: set GC_K8S_PORT_RANGE=LOW-HIGH to another free range, or stop the process holding it'],
  [
    /no space left on device/i,
    'the disk is full: free space under the worktree and ~/.cache/gc-k8s, then `gc-k8s cluster down && gc-k8s cluster up`',
  ],
  [
    /oom_score_adj.*permission denied|can't get final child's PID from pipe/i,
    'containerd needs restrict_oom_score_adj = true (no CAP_SYS_RESOURCE); check <state>/config/containerd.toml',
  ],
  [/GLIBC_2\.\d+' not found/, 'a binary from a newer Debian suite is first in PATH: use bookworm runc (/usr/sbin/runc)'],
  [/configured to not run on a host using cgroup v1/, 'set failCgroupV1: false in the kubelet configuration'],
  [
    /x509: certificate|certificate signed by unknown authority/i,
    'stale certificates from an older cluster: `gc-k8s cluster down`, then `up`',
  ],
  [/etcdserver: mvcc: database space exceeded/i, 'etcd is full: `gc-k8s cluster down` and `up` (recreates etcd)'],
  [/cannot allocate memory|out of memory/i, 'the host is out of memory: stop other clusters or processes'],
];

export function knownFix(logText: string): string | undefined {
  for (const [re, fix] of KNOWN_FIXES) if (re.test(logText)) return fix;
  return undefined;
}

function failureText(what: string, reason: string, log: string | undefined): string {
  const tail = log === undefined ? '' : tailFile(log, 25);
  const fix = knownFix(tail);
  return `${what}: ${reason} (log: ${log ?? '?'}); last lines:\n${tail}${fix === undefined ? '' : `\nfix: ${fix}`}`;
}

export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  opts: { timeoutMs: number; signal: AbortSignal; pidOf?: () => number | undefined; log?: string; intervalMs?: number },
): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    if (await check()) return;
    const pid = opts.pidOf?.();
    if (opts.pidOf !== undefined && !isAlive(pid)) {
      throw new ClusterError('CLUSTER', failureText(what, 'the process exited', opts.log));
    }
    if (Date.now() > deadline) {
      throw new ClusterError('CLUSTER', failureText(what, `not ready after ${opts.timeoutMs / 1000}s`, opts.log));
    }
    await sleep(opts.intervalMs ?? 250, opts.signal, what);
  }
}
