// Session name → Kubernetes pod name and label values.
//
// Compatibility first: whenever Gas City's own sanitizers are lossless for a name (the common case,
// e.g. "gc-bright-mayor"), we produce exactly what the native Go provider and the bash script
// produce, so pods created by either side are found by the other. When sanitizing loses
// information (case, slashes, dots, unicode, >63 chars), the pod name gets a hash suffix so two
// different session names can never map to the same pod. The raw name always lives in the
// `gc-session-name` annotation, which is what we match on.

import { shortHash } from '../util/hash.js';

export const MAX_NAME = 63;

/** Gas City's SanitizeName (internal/runtime/k8s/name.go), restricted to ASCII. */
export function upstreamPodName(name: string): string {
  if (name === '') return '';
  let out = '';
  for (const ch of name.toLowerCase()) out += /^[a-z0-9-]$/.test(ch) ? ch : '-';
  out = out.replace(/^-+/, '').slice(0, MAX_NAME).replace(/-+$/, '');
  return out === '' ? 'unknown' : out;
}

/** Gas City's SanitizeLabel with the ASCII rules Kubernetes actually accepts. */
export function upstreamLabelValue(value: string): string {
  let out = '';
  for (const ch of value) out += /^[A-Za-z0-9._-]$/.test(ch) ? ch : '-';
  out = out.replace(/^[^A-Za-z0-9]+/, '').slice(0, MAX_NAME).replace(/[^A-Za-z0-9]+$/, '');
  return out === '' ? 'unknown' : out;
}

/** The pod name for a session: upstream's when lossless, else a prefix plus a hash of the raw name. */
export function podNameFor(sessionName: string): string {
  const base = upstreamPodName(sessionName);
  if (base === sessionName) return base;
  const hash = shortHash(sessionName);
  const prefix = base.slice(0, MAX_NAME - hash.length - 1).replace(/-+$/, '');
  return prefix === '' || prefix === 'unknown' ? `s-${hash}` : `${prefix}-${hash}`;
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
