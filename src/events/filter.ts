// The list Filter (gc events.Filter). It has no json tags, so the keys are the Go field names
// {Type, Actor, Since, AfterSeq}; zero values mean "no filter". Matching is exact on the event
// JSON (labels only ever narrow a query), and Since compares instants, not strings.

import { GcK8sError, quote } from '../errors.js';
import type { GcEvent } from './event-json.js';
import { optionalString, parseGoObject } from './go-json.js';
import { compareInstants, type Instant, isZeroInstant, parseRfc3339, ZERO_INSTANT } from './time.js';

export interface EventFilter {
  /** exact type */
  readonly type?: string;
  /** exact actor */
  readonly actor?: string;
  /** keep events with ts >= since */
  readonly since?: Instant;
  /** keep events with seq > afterSeq */
  readonly afterSeq?: number;
}

const WHAT = 'list: filter JSON';

/**
 * Parses the stdin of `gc-events-k8s list`. Empty input means no filter; unknown keys are
 * ignored; wrong types or an unparsable Since throw GcK8sError('BAD_REQUEST').
 */
export function parseFilterJson(text: string): EventFilter {
  if (text.trim() === '') return {};
  const obj = parseGoObject(text, WHAT);
  const type = optionalString(obj, 'Type', WHAT);
  const actor = optionalString(obj, 'Actor', WHAT);
  const sinceText = optionalString(obj, 'Since', WHAT);
  let since: Instant | undefined;
  if (sinceText !== undefined) {
    since = parseRfc3339(sinceText);
    if (since === undefined) throw new GcK8sError('BAD_REQUEST', `${WHAT}: "Since" is not an RFC 3339 time: ${quote(sinceText)}`);
  }
  const afterSeq = obj.value('AfterSeq');
  if (afterSeq !== undefined && !(Number.isSafeInteger(afterSeq) && (afterSeq as number) >= 0)) {
    throw new GcK8sError('BAD_REQUEST', `${WHAT}: "AfterSeq" must be a non-negative integer, got ${quote(afterSeq)}`);
  }
  return {
    ...(type === undefined || type === '' ? {} : { type }),
    ...(actor === undefined || actor === '' ? {} : { actor }),
    ...(since === undefined || isZeroInstant(since) ? {} : { since }),
    ...(afterSeq === undefined || afterSeq === 0 ? {} : { afterSeq: afterSeq as number }),
  };
}

export function matchesFilter(event: GcEvent, filter: EventFilter): boolean {
  if (filter.afterSeq !== undefined && event.seq <= filter.afterSeq) return false;
  if (filter.type !== undefined && event.type !== filter.type) return false;
  if (filter.actor !== undefined && event.actor !== filter.actor) return false;
  if (filter.since !== undefined) {
    // An unparsable stored ts counts as the zero time, which is before any Since.
    const ts = parseRfc3339(event.ts) ?? ZERO_INSTANT;
    if (compareInstants(ts, filter.since) < 0) return false;
  }
  return true;
}
