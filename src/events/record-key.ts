// Which record calls are "the same record": Gas City 1.x records each event in its own call and
// retries after a partial failure (at least once), as a new process with a new request id. An
// event gc stamped itself (explicit ts, nanoseconds) is identified by its content, so the retry
// finds the event the first call stored instead of storing a copy. Without a ts the event is
// stamped here and only the client's own resend (same request id) can be recognized.

import { createHash } from 'node:crypto';
import type { EventInput } from './event-json.js';

/** The record id a call is deduplicated on, or undefined when every call is a new event. */
export function recordKey(input: EventInput, requestId: string | undefined): string | undefined {
  if (input.ts === undefined) return requestId;
  const canonical = JSON.stringify([input.type, input.ts, input.actor, input.subject ?? '', input.message ?? '', input.payload ?? null]);
  return `c-${createHash('sha256').update(canonical).digest('hex').slice(0, 40)}`;
}
