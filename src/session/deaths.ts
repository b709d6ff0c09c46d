// Why a session went away, noticed as it happens. The agent pods' watch shows each of our session
// pods end: its agent container terminated (OOMKilled, an exit status), the pod failed as a whole
// (Evicted, DeadlineExceeded), or Kubernetes marked it for removal (DisruptionTarget: preempted
// by a higher-priority pod, evicted, node pressure) before deleting it. Each end is reported once
// per pod (the daemon records it as a gc event) and the last one of each session is kept, so the
// session's next op can say why it is gone instead of only "not running". A stop (our own delete)
// and a start that failed (it reports its own reason) are not deaths.

import type { CacheEvent, ObjectCache } from '../kube/ports.js';
import type { Pod } from '../kube/types.js';
import { classifyPod, hasTrackedEntrypoint, howItEnded, sessionNameOf } from './lookup.js';
import { ANNOTATION_LIFECYCLE, ANNOTATION_START_PENDING } from './manifest.js';
import { isWarmIdle } from './warm.js';

export interface Death {
  readonly session: string;
  readonly pod: string;
  readonly uid: string;
  /** OOMKilled, Error, Completed, Evicted, DeadlineExceeded, PreemptionByScheduler… */
  readonly reason: string;
  readonly exitCode?: number;
  /** one line: what happened, for errors and the event */
  readonly message: string;
  /** a one_shot task that ran to its end (its exit status is its result, not a death) */
  readonly ended: boolean;
}

const DISRUPTION = 'DisruptionTarget';

function disruption(pod: Pod): { reason: string; message: string } | undefined {
  const c = pod.conditions.find((x) => x.type === DISRUPTION && x.status === 'True');
  return c === undefined ? undefined : { reason: c.reason ?? DISRUPTION, message: c.message ?? '' };
}

/** The end a change from `before` to `after` shows, if it is one (pure). */
export function deathOf(before: Pod | undefined, after: Pod): Death | undefined {
  const session = sessionNameOf(after);
  if (session === undefined || !hasTrackedEntrypoint(after) || isWarmIdle(after)) return undefined;
  if (after.annotations[ANNOTATION_START_PENDING]?.includes('start') === true) return undefined; // the start reports it
  const base = { session, pod: after.name, uid: after.uid, ended: false };
  const disrupted = disruption(after);
  if (disrupted !== undefined && (before === undefined || disruption(before) === undefined)) {
    return {
      ...base,
      reason: disrupted.reason,
      message: `pod ${after.name} was removed by Kubernetes: ${disrupted.reason}${disrupted.message === '' ? '' : ` (${disrupted.message})`}`,
    };
  }
  if (after.deletionTimestamp !== undefined) return undefined; // deleted by us (stop, replace) or already reported
  if (classifyPod(after).kind !== 'completed' || (before !== undefined && classifyPod(before).kind === 'completed')) return undefined;
  const end = howItEnded(after);
  const reason = end.reason ?? after.phase;
  const exitCode = end.exitCode;
  const oneShot = after.annotations[ANNOTATION_LIFECYCLE] === 'one_shot';
  if (exitCode === undefined) return { ...base, reason, message: `pod ${after.name} ended: ${reason}` };
  const exit = `exit status ${exitCode}`;
  const why =
    reason === 'OOMKilled'
      ? 'killed for exceeding its memory limit (OOMKilled)'
      : reason === 'Completed' || reason === 'Error'
        ? exit
        : `${reason}, ${exit}`;
  const ended = oneShot && reason !== 'OOMKilled';
  return { ...base, reason, exitCode, ended, message: `the agent in pod ${after.name} ${ended ? 'ran to its end' : 'died'}: ${why}` };
}

/** The deaths the watch shows, as they happen; the last of each session kept (bounded). */
export class DeathLog {
  private readonly last = new Map<string, Death>();
  private readonly reported = new Set<string>();
  private readonly listeners: ((death: Death) => void)[] = [];
  private readonly previous = new Map<string, Pod>();
  private readonly unsubscribe: () => void;

  constructor(
    cache: ObjectCache<Pod>,
    private readonly max = 1000,
  ) {
    this.unsubscribe = cache.subscribe((e) => {
      this.onChange(e);
    });
  }

  /** Called once per death (per pod), in order. */
  onDeath(listener: (death: Death) => void): void {
    this.listeners.push(listener);
  }

  /** Why this session's last pod went away, if the daemon saw it happen. */
  lastDeath(session: string): Death | undefined {
    return this.last.get(session);
  }

  /** A new start of the session: its earlier death is history. */
  forget(session: string): void {
    this.last.delete(session);
  }

  close(): void {
    this.unsubscribe();
  }

  private onChange(e: CacheEvent<Pod>): void {
    const pod = e.object;
    const before = this.previous.get(pod.uid);
    if (e.type === 'DELETED') this.previous.delete(pod.uid);
    else this.previous.set(pod.uid, pod);
    if (this.reported.has(pod.uid)) return;
    const death = deathOf(before, pod);
    if (death === undefined) return;
    this.reported.add(pod.uid);
    if (this.reported.size > this.max) this.reported.delete(this.reported.values().next().value as string);
    this.last.delete(death.session);
    this.last.set(death.session, death);
    if (this.last.size > this.max) this.last.delete(this.last.keys().next().value as string);
    for (const l of this.listeners) l(death);
  }
}
