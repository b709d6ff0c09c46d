// Daemon housekeeping ops used by the CLI: ping, status (watch-cache freshness per namespace)
// and shutdown.

import { EXIT_OK, EXIT_UNKNOWN_OP } from '../protocol/messages.js';
import type { Handler } from './context.js';

export function createAdminHandler(deps: { startedAt: number; version: string; shutdown: () => void }): Handler {
  return async (ctx) => {
    switch (ctx.request.op) {
      case 'ping':
        ctx.out(JSON.stringify({ version: deps.version, pid: process.pid, uptimeMs: Date.now() - deps.startedAt }));
        return EXIT_OK;
      case 'status': {
        const client = await ctx.connections.namespace(ctx.config.context, ctx.config.pod.namespace, ctx.signal);
        const cache = client.agentPods.status();
        ctx.out(
          JSON.stringify({
            version: deps.version,
            pid: process.pid,
            uptimeMs: Date.now() - deps.startedAt,
            namespace: client.namespace,
            context: ctx.config.context,
            agentPods: { count: cache.synced ? client.agentPods.list().length : null, ...cache },
            cityToml: ctx.config.cityToml,
            warnings: ctx.config.warnings,
          }),
        );
        return EXIT_OK;
      }
      case 'stats':
        ctx.out(JSON.stringify(await ctx.connections.stats()));
        return EXIT_OK;
      case 'shutdown':
        ctx.out('shutting down\n');
        setImmediate(deps.shutdown);
        return EXIT_OK;
      default:
        return EXIT_UNKNOWN_OP;
    }
  };
}
