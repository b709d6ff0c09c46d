// One error type for the whole project: a stable `code` callers branch on, a message in
// "verb object: detail" form, and the original cause kept. Dependency-free so that the thin
// clients, the protocol and the daemon can all map it without loading anything else.

export const ERROR_CODES = [
  'BAD_REQUEST', // malformed input from a caller (bad JSON, missing argument, invalid name)
  'CONFIG_INVALID', // a config key has an invalid value
  'SESSION_EXISTS', // start of a live session ("already exists" wording is the exec contract)
  'SESSION_INITIALIZING', // a young pod whose tmux is not up yet
  'SESSION_INCOMPATIBLE', // start of a live session whose pod was made with other image, account, resources or workspace
  'SESSION_DIED', // tmux died right after start
  'SESSION_NOT_FOUND',
  'START_FAILED', // start could not bring the pod up; message says why
  'WORKSPACE_IN_USE', // a kept workspace a pod still mounts was asked to be deleted
  'CAPACITY', // start failed for want of room that may come back (quota, unschedulable, API down): exit 75
  'NOT_FOUND', // Kubernetes 404
  'CONFLICT', // Kubernetes 409 Conflict (stale resourceVersion)
  'ALREADY_EXISTS', // Kubernetes 409 AlreadyExists
  'GONE', // Kubernetes 410 (watch resourceVersion too old)
  'FORBIDDEN', // Kubernetes 403 from RBAC
  'QUOTA_EXCEEDED', // Kubernetes 403 from a ResourceQuota
  'INVALID', // Kubernetes 422
  'THROTTLED', // Kubernetes 429 beyond our retry budget
  'K8S_UNAVAILABLE', // API server unreachable, 5xx, TLS or network failure
  'EXEC_FAILED', // exec could not run (upgrade refused, bad container name, channel broke)
  'CONTAINER_NOT_RUNNING', // exec refused because the container has exited (or not started yet)
  'EXEC_NO_STATUS', // the exec stream ended without a status frame
  'EXEC_NONZERO', // the command ran and exited non-zero
  'OUTPUT_TOO_LARGE',
  'TOO_LARGE', // a payload beyond a hard limit (ConfigMap size, watch line)
  'TIMEOUT', // an operation deadline passed
  'ABORTED', // the caller cancelled
  'DOLT_UNREACHABLE', // no Dolt server reached from the daemon (DNS, routing, refused, timeout)
  'DOLT_QUERY', // Dolt answered but refused the query (auth, unknown database, schema)
  'NOT_LEADER', // another daemon holds the leader Lease (GC_K8S_LEADER_LEASE): this one does not act on sessions
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

const BRAND = Symbol.for('gc-k8s.error');

/** The longest message an error carries: errors end up on stderr and in logs, never a payload. */
export const MAX_MESSAGE_CHARS = 2000;

/** A value quoted for a message: JSON-quoted, and cut (saying how long it was) past `max`. */
export function quote(value: unknown, max = 80): string {
  const text = typeof value === 'string' ? value : ((JSON.stringify(value) as string | undefined) ?? String(value));
  if (text.length <= max) return JSON.stringify(text);
  return `${JSON.stringify(text.slice(0, max))}… (${text.length} characters)`;
}

/** Cuts text past `max` characters, saying how much was left out. */
export function clip(text: string, max = MAX_MESSAGE_CHARS): string {
  return text.length <= max ? text : `${text.slice(0, max)}… [${text.length - max} more characters]`;
}

export class GcK8sError extends Error {
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>> | undefined;
  readonly [BRAND] = true;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    // the backstop: whatever input a message quotes, it stays a line, not a payload
    super(clip(message), options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GcK8sError';
    this.code = code;
    this.details = options?.details;
  }
}

/** Brand check that survives duplicated module instances (bundling, tests). */
export function isGcK8sError(value: unknown): value is GcK8sError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
}

export function hasCode(value: unknown, ...codes: ErrorCode[]): value is GcK8sError {
  return isGcK8sError(value) && codes.includes(value.code);
}

/** The message of anything thrown (an Error's, else its string form), for composing a new one. */
export function messageOf(value: unknown): string {
  return value instanceof Error ? value.message : String(value);
}

/** Normalizes anything thrown into a GcK8sError, keeping the original as cause. */
export function toGcK8sError(value: unknown, fallback: ErrorCode = 'INTERNAL'): GcK8sError {
  if (isGcK8sError(value)) return value;
  if (value instanceof Error) {
    if (value.name === 'AbortError') return new GcK8sError('ABORTED', value.message, { cause: value });
    if (value.name === 'TimeoutError') return new GcK8sError('TIMEOUT', value.message, { cause: value });
    return new GcK8sError(fallback, value.message, { cause: value });
  }
  return new GcK8sError(fallback, String(value));
}

/** One line: the message plus the chain of distinct causes, for CLI stderr. */
export function describeError(value: unknown): string {
  const parts: string[] = [];
  let current: unknown = value;
  for (let depth = 0; current !== undefined && current !== null && depth < 5; depth++) {
    const message = current instanceof Error ? current.message : typeof current === 'string' ? current : JSON.stringify(current);
    if (message !== '' && !parts.some((p) => p.includes(message))) parts.push(message);
    current = current instanceof Error ? current.cause : undefined;
  }
  return clip(parts.join(': ').replace(/\s*\n\s*/g, ' '), 2 * MAX_MESSAGE_CHARS);
}
