// The beads runtime of one namespace: the runner, one persistent bd channel per store, and the
// bookkeeping that makes a lost runner invisible to callers. Calls on one store are serialized
// (bd's read-modify-write flags are not atomic across processes, and the channel is serial);
// different stores run in parallel. When the runner is new (its uid changed), every store in
// the registry is re-initialized before it is used again.

import type { Pod } from '../kube/types.js';
import type { PodSettings } from '../session/settings.js';
import type { Clock, NamespaceClient } from '../kube/ports.js';
import { GcK8sError, hasCode, messageOf } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { KeyedMutex } from '../util/keyed-mutex.js';
import { ChannelPool } from '../exec/channel-pool.js';
import type { FramedChannel } from '../exec/framed-channel.js';
import { Semaphore } from '../util/semaphore.js';
import { openBdChannel, runBd } from './bd/channel.js';
import { RESET_STORE, type BdReply } from './bd/program.js';
import type { BdRun } from './bd/ops.js';
import { StoreRegistry, type StoreRecord } from './registry.js';
import { Runner } from './runner/runner.js';
import { RUNNER_CONTAINER, RUNNER_POD } from './runner/manifest.js';
import { initDatabase, initStore } from './bd/store-init.js';

/**
 * Open channels each hold an exec slot of the cluster client (shared with sessions), so only the
 * most recently used stores keep one; an idle channel is closed after a while, and re-opening
 * one costs an exec handshake, not a re-init.
 */
const MAX_CHANNELS = 6;
const CHANNEL_IDLE_MS = 120_000;
/** bd v1.0.0's file-backed Dolt circuit breaker: its message and its cooldown (5 s), plus margin. */
const BREAKER_OPEN = /circuit breaker is open/i;
const BREAKER_COOLDOWN_MS = 5_500;
/** Stores re-initialized at once after a runner replacement, each on a short-lived channel. */
const REINIT_PARALLEL = 3;

/** Errors after which a fresh channel (and maybe a fresh runner) may succeed. */
function channelLost(err: unknown): boolean {
  return hasCode(err, 'EXEC_FAILED', 'CONTAINER_NOT_RUNNING', 'EXEC_NO_STATUS', 'K8S_UNAVAILABLE', 'NOT_FOUND');
}

function sameDolt(a: StoreRecord, b: StoreRecord): boolean {
  return a.host === b.host && a.port === b.port && a.user === b.user && a.database === b.database && a.prefix === b.prefix;
}

export interface StoreCall {
  readonly workdir: string;
  /** record to register when the store is unknown (from init, or a store op's env) */
  readonly fallback?: StoreRecord;
  /** safe to run twice (reads): retried once when the channel broke mid-call */
  readonly idempotent: boolean;
  /** every call through bd itself, never gc-bd-serve's in-process writes (config beads_fast_writes) */
  readonly bdOnly?: boolean;
}

/** Channels are per store and per kind (gc-bd-serve or the bash loop around bd). */
function channelKey(workdir: string, bdOnly: boolean): string {
  return bdOnly ? `${workdir}\0bd` : workdir;
}

/** Where a store's data lives in Dolt. */
export interface StoreDatabase {
  readonly record: StoreRecord;
  readonly database: string;
}

export class BeadsService {
  readonly registry: StoreRegistry;
  private readonly locks = new KeyedMutex();
  private readonly channels: ChannelPool;
  /** `${runnerUid}\0${workdir}` → the init of that store on that runner */
  private readonly inits = new Map<string, Promise<void>>();
  /** workdir → its record and database, read from the registry once (see storeDatabase) */
  private readonly stores = new Map<string, StoreDatabase>();
  private runnerUid: string | undefined;
  /** bulk re-inits run a few at a time, each on a channel of its own */
  private readonly reinits = new Semaphore(REINIT_PARALLEL);

