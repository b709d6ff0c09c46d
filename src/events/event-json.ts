// The Event wire type (gc internal/events): record input, list output and watch lines.
// Strict when reading caller input (clear BAD_REQUEST, nothing written), tolerant when reading
// stored events, because the upstream bash script wrote some with second-precision ts and
// without optional fields.

import { GcK8sError, quote } from '../errors.js';
import { optionalString, parseGoObject } from './go-json.js';
import { compactJson } from './raw-json.js';
import { isZeroInstant, parseRfc3339, ZERO_TIME } from './time.js';

/** Compact JSON text, emitted verbatim (Go's json.RawMessage). */
export type RawJson = string & { readonly __rawJson: true };

/** One event as gc sees it. Keys and order match Go's `events.Event` marshalling. */
export interface GcEvent {
  readonly seq: number;
  readonly type: string;
  /** RFC 3339 text exactly as recorded (never reformatted, so an explicit ts round-trips). */
  readonly ts: string;
  readonly actor: string;
  readonly subject?: string;
  readonly message?: string;
  readonly payload?: RawJson;
}

/** A validated `record` request: an event without its seq; ts undefined means "fill with now". */
export interface EventInput {
  readonly type: string;
  readonly actor: string;
  readonly ts?: string;
  readonly subject?: string;
  readonly message?: string;
  readonly payload?: RawJson;
}

const WHAT = 'record: event JSON';

/**
 * Parses the stdin of `gc-events-k8s record`. `type` must be a non-empty string and `actor` a
 * string; `seq` is ignored (the store assigns it); a zero or absent `ts` is left undefined so the
 * store fills it. Throws GcK8sError('BAD_REQUEST') with a message saying what is wrong.
 */
export function parseEventInput(text: string): EventInput {
  if (text.trim() === '') throw new GcK8sError('BAD_REQUEST', `${WHAT}: empty input, expected an Event object`);
  const obj = parseGoObject(text, WHAT);
  const type = optionalString(obj, 'type', WHAT);
  if (type === undefined || type === '') throw new GcK8sError('BAD_REQUEST', `${WHAT}: missing "type"`);
  const actor = optionalString(obj, 'actor', WHAT);
  if (actor === undefined) throw new GcK8sError('BAD_REQUEST', `${WHAT}: missing "actor"`);
  const tsText = optionalString(obj, 'ts', WHAT);
  let ts: string | undefined;
  if (tsText !== undefined) {
    const instant = parseRfc3339(tsText);
    if (instant === undefined) throw new GcK8sError('BAD_REQUEST', `${WHAT}: "ts" is not an RFC 3339 time: ${quote(tsText)}`);
    if (!isZeroInstant(instant)) ts = tsText;
  }
  const payload = obj.raw('payload');
  return {
    type,
    actor,
    ...(ts === undefined ? {} : { ts }),
    ...nonEmpty('subject', optionalString(obj, 'subject', WHAT)),
    ...nonEmpty('message', optionalString(obj, 'message', WHAT)),
    ...(payload === undefined ? {} : { payload: compactJson(payload) as RawJson }),
  };
}

/** Compact Event JSON as Go marshals it: seq, type, ts, actor, then the omitempty fields. */
export function encodeEventJson(event: GcEvent): string {
  let out = `{"seq":${event.seq},"type":${JSON.stringify(event.type)},"ts":${JSON.stringify(event.ts)},"actor":${JSON.stringify(event.actor)}`;
  if (event.subject !== undefined && event.subject !== '') out += `,"subject":${JSON.stringify(event.subject)}`;
  if (event.message !== undefined && event.message !== '') out += `,"message":${JSON.stringify(event.message)}`;
  if (event.payload !== undefined) out += `,"payload":${event.payload}`;
  return out + '}';
}

/** One NDJSON line for `watch`. */
export function formatWatchLine(event: GcEvent): string {
  return encodeEventJson(event) + '\n';
}

/** The JSON array printed by `list` (ascending seq, as given). */
export function formatEventList(events: readonly GcEvent[]): string {
  return '[' + events.map(encodeEventJson).join(',') + ']';
}

/**
 * Decodes a stored event (ours or the upstream script's). `seq` is the one from the ConfigMap
 * name: Kubernetes guarantees names are unique, the JSON inside is only as good as its writer.
 * Missing strings become "", a missing or invalid ts the zero time. Throws BAD_REQUEST when the
 * text is not a JSON object.
 */
export function decodeStoredEvent(text: string, seq: number): GcEvent {
  const what = `stored event ${seq}`;
  const obj = parseGoObject(text, what);
  const str = (name: string): string => {
    const v = obj.value(name);
    return typeof v === 'string' ? v : '';
  };
  const ts = str('ts');
  const payload = obj.raw('payload');
  return {
    seq,
    type: str('type'),
    ts: ts === '' ? ZERO_TIME : ts,
    actor: str('actor'),
    ...nonEmpty('subject', str('subject')),
    ...nonEmpty('message', str('message')),
    ...(payload === undefined ? {} : { payload: compactJson(payload) as RawJson }),
  };
}

/** Completes an input with its seq and timestamp. */
export function eventFromInput(input: EventInput, seq: number, ts: string): GcEvent {
  return { seq, ...input, ts: input.ts ?? ts };
}

function nonEmpty<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return value === undefined || value === '' ? {} : ({ [key]: value } as Record<K, string>);
}
