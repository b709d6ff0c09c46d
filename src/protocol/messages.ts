// The daemon's Unix-socket protocol: NDJSON, one request per connection, answered by one or
// more frames. Shared by the daemon and the thin clients; no dependencies beyond errors.ts.

import type { ErrorCode } from '../errors.js';

export const PROTOCOL_VERSION = 1;

/** Which exec protocol a request belongs to. */
export type Provider = 'session' | 'events' | 'beads' | 'admin';

export interface Request {
  readonly v: typeof PROTOCOL_VERSION;
  readonly provider: Provider;
  /** the op, as gc passes it in argv[1] */
  readonly op: string;
  readonly args: readonly string[];
  /** stdin of the script, when the op reads it */
  readonly stdin?: string;
  /** the caller's environment (gc passes per-call settings through it) */
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
  /** unique per call, kept across the client's retries, so a retried write is applied once */
  readonly rid?: string;
}

/** Frames the daemon writes back: zero or more `out` frames (streams), then exactly one `end`. */
export type Frame =
  | { readonly t: 'out'; readonly data: string }
  | { readonly t: 'err'; readonly data: string }
  | { readonly t: 'end'; readonly exit: number; readonly code?: ErrorCode; readonly message?: string };

/** Exit codes of the exec protocols: 2 means "unknown op" and gc treats it as success. */
export const EXIT_OK = 0;
export const EXIT_ERROR = 1;
export const EXIT_UNKNOWN_OP = 2;
/** gc 1.x: a start refused for temporary capacity (EX_TEMPFAIL); gc retries later */
export const EXIT_TEMPFAIL = 75;

/** Env variables the clients forward: everything gc and our config read, nothing else. */
export function forwardedEnv(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) continue;
    if (k.startsWith('GC_') || k.startsWith('BEADS_') || k === 'KUBECONFIG' || k === 'HOME') out[k] = v;
  }
  return out;
}
