// Session name → Kubernetes pod name and label values.
//
// Compatibility first: whenever Gas City's own sanitizers are lossless for a name (the common case,
// e.g. "gc-bright-mayor"), we produce exactly what the native Go provider and the bash script
// produce, so pods created by either side are found by the other. When sanitizing loses
// information (case, slashes, dots, unicode, >63 chars), the pod name gets a hash suffix so two
// different session names can never map to the same pod. The raw name always lives in the
// `gc-session-name` annotation, which is what we match on.

import { shortHash } from '../util/hash.js';
import { DNS_LABEL, labelValueRule, MAX_K8S_NAME as MAX_NAME, sanitize } from '../util/k8s-names.js';

/** Gas City's SanitizeName (internal/runtime/k8s/name.go), restricted to ASCII. */
export function upstreamPodName(name: string): string {
  if (name === '') return '';
  return sanitize(name, DNS_LABEL) || 'unknown';
}

/** Gas City's SanitizeLabel with the ASCII rules Kubernetes actually accepts. */
export function upstreamLabelValue(value: string): string {
  return sanitize(value, labelValueRule('-')) || 'unknown';
}

/** The shape of a hashed pod name's tail: a name that already ends like this is hashed too. */
const HASH_TAIL = /-[0-9a-f]{8}$/;

/**
 * The pod name for a session: upstream's when lossless, else a prefix plus a hash of the raw name.
 * A lossless name that itself ends in `-` and 8 hex digits is hashed as well: otherwise session
 * "a-b-2e7336dc" would want the pod of session "a/b" (which is "a-b-2e7336dc") and could not start.
 * So a pod name either is its session's name and has no hash tail, or has the hash of its session's
 * name as its tail: two sessions never share one.
 */
export function podNameFor(sessionName: string): string {
  const base = upstreamPodName(sessionName);
  if (base === sessionName && !HASH_TAIL.test(base)) return base;
  const hash = shortHash(sessionName);
  const prefix = base.slice(0, MAX_NAME - hash.length - 1).replace(/-+$/, '');
  return prefix === '' || prefix === 'unknown' ? `s-${hash}` : `${prefix}-${hash}`;
}

/** A label value that tells sessions apart (gc-session does not: "a/b" and "a-b" share it). */
export function sessionLabelValue(sessionName: string): string {
  return shortHash(sessionName, 16);
}

/**
 * Session names we accept: anything printable that fits an annotation, without control
 * characters (which would break the line-oriented exec protocol).
 */
export function validateSessionName(name: string): string | undefined {
  if (name === '') return 'session name is empty';
  if (name.length > 1024) return `session name is ${name.length} characters long (max 1024)`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) return 'session name contains control characters';
  return undefined;
}