  constructor(
    private readonly client: NamespaceClient,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {
    this.registry = new StoreRegistry(client.configMaps);
    this.channels = new ChannelPool({ idleMs: CHANNEL_IDLE_MS, max: MAX_CHANNELS, now: () => clock.now() });
  }

  /**
   * The store's record and Dolt database, named from the registry as our init names it for bd
   * (initDatabase). The data lives in Dolt, so this holds while the runner is gone and right
   * after a daemon restart.
   */
  async storeDatabase(workdir: string, signal: AbortSignal): Promise<StoreDatabase | undefined> {
    let store = this.stores.get(workdir);
    if (store === undefined) {
      // The registry unreadable: no direct route now; the bd path reports the outage itself.
      const record = await this.registry.get(workdir, signal).catch((err: unknown) => {
        this.log.warn({ workdir, err }, 'reading the store registry failed; reads go through bd');
        return undefined;
      });
      if (record === undefined) return undefined;
      store = { record, database: initDatabase(record) };
      this.stores.set(workdir, store);
    }
    return store;
  }

  /** Number of open channels (each holds an exec). */
  get openChannels(): number {
    return this.channels.open;
  }

  runner(settings: PodSettings): Runner {
    return new Runner({ pods: this.client.pods, settings, clock: this.clock, log: this.log });
  }

  /** Runs `fn` with exclusive use of the store's bd, its runner up and the store initialized. */
  async withStore<T>(settings: PodSettings, call: StoreCall, signal: AbortSignal, fn: (run: BdRun) => Promise<T>): Promise<T> {
    return this.locks.run(call.workdir, async () => {
      for (let attempt = 0; ; attempt++) {
        const channel = await this.channelFor(settings, call, signal);
        const state = { sent: false };
        const run: BdRun = (argv) => {
          state.sent = true;
          return runBd(channel, argv, signal);
        };
        try {
          return await fn(run);
        } catch (err) {
          // A channel that died before anything was sent, or under a read, is retried once on a
          // fresh one; a write that may have happened is not replayed.
          if (attempt > 0 || signal.aborted || !channelLost(err) || channel.alive || (state.sent && !call.idempotent)) throw err;
          this.log.info({ workdir: call.workdir, err }, 'bd channel lost; retrying on a new one');
        }
      }
    });
  }

  /** One-off bd call in a store (used by init and health). */
  async runOnce(settings: PodSettings, call: StoreCall, argv: readonly string[], signal: AbortSignal): Promise<BdReply> {
    return this.withStore(settings, call, signal, (run) => run(argv));
  }

  /** Registers a store and initializes it now (the `init` op). */
  async init(settings: PodSettings, record: StoreRecord, signal: AbortSignal): Promise<void> {
    this.stores.delete(record.workdir);
    const previous = await this.registry.get(record.workdir, signal);
    await this.registry.put(record, signal);
    await this.locks.run(record.workdir, async () => {
      const pod = await this.ensureRunner(settings, signal, record.workdir);
      // init is also how gc says "the settings changed": always run it, not just once per runner.
      this.inits.delete(`${pod.uid}\0${record.workdir}`);
      if (previous !== undefined && !sameDolt(previous, record)) {
        // bd keeps the Dolt coordinates in .beads; only a fresh `bd init` points it elsewhere.
        this.log.info({ workdir: record.workdir }, 'store moved to another Dolt; re-initializing its .beads');
        const ch = this.channel(pod, record.workdir);
        const r = await runBd(ch, [RESET_STORE], signal);
        if (r.exitCode !== 0) throw new GcK8sError('EXEC_NONZERO', `init ${record.workdir}: resetting .beads: ${r.stderr.trim()}`);
      }
      await this.initOn(pod, record, signal);
    });
  }

  /** `first`: the store the caller is about to use; it is initialized in the foreground. */
  async ensureRunner(settings: PodSettings, signal: AbortSignal, first?: string): Promise<Pod> {
    const pod = await this.runner(settings).ensure(signal);
    if (pod.uid !== this.runnerUid) {
      if (this.runnerUid !== undefined)
        this.log.info({ old: this.runnerUid, new: pod.uid }, 'beads runner was replaced; re-initializing stores');
      this.runnerUid = pod.uid;
      this.channels.dropWhere(() => true, 'runner replaced');
      this.inits.clear();
      // Bring every known store back in the background (not tied to this request, which may end
      // first); each store's first call awaits its own.
      void this.registry.list(AbortSignal.timeout(30_000)).then(
        (records) => {
          for (const r of records.filter((x) => x.workdir !== first))
            this.initOn(pod, r, AbortSignal.timeout(120_000), true).catch((err: unknown) => {
              this.log.warn({ workdir: r.workdir, err }, 're-initializing store failed');
            });
        },
        (err: unknown) => {
          this.log.warn({ err }, 'reading the store registry failed');
        },
      );
    }
    return pod;
  }

  /**
   * recover: a runner that is not ready is replaced, channels are reopened and every registered
   * store is re-initialized now (not lazily), so the health check that follows sees them all.
   */
  async recover(settings: PodSettings, signal: AbortSignal): Promise<void> {
    this.channels.dropWhere(() => true, 'recover');
    this.inits.clear();
    const pod = await this.ensureRunner(settings, signal);
    const records = await this.registry.list(signal);
    const failures: string[] = [];
    const init = (r: StoreRecord): Promise<void> => this.locks.run(r.workdir, () => this.initOn(pod, r, signal, true));
    await Promise.all(
      records.map((r) =>
        init(r)
          .catch(async (err: unknown) => {
            // bd's circuit breaker (shared by every bd in the runner) stays open for a cooldown
            // after an outage even though Dolt answers again: wait it out once.
            if (!BREAKER_OPEN.test(messageOf(err))) throw err;
            this.log.info({ workdir: r.workdir }, "bd's Dolt circuit breaker is open; retrying after its cooldown");
            await this.clock.sleep(BREAKER_COOLDOWN_MS, signal);
            await init(r);
          })
          .catch((err: unknown) => {
            failures.push(`${r.workdir}: ${messageOf(err)}`);
          }),
      ),
    );
    if (failures.length > 0) throw new GcK8sError('EXEC_NONZERO', `recover: re-initializing stores failed: ${failures.join('; ')}`);
  }

  /** A one-off exec in the ready runner (checks that need no store). */
  async execInRunner(command: readonly string[], signal: AbortSignal): Promise<BdReply> {
    const r = await this.client.exec.exec({ pod: RUNNER_POD, container: RUNNER_CONTAINER, command, signal, maxOutputBytes: 1 << 20 });
    return { exitCode: r.exitCode, stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8') };
  }

  /** Forgets the runner (stop): the next call recreates it. */
  forgetRunner(): void {
    this.channels.dropWhere(() => true, 'runner stopped');
    this.inits.clear();
    this.runnerUid = undefined;
  }

  close(): void {
    this.forgetRunner();
    this.channels.close();
  }

  /** Closes channels unused since `before` (ms epoch) that have nothing in flight. */
  closeIdle(before: number): void {
    this.channels.closeIdle(before);
  }

  private async channelFor(settings: PodSettings, call: StoreCall, signal: AbortSignal): Promise<FramedChannel> {
    const bdOnly = call.bdOnly === true;
    const existing = this.channels.get(channelKey(call.workdir, bdOnly));
    if (existing?.alive === true && this.inits.has(`${this.runnerUid ?? ''}\0${call.workdir}`)) return existing;
    const pod = await this.ensureRunner(settings, signal, call.workdir);
    let record = await this.registry.get(call.workdir, signal);
    if (record === undefined) {
      if (call.fallback === undefined) {
        throw new GcK8sError(
          'BAD_REQUEST',
          `beads store ${call.workdir} is not initialized: run \`gc-beads-k8s init <dir> <prefix>\` (gc start does)`,
        );
      }
      record = call.fallback;
      await this.registry.put(record, signal);
    }
    await this.initOn(pod, record, signal);
    return this.channel(pod, call.workdir, bdOnly);
  }

  private channel(pod: Pod, workdir: string, bdOnly = false): FramedChannel {
    const key = channelKey(workdir, bdOnly);
    const existing = this.channels.get(key);
    if (existing !== undefined && pod.uid === this.runnerUid) return existing;
    return this.channels.add(
      key,
      openBdChannel(this.client.exec, { pod: RUNNER_POD, container: RUNNER_CONTAINER, workdir, bdOnly }, this.log, () => this.clock.now()),
    );
  }

  /** Runs `work` on a channel of its own that is closed afterwards, a few at a time. */
  private async transient<T>(workdir: string, signal: AbortSignal, work: (ch: FramedChannel) => Promise<T>): Promise<T> {
    const release = await this.reinits.acquire(signal, `re-initializing ${workdir}`);
    const ch = openBdChannel(this.client.exec, { pod: RUNNER_POD, container: RUNNER_CONTAINER, workdir }, this.log, () => this.clock.now());
    try {
      return await work(ch);
    } finally {
      ch.close('done');
      release();
    }
  }

  /**
   * Initializes a store on this runner once; concurrent callers share the same attempt.
   * `transient`: on a short-lived channel (bulk re-init must not pin a channel per store).
   */
  private initOn(pod: Pod, record: StoreRecord, signal: AbortSignal, transient = false): Promise<void> {
    const key = `${pod.uid}\0${record.workdir}`;
    let p = this.inits.get(key);
    if (p === undefined) {
      if (transient) {
        p = this.transient(record.workdir, signal, (ch) => initStore((argv) => runBd(ch, argv, signal), record));
      } else {
        const ch = this.channel(pod, record.workdir);
        p = initStore((argv) => runBd(ch, argv, signal), record);
      }
      this.inits.set(key, p);
      p.catch(() => {
        if (this.inits.get(key) === p) this.inits.delete(key);
      });
    }
    return p;
  }
}
