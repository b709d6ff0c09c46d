// Lease-based leader election (GC_K8S_LEADER_LEASE): when two daemons run at once (a rollout, a
// split brain), exactly one acts on sessions. Standard Lease semantics, as client-go's
// leaderelection: the holder renews renewTime every retry period; another candidate may take the
// Lease only once it has seen the same record unchanged for leaseDurationSeconds of its own clock
// (so clocks need not agree), or at once when the holder released it (holderIdentity ""); every
// write carries the resourceVersion read, so of two writers one gets CONFLICT. The leader steps
// down as soon as it sees another holder, and when it could not renew within the renew deadline
// (before anyone else may take over). Each term has an AbortSignal that fires on stepping down:
// ops running under it stop at once.

import { hasCode, messageOf } from '../errors.js';
import type { LeaseApi } from '../kube/ports.js';
import type { Lease, LeaseRecord } from '../kube/types.js';
import type { Logger } from '../log/logger.js';

export interface LeaderOptions {
  readonly api: LeaseApi;
  readonly name: string;
  /** this daemon, unique among candidates (pod name and pid) */
  readonly identity: string;
  readonly leaseDurationMs?: number;
  /** a leader that could not renew for this long steps down (less than the duration) */
  readonly renewDeadlineMs?: number;
  readonly retryPeriodMs?: number;
  readonly now?: () => number;
  readonly log: Logger;
}

export interface LeaderStatus {
  readonly lease: string;
  readonly leading: boolean;
  /** who holds it as last seen ('' none, or not read yet: see `seen`) */
  readonly holder: string;
  /** whether this daemon has read the Lease at all (its first read may still be under way or failing) */
  readonly seen: boolean;
  readonly identity: string;
}

/** The holder as a refusal names it. */
export function holderText(status: LeaderStatus): string {
  if (status.holder !== '') return status.holder;
  return status.seen ? 'no daemon (an election is under way)' : 'a daemon this one has not seen yet (it could not read the lease yet)';
}

export const LEASE_DURATION_MS = 15_000;
export const RENEW_DEADLINE_MS = 10_000;
export const RETRY_PERIOD_MS = 2_000;
/** each Lease request's own deadline */
const CALL_MS = 5_000;

export class LeaderElector {
  private readonly durationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryMs: number;
  private readonly now: () => number;
  /** the record as last seen, and when (our clock) it was first seen as it is */
  private seen: Lease | undefined;
  private seenAt = 0;
  private lastRenewAt = 0;
  private term: AbortController | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly listeners: ((leading: boolean) => void)[] = [];
  /** resolved when the first round (acquire or read) has ended, however it ended */
  private readonly firstRound: Promise<void>;
  private firstRoundEnded: () => void = () => undefined;

  constructor(private readonly options: LeaderOptions) {
    this.durationMs = options.leaseDurationMs ?? LEASE_DURATION_MS;
    this.renewDeadlineMs = options.renewDeadlineMs ?? RENEW_DEADLINE_MS;
    this.retryMs = options.retryPeriodMs ?? RETRY_PERIOD_MS;
    this.now = options.now ?? Date.now;
    if (!(this.retryMs < this.renewDeadlineMs && this.renewDeadlineMs < this.durationMs))
      throw new Error('leader election: expected retry period < renew deadline < lease duration');
    this.firstRound = new Promise((resolve) => (this.firstRoundEnded = resolve));
  }

