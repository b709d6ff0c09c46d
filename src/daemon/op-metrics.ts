// Every request the router serves, timed into the daemon's metrics: provider, op, and how it
// ended (exit 0, another exit status, or an error with its stable code). A provider or op outside
// the protocol's table is counted as "(unknown)", so a caller cannot grow the label set.

import { toGcK8sError, type ErrorCode, type GcK8sError } from '../errors.js';
import { START_FAILURE_REASONS, type DaemonMetrics, type StartFailureReason } from '../metrics/metrics.js';
import { opSpec } from '../protocol/ops/index.js';
import type { RequestHandler } from './server.js';

const PROVIDERS = new Set(['session', 'events', 'beads', 'admin']);
const REASONS = new Set<string>(START_FAILURE_REASONS);

const BY_CODE: Partial<Record<ErrorCode, StartFailureReason>> = {
  SESSION_DIED: 'DiedAtStart',
  QUOTA_EXCEEDED: 'Quota',
  CAPACITY: 'Unschedulable',
  TIMEOUT: 'Timeout',
  K8S_UNAVAILABLE: 'APIUnavailable',
  THROTTLED: 'APIUnavailable',
  SESSION_EXISTS: 'Exists',
  ALREADY_EXISTS: 'Exists',
  SESSION_INITIALIZING: 'Initializing',
  SESSION_INCOMPATIBLE: 'Incompatible',
  BAD_REQUEST: 'Config',
  CONFIG_INVALID: 'Config',
  FORBIDDEN: 'Forbidden',
  ABORTED: 'Aborted',
};

/** A failed start's reason: what the start said (details.reason), else what its code means. */
export function startFailureReason(err: GcK8sError): StartFailureReason {
  const said = err.details?.['reason'];
  if (typeof said === 'string' && REASONS.has(said)) return said as StartFailureReason;
  return BY_CODE[err.code] ?? 'Other';
}

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
    const start = provider === 'session' && op === 'start';
    try {
      const code = await handler(request, io);
      const took = seconds();
      metrics.observeOp(provider, op, took, code === 0 ? 'ok' : 'exit');
      if (start && code === 0) metrics.startReady(took);
      else if (start) metrics.startFailed('Other');
      return code;
    } catch (err) {
      const e = toGcK8sError(err);
      metrics.observeOp(provider, op, seconds(), 'error', e.code);
      if (start) metrics.startFailed(startFailureReason(e));
      throw err;
    }
  };
}
