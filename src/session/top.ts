// `gc-k8s top`: each session's pod with what it uses now (the metrics API), its restarts, age and
// the agent's last activity (tmux's, read by one exec per running session, a few at a time). Reads
// only: a session without metrics or activity shows a dash, never an error.

import { AGENT_CONTAINER } from './manifest.js';
import { classifyPod, sessionNameOf, tmuxOf } from './lookup.js';
import { parseActivity } from './tmux/args.js';
import { phaseOf, type SessionPhase } from './phases.js';
import type { NamespaceClient } from '../kube/ports.js';
import type { Pod, PodUsage } from '../kube/types.js';
import { messageOf } from '../errors.js';

export interface TopRow {
  readonly session: string;
  readonly phase: SessionPhase;
  readonly pod: string;
  readonly node: string;
  /** cores and bytes of the whole pod; null without metrics for it */
  readonly cpuCores: number | null;
  readonly memoryBytes: number | null;
  readonly restarts: number;
  /** RFC 3339 */
  readonly created: string;
  /** RFC 3339, '' when unknown (not running, or tmux did not say) */
  readonly lastActivity: string;
}

export interface Top {
  readonly rows: readonly TopRow[];
  /** why there are no CPU or memory figures, when there are none */
  readonly metricsNote: string;
}

const ACTIVITY_PARALLELISM = 8;

/** The rows, pure: pods, their usage, and activity by pod name. */
export function topRows(pods: readonly Pod[], usage: readonly PodUsage[] | undefined, activity: ReadonlyMap<string, string>): TopRow[] {
  const used = new Map((usage ?? []).map((u) => [u.name, u]));
  const rows: TopRow[] = [];
  for (const pod of pods) {
    const session = sessionNameOf(pod);
    if (session === undefined) continue; // an idle warm pod is not a session
    const u = used.get(pod.name);
    const sum = (f: (c: PodUsage['containers'][number]) => number): number | null =>
      u === undefined ? null : u.containers.reduce((n, c) => n + (Number.isFinite(f(c)) ? f(c) : 0), 0);
    rows.push({
      session,
      phase: phaseOf(pod),
      pod: pod.name,
      node: pod.nodeName ?? '',
      cpuCores: sum((c) => c.cpuCores),
      memoryBytes: sum((c) => c.memoryBytes),
      restarts: pod.containers.reduce((n, c) => n + c.restartCount, 0),
      created: pod.creationTimestamp,
      lastActivity: activity.get(pod.name) ?? '',
    });
  }
  return rows.sort((a, b) => a.session.localeCompare(b.session));
}

/** Reads the namespace's sessions, their usage and activity. */
export async function top(
  client: NamespaceClient,
  signal: AbortSignal,
  onActivityError: (pod: string, err: unknown) => void,
): Promise<Top> {
  const [pods, usage] = await Promise.all([
    client.pods.list('app=gc-agent', { signal }),
    client.pods.usage('app=gc-agent', { signal }).then(
      (u) => ({
        u,
        note: u === undefined ? 'the cluster serves no metrics API (metrics.k8s.io): install metrics-server for CPU and memory' : '',
      }),
      (err: unknown) => ({ u: undefined, note: `no CPU or memory figures: ${messageOf(err).slice(0, 300)}` }),
    ),
  ]);
  const running = pods.filter((p) => sessionNameOf(p) !== undefined && classifyPod(p).kind === 'running');
  const activity = new Map<string, string>();
  for (let i = 0; i < running.length; i += ACTIVITY_PARALLELISM) {
    await Promise.all(
      running.slice(i, i + ACTIVITY_PARALLELISM).map(async (pod) => {
        try {
          const r = await client.exec.exec({ pod: pod.name, container: AGENT_CONTAINER, command: tmuxOf(pod).lastActivity(), signal });
          if (r.exitCode === 0) activity.set(pod.name, parseActivity(r.stdout.toString('utf8')));
        } catch (err) {
          onActivityError(pod.name, err);
        }
      }),
    );
  }
  return { rows: topRows(pods, usage.u, activity), metricsNote: usage.note };
}
