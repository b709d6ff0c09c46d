// Gas City's exec events protocol on the namespace's ConfigMap event store, kept warm in its
// runtime, so list and latest-seq are answered from the watch cache. `watch` streams NDJSON until
// the client goes away.

import {
  formatEventList,
  formatWatchLine,
  parseAfterSeqArg,
  parseEventInput,
  parseFilterJson,
  recordKey,
  type EventStore,
} from '../../events/index.js';
import type { EVENTS_OPS } from '../../protocol/ops/index.js';
import { EXIT_OK } from '../../protocol/messages.js';
import { withTimeout } from '../../util/abort.js';
import { op, type Handlers, type OpContext } from './op.js';

async function withStore(ctx: OpContext, run: (store: EventStore, signal: AbortSignal) => Promise<void>): Promise<number> {
  const signal = withTimeout(ctx.signal, ctx.config.session.opTimeoutMs);
  const runtime = await ctx.runtime(signal);
  await run(runtime.events(ctx.config), signal);
  return EXIT_OK;
}

const none = (): undefined => undefined;

export const EVENTS_HANDLERS: Handlers<typeof EVENTS_OPS> = {
  'ensure-running': op(none, (_, ctx) => withStore(ctx, (store, s) => store.ensureRunning(s))),
  record: op(
    (r) => parseEventInput(r.stdin ?? ''),
    (input, ctx) =>
      withStore(ctx, async (store, s) => {
        const recordId = recordKey(input, ctx.request.rid);
        await store.record(input, s, recordId === undefined ? {} : { recordId });
      }),
  ),
  list: op(
    (r) => parseFilterJson(r.stdin ?? ''),
    (filter, ctx) =>
      withStore(ctx, async (store, s) => {
        ctx.out(formatEventList(await store.list(filter, s)));
      }),
  ),
  'latest-seq': op(none, (_, ctx) =>
    withStore(ctx, async (store, s) => {
      ctx.out(String(await store.latestSeq(s)));
    }),
  ),
  watch: op(
    (r) => parseAfterSeqArg(r.args[0]),
    async (afterSeq, ctx) => {
      // only getting the store is bounded: the watch itself lasts as long as its client
      const runtime = await ctx.runtime(withTimeout(ctx.signal, ctx.config.session.opTimeoutMs));
      for await (const event of runtime.events(ctx.config).watch(afterSeq, ctx.signal)) ctx.out(formatWatchLine(event));
      return EXIT_OK;
    },
  ),
};
