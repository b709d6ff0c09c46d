// Gas City's exec events protocol. The ConfigMap store is being wired in; until then every op
// fails loudly instead of pretending success (exit 2 would make gc treat it as a no-op).

import { GcK8sError } from '../errors.js';
import type { Handler } from './context.js';

export function createEventsHandler(): Handler {
  return (ctx) => Promise.reject(new GcK8sError('INTERNAL', `events ${ctx.request.op}: the events provider is not wired into this daemon yet`));
}
