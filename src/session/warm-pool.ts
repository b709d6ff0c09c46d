// One city's pool of warm pods (warm.ts): keeps `warm_pool` idle pods of its key running, opens
// their exec channels before anyone needs them (and keeps them open), hands one to a start, and
// refills in the background. The pods are the state: a new daemon adopts the pool it finds. A pool
// that cannot grow (a quota, admission) stops short, says why (log, status) and retries later;
// starts then go cold. Pods of the pool that die idle are removed.

import { randomBytes } from 'node:crypto';
import { describeError, hasCode, messageOf } from '../errors.js';
import type { Pod } from '../kube/types.js';
import { withTimeout } from '../util/abort.js';
import { AGENT_CONTAINER, ANNOTATION_CITY } from './manifest.js';
import { classifyPod } from './lookup.js';
import type { SessionDeps } from './pods.js';
import { buildWarmPod, isWarmIdle, LABEL_POOL, warmKey } from './warm.js';

/** how long a pool that could not make a pod waits before it tries again */
const RETRY_MS = 30_000;
/** a warm pod's channel is used this often while it idles (the runner closes channels idle for 5 min) */
const KEEPALIVE_MS = 4 * 60_000;
const CALL_MS = 20_000;
/** an idle pod of a pool this daemon does not keep is removed once this old (another daemon may still be starting up with it) */
const STALE_AFTER_MS = 10 * 60_000;

export interface WarmPoolStatus {
  readonly key: string;
  readonly size: number;
  /** idle and ready to be claimed */
  readonly ready: number;
  /** idle, not running yet */
  readonly starting: number;
  /** why the pool is short, if it is */
  readonly shortBecause?: string;
}

export class WarmPool {
  readonly key: string;
  private closed = false;
  private running = false;
  private again = false;
  private retryAt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly keepalive: NodeJS.Timeout;
  private shortBecause: string | undefined;
  /** pods whose channel is open (by uid) */
  private readonly primed = new Set<string>();
  /** pods created and not yet seen in the cache (name → when) */
  private readonly inFlight = new Map<string, number>();
  private readonly unsubscribe: () => void;
  private readonly cityDir: string;

  constructor(
    private readonly deps: SessionDeps,
    readonly size: number,
    /** whether a pool of that key is kept here (its idle pods are not stale) */
    private readonly kept: (key: string) => boolean = (key) => key === this.key,
  ) {
    this.cityDir = deps.origin?.cityDir ?? '';
    this.key = warmKey(deps.settings, this.cityDir);
    this.unsubscribe = deps.client.agentPods.subscribe((e) => {
      if (e.object.labels[LABEL_POOL] === this.key) this.poke();
    });
    this.keepalive = setInterval(() => {
      this.primed.clear();
      this.poke();
    }, KEEPALIVE_MS);
    this.keepalive.unref();
    this.poke();
  }

  status(): WarmPoolStatus {
    const idle = this.idle();
    const ready = idle.filter((p) => this.isReady(p)).length;
    return {
      key: this.key,
      size: this.size,
      ready,
      starting: idle.length - ready,
      ...(this.shortBecause === undefined ? {} : { shortBecause: this.shortBecause }),
    };
  }

  /** Idle pods ready to be claimed, those with an open channel first, oldest first. */
  candidates(): Pod[] {
    return this.idle()
      .filter((p) => this.isReady(p))
      .sort(
        (a, b) => Number(this.primed.has(b.uid)) - Number(this.primed.has(a.uid)) || a.creationTimestamp.localeCompare(b.creationTimestamp),
      );
  }

