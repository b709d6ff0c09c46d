// Request → handler. Checks the arguments first (bad input touches nothing), then resolves the
// request's city and its settings (resolve-city.ts), and turns everything thrown into the
// protocol's exit codes (done by the server).

import { GcK8sError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { Request } from '../protocol/messages.js';
import { stdinTooLarge } from '../protocol/ops.js';
import type { Connections, Handler, RequestCheck, RequestContext } from './context.js';
import type { CityResolution } from './resolve-city.js';
import type { RequestHandler } from './server.js';

/** Repeats of one warning reach the daemon log at most this often (stderr gets every one). */
const WARNING_LOG_INTERVAL_MS = 60_000;

export function createRouter(deps: {
  log: Logger;
  connections: Connections;
  handlers: Partial<Record<Request['provider'], Handler>>;
  checks?: Partial<Record<Request['provider'], RequestCheck>>;
  resolve(request: Request, signal: AbortSignal): Promise<CityResolution>;
}): RequestHandler {
  const warned = new Map<string, number>();
  return async (request, io) => {
    const handler = deps.handlers[request.provider];
    if (handler === undefined) throw new GcK8sError('BAD_REQUEST', `unknown provider ${JSON.stringify(request.provider)}`);
    const tooLarge = stdinTooLarge(request.provider, request.op, Buffer.byteLength(request.stdin ?? '', 'utf8'));
    if (tooLarge !== undefined) throw new GcK8sError('TOO_LARGE', tooLarge);
    deps.checks?.[request.provider]?.(request);
    const log = deps.log.child({ provider: request.provider, op: request.op, ...(request.args[0] === undefined ? {} : { arg: request.args[0].slice(0, 200) }) });
    const { config, source, warning } = await deps.resolve(request, io.signal);
    if (warning !== undefined) {
      io.err(`warning: ${warning}\n`);
      const last = warned.get(warning) ?? 0;
      if (Date.now() - last > WARNING_LOG_INTERVAL_MS) {
        if (warned.size > 100) warned.clear();
        warned.set(warning, Date.now());
        log.warn({ cwd: request.cwd }, warning);
      }
    }
    const ctx: RequestContext = {
      request,
      config,
      citySource: source,
      log,
      signal: io.signal,
      connections: deps.connections,
      out: io.out,
      err: io.err,
    };
    return handler(ctx);
  };
}
