// The daemon's own ops, used by the CLI: ping, status (readiness as /readyz says it, watch-cache
// health for the current config), stats (API requests per verb and resource) and shutdown.

import type { ADMIN_OPS } from '../../protocol/ops/index.js';
import { EXIT_OK } from '../../protocol/messages.js';
import type { Readiness } from '../../metrics/http.js';
import type { Runtimes } from '../runtimes.js';
import { op, type Handlers } from './op.js';

export interface AdminDeps {
  readonly startedAt: number;
  readonly version: string;
  readonly pid: number;
  readonly runtimes: Pick<Runtimes, 'stats'>;
  /** what /readyz answers: the status shows it too */
  readonly readiness: Readiness;
  readonly shutdown: () => void;
}

const none = (): undefined => undefined;

export function adminHandlers(deps: AdminDeps): Handlers<typeof ADMIN_OPS> {
  return {
    ping: op(none, (_, ctx) => {
      ctx.out(JSON.stringify({ version: deps.version, pid: deps.pid, uptimeMs: Date.now() - deps.startedAt }));
      return Promise.resolve(EXIT_OK);
    }),
    status: op(none, async (_, ctx) => {
      const runtime = await ctx.runtime(ctx.signal);
      // the city's provider (and so its warm pool, if it keeps one) runs from now on
      runtime.session(ctx.config);
      const cache = runtime.client.agentPods.status();
      const notReady = await deps.readiness.reasons();
      ctx.out(
        JSON.stringify({
          version: deps.version,
          pid: deps.pid,
          uptimeMs: Date.now() - deps.startedAt,
          // the same answer as /readyz: ready, or why not (one line each)
          ready: notReady.length === 0,
          notReady,
          namespace: runtime.namespace,
          context: ctx.config.context,
          agentPods: { count: cache.synced ? runtime.client.agentPods.list().length : null, ...cache },
          // persistent exec channels into agent containers, open now (one per pod in use)
          execChannels: runtime.runner.openChannels,
          warmPools: runtime.warmPools(),
          cityToml: ctx.config.cityToml,
          citySource: ctx.citySource,
          warnings: ctx.config.warnings,
        }),
      );
      return EXIT_OK;
    }),
    stats: op(none, async (_, ctx) => {
      ctx.out(JSON.stringify(await deps.runtimes.stats()));
      return EXIT_OK;
    }),
    shutdown: op(none, (_, ctx) => {
      ctx.out('shutting down\n');
      setImmediate(() => {
        deps.shutdown();
      });
      return Promise.resolve(EXIT_OK);
    }),
  };
}
