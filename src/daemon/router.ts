// Request → handler. Loads the config the request's environment and city select, and turns
// everything thrown into the protocol's exit codes (done by the server).

import { loadConfig } from '../config/load.js';
import { GcK8sError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { Request } from '../protocol/messages.js';
import type { Connections, Handler, RequestContext } from './context.js';
import type { RequestHandler } from './server.js';

export function createRouter(deps: {
  log: Logger;
  connections: Connections;
  handlers: Partial<Record<Request['provider'], Handler>>;
}): RequestHandler {
  return async (request, io) => {
    const handler = deps.handlers[request.provider];
    if (handler === undefined) throw new GcK8sError('BAD_REQUEST', `unknown provider ${JSON.stringify(request.provider)}`);
    const config = loadConfig({ env: request.env, cwd: request.cwd });
    const ctx: RequestContext = {
      request,
      config,
      log: deps.log.child({ provider: request.provider, op: request.op, ...(request.args[0] === undefined ? {} : { arg: request.args[0] }) }),
      signal: io.signal,
      connections: deps.connections,
      out: io.out,
      err: io.err,
    };
    return handler(ctx);
  };
}
