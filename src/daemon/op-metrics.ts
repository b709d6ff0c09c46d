// Every request the router serves, timed into the daemon's metrics: provider, op, and how it
// ended (exit 0, another exit status, or an error with its stable code). A provider or op outside
// the protocol's table is counted as "(unknown)", so a caller cannot grow the label set.

import { toGcK8sError } from '../errors.js';
import type { DaemonMetrics } from '../metrics/metrics.js';
import { opSpec } from '../protocol/ops/index.js';
import type { RequestHandler } from './server.js';

const PROVIDERS = new Set(['session', 'events', 'beads', 'admin']);

export function timedRequests(
  handler: RequestHandler,
  metrics: DaemonMetrics,
  now: () => number = () => performance.now(),
): RequestHandler {
  return async (request, io) => {
    const started = now();
    const known = PROVIDERS.has(request.provider);
    const provider = known ? request.provider : '(unknown)';
    const op = known && opSpec(request.provider, request.op) !== undefined ? request.op : '(unknown)';
    const seconds = (): number => (now() - started) / 1000;
    try {
      const code = await handler(request, io);
      metrics.observeOp(provider, op, seconds(), code === 0 ? 'ok' : 'exit');
      return code;
    } catch (err) {
      metrics.observeOp(provider, op, seconds(), 'error', toGcK8sError(err).code);
      throw err;
    }
  };
}
