// Gas City's exec events protocol on the ConfigMap event store: one store per (context,
// namespace), created on first use and kept warm, so list and latest-seq are answered from the
// watch cache. `watch` streams NDJSON until the client goes away.

import { GcK8sError } from '../errors.js';
import {
  createEventStore,
  EVENT_CACHE_SELECTOR,
  formatEventList,
  formatWatchLine,
  isRetentionEnabled,
  parseAfterSeqArg,
  parseEventInput,
  parseFilterJson,
  type EventStore,
  type RetentionPolicy,
} from '../events/index.js';
import { systemClock } from '../util/clock.js';
import { withTimeout } from '../util/abort.js';
import { EXIT_OK, EXIT_UNKNOWN_OP } from '../protocol/messages.js';
import type { Handler, RequestContext } from './context.js';

const OPS = new Set(['ensure-running', 'record', 'list', 'latest-seq', 'watch']);
const PRUNE_INTERVAL_MS = 10 * 60_000;

export interface EventsHandler {
  readonly handle: Handler;
  close(): void;
}

export function createEventsHandler(): EventsHandler {
  const stores = new Map<string, EventStore>();
  const timers = new Set<NodeJS.Timeout>();
  let generation = 0;

  const closeAll = (): void => {
    for (const t of timers) clearInterval(t);
    timers.clear();
    for (const s of stores.values()) s.close();
    stores.clear();
  };

  async function storeFor(ctx: RequestContext, signal: AbortSignal): Promise<EventStore> {
    // stores built on clients of a replaced kubeconfig would talk to a cluster that is gone
    if (ctx.connections.generation() !== generation) {
      closeAll();
      generation = ctx.connections.generation();
    }
    const { context } = ctx.config;
    const { namespace } = ctx.config.pod;
    const key = `${context}\u0000${namespace}`;
    let store = stores.get(key);
    if (store !== undefined) return store;
    const client = await ctx.connections.namespace(context, namespace, signal);
    const log = ctx.log.child({ component: 'events', namespace });
    store = createEventStore({ configMaps: client.configMaps, cache: client.configMapCache(EVENT_CACHE_SELECTOR), clock: systemClock, log, namespace });
    stores.set(key, store);
    const policy: RetentionPolicy = { maxAgeMs: ctx.config.eventsMaxAgeMs, maxCount: ctx.config.eventsMaxCount };
    if (isRetentionEnabled(policy)) {
      const s = store;
      const timer = setInterval(() => {
        s.prune(policy, AbortSignal.timeout(PRUNE_INTERVAL_MS / 2)).then(
          (r) => {
            if (r.deleted > 0 || r.failed > 0) log.info({ ...r }, 'pruned events');
          },
          (err: unknown) => {
            log.warn({ err }, 'pruning events failed');
          },
        );
      }, PRUNE_INTERVAL_MS);
      timer.unref();
      timers.add(timer);
    }
    return store;
  }

  const handle: Handler = async (ctx) => {
    const { request, config } = ctx;
    if (!OPS.has(request.op)) return EXIT_UNKNOWN_OP;
    // Parse input before touching the cluster: bad input writes nothing.
    const input = request.op === 'record' ? parseEventInput(request.stdin ?? '') : undefined;
    const filter = request.op === 'list' ? parseFilterJson(request.stdin ?? '') : undefined;
    const afterSeq = request.op === 'watch' ? parseAfterSeqArg(request.args[0]) : 0;

    if (request.op === 'watch') {
      const store = await storeFor(ctx, withTimeout(ctx.signal, config.session.opTimeoutMs));
      for await (const event of store.watch(afterSeq, ctx.signal)) ctx.out(formatWatchLine(event));
      return EXIT_OK;
    }
    const signal = withTimeout(ctx.signal, config.session.opTimeoutMs);
    const store = await storeFor(ctx, signal);
    switch (request.op) {
      case 'ensure-running':
        await store.ensureRunning(signal);
        break;
      case 'record':
        if (input === undefined) throw new GcK8sError('INTERNAL', 'record without input');
        await store.record(input, signal, request.rid === undefined ? {} : { recordId: request.rid });
        break;
      case 'list':
        ctx.out(formatEventList(await store.list(filter ?? parseFilterJson(''), signal)));
        break;
      case 'latest-seq':
        ctx.out(String(await store.latestSeq(signal)));
        break;
    }
    return EXIT_OK;
  };

  return {
    handle,
    close: closeAll,
  };
}
