// Maps what the API server (or the network) says into GcK8sError codes. The Status body is the
// only reliable source: 409 means AlreadyExists or Conflict depending on `reason`, and 403 means
// RBAC or a ResourceQuota depending on the message. Messages read "verb object: detail".

import { GcK8sError, isGcK8sError, type ErrorCode, messageOf } from '../errors.js';
import { abortError } from '../util/abort.js';
import { num, obj, str, tryParseJson } from './wire.js';

/** The parts of a metav1.Status we act on. */
export interface StatusInfo {
  readonly code?: number;
  readonly reason?: string;
  readonly message?: string;
  readonly details?: unknown;
}

/** The raw Status, kept as the cause so logs show exactly what the server said. */
export class KubernetesStatusError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly status: StatusInfo,
  ) {
    super(`HTTP ${httpStatus}${status.reason === undefined ? '' : ` ${status.reason}`}`);
    this.name = 'KubernetesStatusError';
  }
}

export function parseStatus(body: unknown): StatusInfo {
  const o = obj(typeof body === 'string' ? tryParseJson(body) : body);
  const code = num(o.code);
  const reason = str(o.reason);
  const message = str(o.message);
  return {
    ...(code === undefined ? {} : { code }),
    ...(reason === undefined || reason === '' ? {} : { reason }),
    ...(message === undefined || message === '' ? {} : { message }),
    ...(o.details === undefined ? {} : { details: o.details }),
  };
}

export function codeForStatus(httpStatus: number, status: StatusInfo): ErrorCode {
  switch (httpStatus) {
    case 400:
    case 422:
      return 'INVALID';
    case 401:
      return 'FORBIDDEN';
    case 403:
      return /exceeded quota/i.test(status.message ?? '') ? 'QUOTA_EXCEEDED' : 'FORBIDDEN';
    case 404:
      return 'NOT_FOUND';
    case 409:
      return status.reason === 'AlreadyExists' ? 'ALREADY_EXISTS' : 'CONFLICT';
    case 410:
      return 'GONE';
    case 429:
      return 'THROTTLED';
    default:
      return httpStatus >= 500 ? 'K8S_UNAVAILABLE' : 'INTERNAL';
  }
}

/**
 * An error for a non-2xx response. `body` is the raw response text (or already parsed JSON);
 * a non-Status body (a proxy's HTML page) is quoted, truncated, as the detail.
 */
export function statusError(httpStatus: number, body: unknown, what: string, code?: ErrorCode): GcK8sError {
  const status = parseStatus(body);
  const raw = typeof body === 'string' ? body.trim() : '';
  const detail = status.message ?? (raw !== '' ? `HTTP ${httpStatus}: ${raw.slice(0, 200)}` : `HTTP ${httpStatus}`);
  return new GcK8sError(code ?? codeForStatus(httpStatus, status), `${what}: ${detail}`, {
    cause: new KubernetesStatusError(httpStatus, status),
    details: { httpStatus, ...(status.reason === undefined ? {} : { reason: status.reason }) },
  });
}

/**
 * An error for a refused exec upgrade: 404 is the pod; a container that has exited (or not
 * started) is CONTAINER_NOT_RUNNING, since callers treat that as "the session is gone"; any other
 * 400 (or a 5xx about the container) means the command could not be started there: EXEC_FAILED
 * with the server's own words.
 */
export function execUpgradeError(httpStatus: number, body: string, what: string): GcK8sError {
  if (httpStatus === 404) return statusError(httpStatus, body, what, 'NOT_FOUND');
  if (containerNotRunning(body)) return statusError(httpStatus, body, what, 'CONTAINER_NOT_RUNNING');
  if (httpStatus === 400 || /container .*not (found|valid|running)|does not exist|not running/i.test(body)) {
    return statusError(httpStatus, body, what, 'EXEC_FAILED');
  }
  return statusError(httpStatus, body, what);
}

// kubelet: `container not found ("agent")` once the container is gone; containerd, in the
// moment it exits: `container is in CONTAINER_EXITED state` or `no running task found`;
// apiserver: `cannot exec into a container in a completed pod` and `container agent is not
// running` (Waiting).
const CONTAINER_NOT_RUNNING =
  /container not found|in a completed pod|container \S+ is not running|is terminated|CONTAINER_EXITED|container is not created or running|cannot exec in a stopped|no running task found/i;

/** Whether the server's words say the container has exited (or has not started). */
export function containerNotRunning(message: string): boolean {
  return CONTAINER_NOT_RUNNING.test(message);
}

/**
 * An error for anything thrown while talking to the server: the caller's signal wins (TIMEOUT or
 * ABORTED), our own GcK8sErrors pass through, everything else (refused, reset, TLS) means the
 * server is unavailable.
 */
export function transportError(err: unknown, what: string, signal?: AbortSignal): GcK8sError {
  if (signal?.aborted === true) return abortError(signal, what);
  if (isGcK8sError(err)) return err;
  const message = messageOf(err);
  const code = errorCode(err);
  const detail = code !== undefined && !message.includes(code) ? `${message} (${code})` : message;
  return new GcK8sError('K8S_UNAVAILABLE', `${what}: ${detail}`, { cause: err });
}

/** The `code` property of Node/undici errors (ECONNRESET, UND_ERR_SOCKET, CERT_HAS_EXPIRED…). */
export function errorCode(err: unknown): string | undefined {
  return str(obj(err).code);
}
