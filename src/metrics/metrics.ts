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
}

/** What the metrics read at scrape time, from the daemon's runtimes. */
export interface MetricSources {
  /** per kube context ('' = the kubeconfig's current one) */
  apiCounts(): Promise<Readonly<Record<string, ApiCounts>>>;
  caches(): readonly CacheHealth[];
}

export type OpOutcome = 'ok' | 'exit' | 'error';

export class DaemonMetrics {
  readonly registry = new Registry();
  private readonly opSeconds: Histogram<'provider' | 'op' | 'outcome'>;
  private readonly opErrors: Counter<'provider' | 'op' | 'code'>;

  constructor(sources: MetricSources, options: { readonly processMetrics?: boolean } = {}) {
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
          for (const m of [requests, retries, waited]) m.reset();
          for (const [context, c] of Object.entries(all)) {
            for (const [key, n] of Object.entries(c.byRequest)) {
              const space = key.indexOf(' ');
              requests.inc({ context, verb: key.slice(0, space), resource: key.slice(space + 1) }, n);
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
      'gc_k8s_watch_restarts',
      'Times that watch was restarted (drops, 410 Gone, stalls), since the daemon started.',
      (c) => c.restarts,
    );
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'gc_k8s_' });
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
