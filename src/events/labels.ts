// Label values for gc/type and gc/actor. Upstream replaced invalid characters with '_' and cut at
// 63, which both collides (a/b vs a_b) and can still be invalid (a trailing '_'). Here a value that
// is already a valid label is kept as is (so label selectors stay readable and match upstream for
// ordinary types like session.woke); anything else becomes a sanitized prefix plus a hash of the
// original, so distinct values never share a label. Queries still post-filter on the event JSON.

import { shortHash } from '../util/hash.js';
import { labelValueRule, MAX_K8S_NAME as MAX, sanitize } from '../util/k8s-names.js';

const VALID = /^(?:[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)?$/;
const HASH_CHARS = 10;

export function isValidLabelValue(value: string): boolean {
  return value.length <= MAX && VALID.test(value);
}

/** A valid Kubernetes label value for `value`, injective over all strings. */
export function eventLabelValue(value: string): string {
  if (isValidLabelValue(value)) return value;
  const hash = shortHash(value, HASH_CHARS);
  // one '_' per code point, like upstream
  const prefix = sanitize(value, labelValueRule('_'), MAX - HASH_CHARS - 1);
  // Only a value that literally ends in this 40-bit hash could clash with it: negligible, and
  // list/watch results stay exact anyway because they filter on the event JSON.
  return prefix === '' ? hash : `${prefix}-${hash}`;
}