  /**
   * Resolves once the first round has ended (or at `signal`), so a call that arrives while a new
   * daemon's first round is still out is judged on what that round found, not refused blind.
   */
  async settled(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return;
    let onAbort: () => void = () => undefined;
    const aborted = new Promise<void>((resolve) => {
      onAbort = () => {
        resolve();
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
    await Promise.race([this.firstRound, aborted]);
    signal.removeEventListener('abort', onAbort);
  }

  /** True while this daemon holds the Lease and renewed it within the renew deadline. */
  get leading(): boolean {
    if (this.term === undefined) return false;
    if (this.now() - this.lastRenewAt >= this.renewDeadlineMs) {
      this.stepDown(`could not renew lease ${this.options.name} for ${Math.round(this.renewDeadlineMs / 1000)} s`);
      return false;
    }
    return true;
  }

  status(): LeaderStatus {
    const leading = this.leading;
    return {
      lease: this.options.name,
      leading,
      holder: leading ? this.options.identity : (this.seen?.holderIdentity ?? ''),
      seen: leading || this.seen !== undefined,
      identity: this.options.identity,
    };
  }

  /** Fires when this term ends; an aborted signal when not leading. */
  termSignal(): AbortSignal {
    return this.leading && this.term !== undefined ? this.term.signal : AbortSignal.abort(new Error('not the leader'));
  }

  /** Called with true on becoming leader, false on stepping down. */
  onChange(listener: (leading: boolean) => void): void {
    this.listeners.push(listener);
  }

  /** Campaigns (and renews) on a timer until stop(). */
  start(): void {
    this.stopped = false;
    const tick = async (): Promise<void> => {
      await this.tryOnce();
      if (this.stopped) return;
      this.timer = setTimeout(() => void tick(), this.retryMs);
      this.timer.unref();
    };
    void tick();
  }

  /**
   * One round: acquire or renew. Returns whether this daemon leads afterwards. Never throws: an
   * unreachable API server leaves a leader leading until its renew deadline passes.
   */
  async tryOnce(): Promise<boolean> {
    try {
      return await this.round();
    } finally {
      this.firstRoundEnded();
    }
  }

  private async round(): Promise<boolean> {
    const signal = AbortSignal.timeout(CALL_MS);
    const { api, name, identity } = this.options;
    try {
      // a leader renews at the version it wrote last (one request); anyone else reads first
      let current = this.term !== undefined && this.seen !== undefined ? this.seen : await api.get(name, { signal });
      const now = this.now();
      if (current === undefined) {
        const made = await api.create(this.record(undefined, now), { signal });
        this.observe(made, now);
        this.renewed(now);
        return true;
      }
      if (this.term === undefined) this.observe(current, now);
      const other = current.holderIdentity !== '' && current.holderIdentity !== identity;
      const expiresAt = this.seenAt + Math.max(current.leaseDurationSeconds * 1000, 1_000);
      if (other && now < expiresAt) {
        this.stepDown(`lease ${name} is held by ${current.holderIdentity}`);
        return false;
      }
      try {
        const written = await api.update(this.record(current, now), current.resourceVersion, { signal });
        this.observe(written, now);
        this.renewed(now);
        return true;
      } catch (err) {
        if (!hasCode(err, 'CONFLICT')) throw err;
        // someone wrote it since we read it: read again and judge the new record
        current = await api.get(name, { signal });
        if (current !== undefined) this.observe(current, this.now());
        if (current !== undefined && current.holderIdentity !== identity && current.holderIdentity !== '') {
          this.stepDown(`lease ${name} was taken by ${current.holderIdentity}`);
        }
        return this.leading;
      }
    } catch (err) {
      if (this.term !== undefined) this.options.log.warn({ err, lease: name }, 'could not renew the leader lease');
      else this.options.log.debug({ err, lease: name }, 'could not read the leader lease');
      if (hasCode(err, 'ALREADY_EXISTS')) this.seen = undefined; // made by another meanwhile: read it next round
      return this.leading;
    }
  }

  /** Stops campaigning; a leader gives the Lease up so the next daemon takes over at once. */
  async release(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    const held = this.term !== undefined ? this.seen : undefined;
    this.stepDown('released');
    if (held === undefined) return;
    const now = this.now();
    const record: LeaseRecord = {
      name: this.options.name,
      holderIdentity: '',
      leaseDurationSeconds: 1,
      acquireTimeMs: held.acquireTimeMs,
      renewTimeMs: now,
      leaseTransitions: held.leaseTransitions,
    };
    try {
      await this.options.api.update(record, held.resourceVersion, { signal: AbortSignal.timeout(CALL_MS) });
      this.options.log.info({ lease: this.options.name }, 'released the leader lease');
    } catch (err) {
      this.options.log.warn({ err: messageOf(err), lease: this.options.name }, 'could not release the leader lease (it expires)');
    }
  }

  private record(current: Lease | undefined, now: number): LeaseRecord {
    const ours = current?.holderIdentity === this.options.identity;
    return {
      name: this.options.name,
      holderIdentity: this.options.identity,
      leaseDurationSeconds: Math.ceil(this.durationMs / 1000),
      acquireTimeMs: ours ? current.acquireTimeMs : now,
      renewTimeMs: now,
      leaseTransitions: current === undefined ? 0 : ours ? current.leaseTransitions : current.leaseTransitions + 1,
    };
  }

  /** Remembers the record; the expiry clock restarts whenever it changed. */
  private observe(lease: Lease, now: number): void {
    if (this.seen?.resourceVersion !== lease.resourceVersion) this.seenAt = now;
    this.seen = lease;
  }

  private renewed(now: number): void {
    this.lastRenewAt = now;
    if (this.term !== undefined) return;
    this.term = new AbortController();
    this.options.log.info({ lease: this.options.name, identity: this.options.identity }, 'became the leader: acting on sessions');
    for (const l of this.listeners) l(true);
  }

  private stepDown(why: string): void {
    const term = this.term;
    if (term === undefined) return;
    this.term = undefined;
    term.abort(new Error(`no longer the leader: ${why}`));
    this.options.log.warn({ lease: this.options.name, why }, 'stepped down: not acting on sessions');
    for (const l of this.listeners) l(false);
  }
}
