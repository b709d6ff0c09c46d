// What `gc-k8s sessions` shows of a namespace: the sessions with a pod (running, starting, ended
// with its exit status, stopping; a bare pod or a Job's; started from a warm pod or cold, and why
// cold when the city keeps a pool), the kept
// workspaces of stopped sessions, and the idle warm pods by pool.

import type { NamespaceClient } from '../kube/ports.js';
import type { Pod } from '../kube/types.js';
import { ANNOTATION_CITY, ANNOTATION_STARTED_COLD } from './manifest.js';
import { jobOf } from './job.js';
import { classifyPod, howItEnded, sessionNameOf } from './lookup.js';
import { listWorkspaces } from './workspace-admin.js';
import { isWarmIdle, LABEL_POOL, LABEL_WARM, WARM_CLAIMED } from './warm.js';

export interface SessionRow {
  readonly session: string;
  /** running, starting, ended, stopping, or stopped (only its workspace is left) */
  readonly state: string;
  readonly pod: string;
  /** RFC 3339: the pod's, or for a stopped session its workspace's last use */
  readonly since: string;
  /** "warm", "cold", or "" (no pod) */
  readonly from: string;
  readonly coldBecause: string;
  /** the Job the session runs as (one_shot, workload = "job"), or "" for a bare pod */
  readonly job: string;
  /** how an ended session's command exited (a Job's result), else null */
  readonly exitCode: number | null;
  /** why an ended session ended, when Kubernetes says more than its exit status (OOMKilled, Evicted, DeadlineExceeded) */
  readonly reason: string;
  readonly workspace: string;
  readonly size: string;
  readonly city: string;
}

export interface PoolRow {
  readonly pool: string;
  readonly city: string;
  readonly ready: number;
  readonly starting: number;
}

const STATE: Record<string, string> = { running: 'running', pending: 'starting', completed: 'ended', terminating: 'stopping' };

function podState(pod: Pod): string {
  return STATE[classifyPod(pod).kind] ?? 'unknown';
}

export async function inventory(client: NamespaceClient, signal: AbortSignal): Promise<{ sessions: SessionRow[]; pools: PoolRow[] }> {
  const [pods, workspaces] = await Promise.all([client.pods.list('app=gc-agent', { signal }), listWorkspaces(client, signal)]);
  const byClaim = new Map(workspaces.map((w) => [w.claim, w]));
  const sessions: SessionRow[] = [];
  const pools = new Map<string, { city: string; ready: number; starting: number }>();
  const withPod = new Set<string>();
  for (const pod of pods) {
    if (isWarmIdle(pod)) {
      const key = pod.labels[LABEL_POOL] ?? '';
      const row = pools.get(key) ?? { city: pod.annotations[ANNOTATION_CITY] ?? '', ready: 0, starting: 0 };
      if (pod.deletionTimestamp === undefined) {
        if (classifyPod(pod).kind === 'running') row.ready++;
        else row.starting++;
      }
      pools.set(key, row);
      continue;
    }
    const session = sessionNameOf(pod);
    if (session === undefined) continue;
    withPod.add(session);
    const ws = (pod.claims ?? []).map((c) => byClaim.get(c)).find((w) => w !== undefined);
    const end = classifyPod(pod).kind === 'completed' ? howItEnded(pod) : undefined;
    const exitCode = end?.exitCode ?? null;
    // an exit status says all that Completed or Error would
    const reason = end?.reason === undefined || end.reason === 'Completed' || end.reason === 'Error' ? '' : end.reason;
    sessions.push({
      session,
      state: podState(pod),
      pod: pod.name,
      since: pod.creationTimestamp,
      from: pod.labels[LABEL_WARM] === WARM_CLAIMED ? 'warm' : 'cold',
      coldBecause: pod.annotations[ANNOTATION_STARTED_COLD] ?? '',
      job: jobOf(pod)?.name ?? '',
      exitCode,
      reason,
      workspace: ws?.claim ?? '',
      size: ws?.size ?? '',
      city: pod.annotations[ANNOTATION_CITY] ?? '',
    });
  }
  for (const w of workspaces) {
    if (w.session === '' || withPod.has(w.session)) continue;
    sessions.push({
      session: w.session,
      state: 'stopped',
      pod: '',
      since: w.lastUsed,
      from: '',
      coldBecause: '',
      job: '',
      exitCode: null,
      reason: '',
      workspace: w.claim,
      size: w.size,
      city: '',
    });
  }
  sessions.sort((a, b) => (a.session < b.session ? -1 : a.session > b.session ? 1 : 0));
  return { sessions, pools: [...pools].map(([pool, r]) => ({ pool, ...r })) };
}
