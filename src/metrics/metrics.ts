// The daemon's own metrics in the Prometheus text format, through prom-client: per op latency and
// outcome, errors by stable code, API requests of each kube context's client, watch caches, and
// the process. Label values are bounded sets (provider, op, outcome, error code, verb, resource,
// context); a session name is never a label.

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** 0.5 ms (a cached is-running) to 120 s (a start's longest deadline) */
export const OP_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

/** A client's request counters (src/k8s/stats.ts's RequestStats). */
export interface ApiCounts {
  readonly byRequest: Readonly<Record<string, number>>;
  /** "verb resource status" → count */
  readonly byResponse?: Readonly<Record<string, number>>;
  readonly retries: number;
  readonly rateLimitedMs: number;
  readonly throttledMs: number;
}

/** A watch cache's health (the reflector's status). */
export interface CacheHealth {
  readonly context: string;
  readonly namespace: string;
  readonly synced: boolean;
  readonly fresh: boolean;
  readonly restarts: number;
  readonly objects: number;
  /** seconds since the watch last proved alive (an event, a bookmark, bytes); undefined before it ever did */
  readonly ageSeconds?: number;
  /** LISTs that verified the cache after the watch went quiet */
  readonly verifications?: number;
}

/** What one (context, namespace) of the daemon holds and did, read at scrape time. */
export interface NamespaceFigures {
  readonly context: string;
  readonly namespace: string;
  /** agent pods by session phase (starting, running, ended, failed, stopping, warm); empty until the cache synced */
  readonly phases: Readonly<Record<string, number>>;
  /** each session's phase: only read when session labels are on */
  sessions(): readonly { readonly session: string; readonly phase: string }[];
  readonly exec: { readonly open: number; readonly opened: number; readonly broken: number; readonly oneShot: number };
  readonly events:
    { readonly written: number; readonly watchers: number; readonly latestSeq: number; readonly watchLagSeqs: number } | undefined;
  /** beads ops by path (dolt, bd-serve, bd) and direct reads that fell back (fallback) */
  readonly beads: Readonly<Record<string, number>>;
  readonly dolt: { readonly pools: number; readonly down: number } | undefined;
}

/** What the metrics read at scrape time, from the daemon's runtimes. */
export interface MetricSources {
  /** per kube context ('' = the kubeconfig's current one) */
  apiCounts(): Promise<Readonly<Record<string, ApiCounts>>>;
  caches(): readonly CacheHealth[];
  namespaces(): readonly NamespaceFigures[];
  /** why the daemon is not ready (what /readyz answers); empty when it is */
  notReady(): Promise<readonly string[]>;
}

export interface MetricsOptions {
  /** the Node process's own metrics (default on) */
  readonly processMetrics?: boolean;
  /** one series per session (gc_k8s_session_phase): for small cities only, it grows with them */
  readonly sessionLabels?: boolean;
}

/** Why a start failed, as a bounded word (details.reason of the error, else from its code). */
export const START_FAILURE_REASONS = [
  'ImagePull',
  'ContainerConfig',
  'Unschedulable',
  'Quota',
  'DiedAtStart',
  'Timeout',
  'APIUnavailable',
  'Exists',
  'Initializing',
  'Incompatible',
  'Config',
  'Forbidden',
  'Aborted',
  'Other',
] as const;
export type StartFailureReason = (typeof START_FAILURE_REASONS)[number];

export type OpOutcome = 'ok' | 'exit' | 'error';

export class DaemonMetrics {
  readonly registry = new Registry();
  private readonly opSeconds: Histogram<'provider' | 'op' | 'outcome'>;
  private readonly opErrors: Counter<'provider' | 'op' | 'code'>;
  private readonly startSeconds: Histogram;
  private readonly startFailures: Counter<'reason'>;

  constructor(sources: MetricSources, options: MetricsOptions = {}) {
    const registers = [this.registry];
    this.opSeconds = new Histogram({
      name: 'gc_k8s_op_duration_seconds',
      help: 'Duration of exec-provider ops served by the daemon, by provider, op and outcome (ok: exit 0; exit: another exit status; error: failed with an error code).',
      labelNames: ['provider', 'op', 'outcome'],
      buckets: OP_BUCKETS,
      registers,
    });
    this.opErrors = new Counter({
      name: 'gc_k8s_op_errors_total',
      help: "Ops that failed, by provider, op and gc-k8s's stable error code.",
      labelNames: ['provider', 'op', 'code'],
      registers,
    });
    // one scrape reads every client's counters once and sets the three families from them
    let read: Promise<void> | undefined;
    const collect = (): Promise<void> => readCounts();
    const requests = new Counter({
      name: 'gc_k8s_api_requests_total',
      help: 'Kubernetes API requests sent (retries included), by kube context, verb and resource.',
      labelNames: ['context', 'verb', 'resource'],
      registers,
      collect,
    });
    const responses = new Counter({
      name: 'gc_k8s_api_responses_total',
      help: 'Kubernetes API responses, by kube context, verb, resource and HTTP status ("error": no response: refused, reset, TLS, timeout). Exec upgrades are counted in requests only.',
      labelNames: ['context', 'verb', 'resource', 'status'],
      registers,
      collect,
    });
    const retries = new Counter({
      name: 'gc_k8s_api_retries_total',
      help: 'API requests retried after 429, 401 or a reset keep-alive connection, by kube context.',
      labelNames: ['context'],
      registers,
      collect,
    });
    const waited = new Counter({
      name: 'gc_k8s_api_wait_seconds_total',
      help: "Time API requests waited: reason=rate_limit for the client-side limiter, reason=retry_after for the server's 429 Retry-After.",
      labelNames: ['context', 'reason'],
      registers,
      collect,
    });
    const readCounts = (): Promise<void> =>
      (read ??= sources
        .apiCounts()
        .then((all) => {
          for (const m of [requests, responses, retries, waited]) m.reset();
          for (const [context, c] of Object.entries(all)) {
            for (const [key, n] of Object.entries(c.byRequest)) {
              const space = key.indexOf(' ');
              requests.inc({ context, verb: key.slice(0, space), resource: key.slice(space + 1) }, n);
            }
            for (const [key, n] of Object.entries(c.byResponse ?? {})) {
              const [verb = '', resource = '', status = ''] = key.split(' ');
              responses.inc({ context, verb, resource, status }, n);
            }
            retries.inc({ context }, c.retries);
            waited.inc({ context, reason: 'rate_limit' }, c.rateLimitedMs / 1000);
            waited.inc({ context, reason: 'retry_after' }, c.throttledMs / 1000);
          }
        })
        .finally(() => {
          read = undefined;
        }));
    const cacheGauge = (name: string, help: string, value: (c: CacheHealth) => number): void => {
      new Gauge({
        name,
        help,
        labelNames: ['context', 'namespace'],
        registers,
        collect() {
          this.reset();
          for (const c of sources.caches()) this.set({ context: c.context, namespace: c.namespace }, value(c));
        },
      });
    };
    cacheGauge('gc_k8s_watch_cache_synced', '1 when the agent pod watch cache of a (context, namespace) has synced.', (c) =>
      Number(c.synced),
    );
    cacheGauge(
      'gc_k8s_watch_cache_fresh',
      '1 when that watch has made progress recently enough for reads to trust it without a LIST.',
      (c) => Number(c.fresh),
    );
    cacheGauge('gc_k8s_watch_cache_objects', 'Agent pods in that watch cache.', (c) => c.objects);
    cacheGauge(
      'gc_k8s_watch_cache_age_seconds',
      'Seconds since that watch last proved alive (an event, a bookmark or bytes received).',
      (c) => c.ageSeconds ?? Number.NaN,
    );
    cacheGauge(
      'gc_k8s_watch_relists',
      'LISTs that verified that cache after its watch went quiet, since the daemon started.',
      (c) => c.verifications ?? 0,
    );
    cacheGauge(
      'gc_k8s_watch_restarts',
      'Times that watch was restarted (drops, 410 Gone, stalls), since the daemon started.',
      (c) => c.restarts,
    );
    this.startSeconds = new Histogram({
      name: 'gc_k8s_session_start_duration_seconds',
      help: 'Time from a start request to its session being ready (tmux up, agent launched), for starts that succeeded.',
      buckets: OP_BUCKETS,
      registers,
    });
    this.startFailures = new Counter({
      name: 'gc_k8s_session_start_failures_total',
      help: `Starts that failed, by reason (${START_FAILURE_REASONS.join(', ')}).`,
      labelNames: ['reason'],
      registers,
    });
    for (const reason of START_FAILURE_REASONS) this.startFailures.inc({ reason }, 0);
    new Gauge({
      name: 'gc_k8s_ready',
      help: '1 when the daemon is ready (its socket listens, every namespace watch is synced, fresh and reaches the API server): what /readyz answers.',
      registers,
      async collect() {
        this.set((await sources.notReady()).length === 0 ? 1 : 0);
      },
    });
    this.namespaceFamilies(sources, options.sessionLabels === true);
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'gc_k8s_' });
  }

  /** A session start that ended ready, after this many seconds. */
  startReady(seconds: number): void {
    this.startSeconds.observe(seconds);
  }

  /** A session start that failed, and why. */
  startFailed(reason: StartFailureReason): void {
    this.startFailures.inc({ reason });
  }

  /** Families read from each namespace the daemon serves, at scrape time. */
  private namespaceFamilies(sources: MetricSources, sessionLabels: boolean): void {
    const registers = [this.registry];
    const labelNames = ['context', 'namespace'] as const;
    type Figures = NamespaceFigures;
    // A scrape calls every family's collect in one synchronous pass: read the namespaces once for
    // that pass (phases, runtime stats) rather than once per family.
    let snapshot: readonly Figures[] | undefined;
    const namespaces = (): readonly Figures[] => {
      if (snapshot === undefined) {
        snapshot = sources.namespaces();
        queueMicrotask(() => (snapshot = undefined));
      }
      return snapshot;
    };
    const each = (
      kind: 'gauge' | 'counter',
      name: string,
      help: string,
      values: (n: Figures) => readonly (readonly [Record<string, string>, number])[],
      extra: readonly string[] = [],
    ): void => {
      const collect = function (this: Gauge | Counter): void {
        this.reset();
        for (const n of namespaces()) {
          for (const [labels, value] of values(n)) {
            const all = { context: n.context, namespace: n.namespace, ...labels };
            if (this instanceof Gauge) this.set(all, value);
            else this.inc(all, value);
          }
        }
      };
      const config = { name, help, labelNames: [...labelNames, ...extra], registers, collect };
      if (kind === 'gauge') new Gauge(config);
      else new Counter(config);
    };
    const one = (value: number | undefined): (readonly [Record<string, string>, number])[] => (value === undefined ? [] : [[{}, value]]);
    each(
      'gauge',
      'gc_k8s_sessions',
      'Agent pods by session phase: starting, running, ended (exit 0), failed, stopping, warm (idle warm pods).',
      (n) => Object.entries(n.phases).map(([phase, v]) => [{ phase }, v] as const),
      ['phase'],
    );
    if (sessionLabels) {
      each(
        'gauge',
        'gc_k8s_session_phase',
        "1 for each session's current phase (GC_K8S_METRICS_SESSION_LABELS=true only).",
        (n) => n.sessions().map((s) => [{ session: s.session, phase: s.phase }, 1] as const),
        ['session', 'phase'],
      );
    }
    each('gauge', 'gc_k8s_exec_channels_open', 'Persistent exec channels open to session containers.', (n) => one(n.exec.open));
    each(
      'counter',
      'gc_k8s_exec_channels_opened_total',
      'Persistent exec channels opened (first opens and re-opens after an idle close or a break).',
      (n) => one(n.exec.opened),
    );
    each(
      'counter',
      'gc_k8s_exec_channels_broken_total',
      'Persistent exec channels that broke mid-call (that call then ran as a one-shot exec).',
      (n) => one(n.exec.broken),
    );
    each(
      'counter',
      'gc_k8s_exec_oneshot_total',
      'Commands run as one-shot execs (too large for a channel, a broken channel, an image without bash).',
      (n) => one(n.exec.oneShot),
    );
    each('counter', 'gc_k8s_events_written_total', 'Events this daemon stored.', (n) => one(n.events?.written));
    each('gauge', 'gc_k8s_event_watchers', 'Event watches open (gc events --watch and the like).', (n) => one(n.events?.watchers));
    each('gauge', 'gc_k8s_event_latest_seq', 'The highest event seq known in the namespace.', (n) => one(n.events?.latestSeq));
    each(
      'gauge',
      'gc_k8s_event_watch_lag_seqs',
      'How many seqs the furthest-behind event watch is below the highest stored one (0 without watches).',
      (n) => one(n.events?.watchLagSeqs),
    );
    each(
      'counter',
      'gc_k8s_beads_ops_total',
      'Beads store ops by where they were answered: dolt (read directly), bd-serve (gc-bd-serve in the runner), bd (bd in the runner).',
      (n) => ['dolt', 'bd-serve', 'bd'].map((path) => [{ path }, n.beads[path] ?? 0] as const),
      ['path'],
    );
    each('counter', 'gc_k8s_beads_fallbacks_total', 'Direct Dolt reads that failed and were answered by bd instead.', (n) =>
      one(n.beads['fallback'] ?? 0),
    );
    each('gauge', 'gc_k8s_dolt_pools', 'Dolt servers the daemon keeps a connection pool to.', (n) => one(n.dolt?.pools));
    each('gauge', 'gc_k8s_dolt_unreachable', 'Of those, how many reads skip now (unreachable, backing off).', (n) => one(n.dolt?.down));
  }

  /** One op served: its duration, and its error code when it failed with one. */
  observeOp(provider: string, op: string, seconds: number, outcome: OpOutcome, code?: string): void {
    this.opSeconds.observe({ provider, op, outcome }, seconds);
    if (outcome === 'error') this.opErrors.inc({ provider, op, code: code ?? 'INTERNAL' });
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
