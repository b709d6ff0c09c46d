// Reading JSON objects the way Go's encoding/json fills a struct: keys match field names
// case-insensitively (an exact match wins), unknown keys are ignored, null leaves a field unset.

import { GcK8sError, quote, messageOf } from '../errors.js';
import { rawMembers } from './raw-json.js';

export interface GoObject {
  /** Raw JSON text of the member, or undefined when absent or null. */
  raw(name: string): string | undefined;
  /** Parsed member value, or undefined when absent or null. */
  value(name: string): unknown;
}

/** Parses `text` as a JSON object; throws BAD_REQUEST (prefixed with `what`) otherwise. */
export function parseGoObject(text: string, what: string): GoObject {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new GcK8sError('BAD_REQUEST', `${what}: invalid JSON: ${messageOf(err)}`, { cause: err });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new GcK8sError('BAD_REQUEST', `${what}: expected a JSON object, got ${Array.isArray(parsed) ? 'an array' : typeof parsed}`);
  }
  const members = rawMembers(text);
  const find = (name: string): string | undefined => {
    const exact = members.get(name);
    if (exact !== undefined) return exact;
    const lower = name.toLowerCase();
    for (const [key, raw] of members) if (key.toLowerCase() === lower) return raw;
    return undefined;
  };
  return {
    raw(name) {
      const raw = find(name);
      return raw === undefined || raw === 'null' ? undefined : raw;
    },
    value(name) {
      const raw = this.raw(name);
      return raw === undefined ? undefined : (JSON.parse(raw) as unknown);
    },
  };
}

/** A member that must be a string when present. */
export function optionalString(obj: GoObject, name: string, what: string): string | undefined {
  const v = obj.value(name);
  if (v === undefined || typeof v === 'string') return v;
  throw new GcK8sError('BAD_REQUEST', `${what}: "${name}" must be a string, got ${quote(v)}`);
}
