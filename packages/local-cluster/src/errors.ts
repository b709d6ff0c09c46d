// The package's one error type: a stable `code` callers branch on, a message in "verb object:
// detail" form, the original cause kept. The package's own (it imports nothing of the daemon);
// the daemon prints these through their message and cause chain like any Error.

export const CLUSTER_ERROR_CODES = [
  'CLUSTER', // a cluster, host or build operation failed; the message says what and where its log is
  'BAD_REQUEST', // invalid input from a caller (unknown component, bad port range)
  'CONFIG_INVALID', // a client configuration that cannot be used safely (an https server without a CA)
  'FORBIDDEN', // an existing cluster lacks permissions gc-k8s needs
  'K8S_UNAVAILABLE', // the API server is unreachable, or answered with an unexpected status
  'TIMEOUT', // an operation deadline passed
  'ABORTED', // the caller cancelled (Ctrl-C)
  'INTERNAL',
] as const;

export type ClusterErrorCode = (typeof CLUSTER_ERROR_CODES)[number];

const BRAND = Symbol.for('gc-k8s.local-cluster.error');

/** The longest message an error carries: errors end up on stderr and in logs, never a payload. */
export const MAX_MESSAGE_CHARS = 2000;

/** Cuts text past `max` characters, saying how much was left out. */
export function clip(text: string, max = MAX_MESSAGE_CHARS): string {
  return text.length <= max ? text : `${text.slice(0, max)}… [${text.length - max} more characters]`;
}

export class ClusterError extends Error {
  readonly code: ClusterErrorCode;
  readonly details: Readonly<Record<string, unknown>> | undefined;
  readonly [BRAND] = true;

  constructor(code: ClusterErrorCode, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(clip(message), options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ClusterError';
    this.code = code;
    this.details = options?.details;
  }
}

/** Brand check that survives duplicated module instances (source and dist loaded side by side in tests). */
export function isClusterError(value: unknown): value is ClusterError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
}

export function hasCode(value: unknown, ...codes: ClusterErrorCode[]): value is ClusterError {
  return isClusterError(value) && codes.includes(value.code);
}

/** Normalizes anything thrown into a ClusterError, keeping the original as cause. */
export function toClusterError(value: unknown, fallback: ClusterErrorCode = 'INTERNAL'): ClusterError {
  if (isClusterError(value)) return value;
  if (value instanceof Error) {
    if (value.name === 'AbortError') return new ClusterError('ABORTED', value.message, { cause: value });
    if (value.name === 'TimeoutError') return new ClusterError('TIMEOUT', value.message, { cause: value });
    return new ClusterError(fallback, value.message, { cause: value });
  }
  return new ClusterError(fallback, String(value));
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