  /** A pod was taken (or lost): refill. */
  poke(): void {
    if (this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    void this.reconcile()
      .catch((err: unknown) => {
        this.deps.log.warn({ err, pool: this.key }, 'warm pool: reconcile failed');
      })
      .finally(() => {
        this.running = false;
        if (this.again) {
          this.again = false;
          this.poke();
        }
      });
  }

  close(): void {
    this.closed = true;
    this.unsubscribe();
    clearInterval(this.keepalive);
    clearTimeout(this.retryTimer);
  }

  private idle(): Pod[] {
    return this.deps.client.agentPods
      .list()
      .filter((p) => p.labels[LABEL_POOL] === this.key && isWarmIdle(p) && p.deletionTimestamp === undefined);
  }

  private isReady(p: Pod): boolean {
    return classifyPod(p).kind === 'running';
  }

  private async reconcile(): Promise<void> {
    const signal = withTimeout(undefined, CALL_MS);
    await this.deps.client.agentPods.synced({ signal });
    const idle = this.idle();
    // a warm pod whose container ended (OOM, node trouble) is of no use to anyone
    for (const dead of idle.filter((p) => classifyPod(p).kind === 'completed')) {
      await this.deps.client.pods.delete(dead.name, { uid: dead.uid, signal }).catch((err: unknown) => {
        this.deps.log.warn({ err, pod: dead.name }, 'warm pool: could not remove a dead warm pod');
      });
    }
    // idle pods of this city from a pool nobody keeps any more (its settings changed): their
    // shape will never be claimed
    const now0 = Date.now();
    const stale = this.deps.client.agentPods
      .list()
      .filter(
        (p) =>
          isWarmIdle(p) &&
          p.deletionTimestamp === undefined &&
          (p.annotations[ANNOTATION_CITY] ?? '') === this.cityDir &&
          !this.kept(p.labels[LABEL_POOL] ?? '') &&
          now0 - Date.parse(p.creationTimestamp) > STALE_AFTER_MS,
      );
    for (const p of stale) {
      this.deps.log.info({ pod: p.name, pool: p.labels[LABEL_POOL] }, 'warm pool: removing an idle pod of a pool no longer kept');
      await this.deps.client.pods.delete(p.name, { uid: p.uid, signal }).catch(() => undefined);
    }
    const live = idle.filter((p) => classifyPod(p).kind !== 'completed');
    for (const p of live) if (this.isReady(p) && !this.primed.has(p.uid)) await this.prime(p);
    // made here but not in the watch cache yet: counted, or the pool would overshoot
    const now = Date.now();
    for (const [name, at] of this.inFlight)
      if (this.deps.client.agentPods.get(name) !== undefined || now - at > CALL_MS) this.inFlight.delete(name);
    let missing = this.size - live.length - this.inFlight.size;
    while (missing > 0 && !this.closed) {
      if (Date.now() < this.retryAt) return;
      if (!(await this.makeOne(signal))) return;
      missing--;
    }
    if (missing <= 0) this.shortBecause = undefined;
  }

  /** Opens the pod's exec channel now, so a claim pays for no WebSocket handshake. */
  private async prime(pod: Pod): Promise<void> {
    try {
      const r = await this.deps.runner.run(pod, AGENT_CONTAINER, ['true'], { signal: withTimeout(undefined, CALL_MS) });
      if (r.exitCode === 0) this.primed.add(pod.uid);
    } catch (err) {
      this.deps.log.debug({ err, pod: pod.name }, 'warm pool: could not open the channel of a warm pod yet');
    }
  }

  private async makeOne(signal: AbortSignal): Promise<boolean> {
    const { pod } = buildWarmPod(this.deps.settings, this.cityDir, randomBytes(3).toString('hex'));
    try {
      this.inFlight.set(pod.metadata.name, Date.now());
      await this.deps.client.pods.create(pod, { signal }).catch((err: unknown) => {
        this.inFlight.delete(pod.metadata.name);
        throw err;
      });
      this.deps.log.info({ pod: pod.metadata.name, pool: this.key }, 'warm pool: pod created');
      return true;
    } catch (err) {
      const why = hasCode(err, 'QUOTA_EXCEEDED')
        ? `the namespace quota has no room: ${messageOf(err)}`
        : `creating a warm pod failed: ${describeError(err)}`;
      if (why !== this.shortBecause)
        this.deps.log.warn({ pool: this.key, size: this.size, have: this.idle().length }, `warm pool stops short: ${why}`);
      this.shortBecause = why.slice(0, 500);
      this.retryAt = Date.now() + RETRY_MS;
      clearTimeout(this.retryTimer);
      this.retryTimer = setTimeout(() => {
        this.poke();
      }, RETRY_MS);
      this.retryTimer.unref();
      return false;
    }
  }
}
