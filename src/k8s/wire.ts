// Narrowing helpers for JSON coming off the wire. The API server is trusted to speak
// Kubernetes, but never trusted to be well-formed: everything arrives as `unknown` and is
// narrowed here, so a surprising field degrades to a default instead of a crash deep inside.

export type WireObject = Readonly<Record<string, unknown>>;

const EMPTY: WireObject = Object.freeze({});

export function isObject(value: unknown): value is WireObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The value as an object, or an empty one. */
export function obj(value: unknown): WireObject {
  return isObject(value) ? value : EMPTY;
}

export function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

export function bool(value: unknown): boolean | undefined {
  return typeof value === 'boolean' ? value : undefined;
}

export function arr(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? (value as unknown[]) : [];
}

/** A string→string map (labels, annotations, ConfigMap data); non-string values are dropped. */
export function strMap(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, item] of Object.entries(obj(value))) {
    if (typeof item === 'string') out[key] = item;
  }
  return out;
}

/** Parses a JSON text, returning undefined instead of throwing (for error bodies). */
export function tryParseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
