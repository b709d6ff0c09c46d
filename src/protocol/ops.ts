// The op catalogue the clients and the daemon share: which ops read stdin and how much of it they
// accept, and which may be sent again after the daemon died mid-call. The native client carries
// the same table (native/client.c; a unit test compares them). Limits are checked before anything
// is sent or touched, and name the limit: a 32 MiB nudge used to take 15 s and slow every call.

import type { Provider } from './messages.js';

const KiB = 1024;
const MiB = 1024 * KiB;

/** tmux keeps an environment variable only when its set-environment command fits one message. */
export const META_MAX_BYTES = 16_000;

export interface OpSpec {
  /** the most bytes of stdin the op accepts; absent = the op never reads stdin */
  readonly stdin?: number;
  /** sent again (same request id) when the daemon died mid-call: reads, idempotent writes */
  readonly retrySafe?: true;
}

export const OPS: Readonly<Record<Provider, Readonly<Record<string, OpSpec>>>> = {
  session: {
    start: { stdin: 4 * MiB, retrySafe: true },
    stop: { retrySafe: true },
    interrupt: {},
    'is-running': { retrySafe: true },
    'list-running': { retrySafe: true },
    'process-alive': { stdin: 64 * KiB, retrySafe: true },
    nudge: { stdin: 4 * MiB },
    'send-keys': {},
    peek: { retrySafe: true },
    'set-meta': { stdin: META_MAX_BYTES, retrySafe: true },
    'get-meta': { retrySafe: true },
    'remove-meta': { retrySafe: true },
    'get-last-activity': { retrySafe: true },
    'clear-scrollback': {},
    'copy-to': {},
    'attach-target': { retrySafe: true },
  },
  events: {
    'ensure-running': { retrySafe: true },
    record: { stdin: 1 * MiB, retrySafe: true },
    list: { stdin: 64 * KiB, retrySafe: true },
    'latest-seq': { retrySafe: true },
    watch: { retrySafe: true },
  },
  beads: {
    create: { stdin: 4 * MiB },
    update: { stdin: 4 * MiB },
    'set-metadata': { stdin: 1 * MiB },
    get: { retrySafe: true },
    list: { retrySafe: true },
    ready: { retrySafe: true },
    children: { retrySafe: true },
    'list-by-label': { retrySafe: true },
    'dep-list': { retrySafe: true },
    health: { retrySafe: true },
    probe: { retrySafe: true },
  },
  admin: {
    ping: { retrySafe: true },
    status: { retrySafe: true },
    stats: { retrySafe: true },
  },
};

export function opSpec(provider: Provider, op: string): OpSpec {
  return Object.hasOwn(OPS[provider], op) ? (OPS[provider][op] ?? {}) : {};
}

/** "1 MiB", "64 KiB", "16000 bytes": limits as messages name them. */
export function formatBytes(n: number): string {
  if (n >= MiB && n % MiB === 0) return `${n / MiB} MiB`;
  if (n >= KiB && n % KiB === 0) return `${n / KiB} KiB`;
  return `${n} bytes`;
}

/** The error text for stdin over the op's limit, or undefined when it fits. */
export function stdinTooLarge(provider: Provider, op: string, bytes: number): string | undefined {
  const limit = opSpec(provider, op).stdin;
  if (limit === undefined || bytes <= limit) return undefined;
  return `${op}: input is ${bytes > 10 * limit ? `more than ${formatBytes(10 * limit)}` : `${bytes} bytes`}; ${op} accepts at most ${formatBytes(limit)}`;
}
