// Value parsers shared by the config table: each returns the parsed value or throws a message
// that names what was expected (the caller adds the key and where it came from).

import { quote } from '../errors.js';

const QUANTITY = /^[+]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+|Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$/;

export function parseQuantity(value: string): string {
  if (!QUANTITY.test(value)) throw new Error(`expected a Kubernetes quantity like 500m, 2, 1Gi; got ${quote(value)}`);
  return value;
}

/** Go-style durations as gc writes them ("60s", "1m30s", "150ms"); a bare number means ms. */
export function parseDuration(value: string): number {
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text);
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  const unit: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  let matched = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    total += Number(m[1]) * (unit[m[2] ?? 'ms'] ?? 1);
    matched = re.lastIndex;
  }
  if (text === '' || matched !== text.length) throw new Error(`expected a duration like 110s, 1m30s or 150ms; got ${quote(value)}`);
  return Math.round(total);
}

export function parseBool(value: string): boolean {
  const v = value.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(v)) return true;
  if (['false', '0', 'no', 'off', ''].includes(v)) return false;
  throw new Error(`expected true or false; got ${quote(value)}`);
}

export function parseInteger(value: string, min: number, max: number): number {
  if (!/^-?\d+$/.test(value.trim())) throw new Error(`expected an integer; got ${quote(value)}`);
  const n = Number(value.trim());
  if (n < min || n > max) throw new Error(`expected an integer from ${min} to ${max}; got ${n}`);
  return n;
}

export function parseEnum<T extends string>(allowed: readonly T[]): (value: string) => T {
  return (value) => {
    if ((allowed as readonly string[]).includes(value)) return value as T;
    throw new Error(`expected one of ${allowed.join(', ')}; got ${quote(value)}`);
  };
}

/** DNS-1123 label (namespaces, service accounts, secret names). */
export function parseDnsLabel(value: string): string {
  if (value === '' || (value.length <= 63 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(value))) return value;
  throw new Error(`expected a lowercase DNS label (a-z, 0-9, '-'; at most 63 characters); got ${quote(value)}`);
}

export function parseList(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** A JSON value given as text (env) or as a TOML table/array (the loader passes it as JSON). */
function parseJson(value: string, what: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    throw new Error(`expected ${what} as JSON; got ${quote(value)}`);
  }
}

/** `{"key": "value", …}`: node selectors, the service-account map, the agent env. */
export function parseStringMap(value: string, check: (key: string, v: string) => void = () => undefined): Record<string, string> {
  if (value.trim() === '') return {};
  const obj = parseJson(value, 'an object of strings');
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw new Error('expected a JSON object of strings');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj)) {
    if (typeof v !== 'string') throw new Error(`expected a string for ${quote(k)}`);
    check(k, v);
    out[k] = v;
  }
  return out;
}

/** A JSON object or array passed through to the pod spec (tolerations, affinity) after a shape check. */
export function parseJsonOf(kind: 'object' | 'array', value: string): unknown {
  if (value.trim() === '') return undefined;
  const v = parseJson(value, kind === 'object' ? 'an object' : 'an array');
  const ok =
    kind === 'array'
      ? Array.isArray(v) && v.every((x) => typeof x === 'object' && x !== null && !Array.isArray(x))
      : typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!ok) throw new Error(kind === 'array' ? 'expected a JSON array of objects' : 'expected a JSON object');
  return v;
}

/** DNS-1123 subdomain (PriorityClass, PVC names). */
export function parseDnsSubdomain(value: string): string {
  if (value === '' || (value.length <= 253 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(value)))
    return value;
  throw new Error(`expected a lowercase DNS subdomain (a-z, 0-9, '-', '.'; at most 253 characters); got ${quote(value)}`);
}

const LABEL_NAME = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$/;

/** A label (key, value) Kubernetes accepts: [prefix/]name with name ≤ 63, value ≤ 63. */
export function checkLabel(key: string, value: string): void {
  const slash = key.lastIndexOf('/');
  const [prefix, name] = slash < 0 ? ['', key] : [key.slice(0, slash), key.slice(slash + 1)];
  if (name.length > 63 || !LABEL_NAME.test(name) || (slash >= 0 && parseDnsSubdomain(prefix) === ''))
    throw new Error(`invalid label key ${quote(key.slice(0, 80))}`);
  if (value.length > 63 || (value !== '' && !LABEL_NAME.test(value)))
    throw new Error(`invalid value of label ${quote(key.slice(0, 80))}: ${quote(value.slice(0, 80))}`);
}
