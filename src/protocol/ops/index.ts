// The op catalogue: every op of the four providers, what the clients need of it (stdin and its
// limit, retry-safety) and one line for the README. Limits are checked before anything is sent
// or touched, and name the limit: a 32 MiB nudge used to take 15 s and slow every call.

import type { Provider } from '../messages.js';
import { ADMIN_OPS } from './admin.js';
import { BEADS_OPS } from './beads.js';
import { EVENTS_OPS, parseAfterSeqArg } from './events.js';
import { SESSION_OPS } from './session.js';
import { messageOf } from '../../errors.js';
import { KiB, MiB, type OpSpec, type OpTable } from './spec.js';

export { EXEC_MAX_OUTPUT_BYTES, handshakeJson, META_MAX_BYTES } from './session.js';
export type { OpSpec, OpTable } from './spec.js';
export { ADMIN_OPS, BEADS_OPS, EVENTS_OPS, SESSION_OPS };

export const OPS: Readonly<Record<Provider, OpTable>> = {
  session: SESSION_OPS,
  events: EVENTS_OPS,
  beads: BEADS_OPS,
  admin: ADMIN_OPS,
};

export function opSpec(provider: Provider, op: string): OpSpec | undefined {
  return Object.hasOwn(OPS[provider], op) ? OPS[provider][op] : undefined;
}

/** "1 MiB", "64 KiB", "16000 bytes": limits as messages name them. */
export function formatBytes(n: number): string {
  if (n >= MiB && n % MiB === 0) return `${n / MiB} MiB`;
  if (n >= KiB && n % KiB === 0) return `${n / KiB} KiB`;
  return `${n} bytes`;
}

/** The error text for stdin over the op's limit, or undefined when it fits. */
export function stdinTooLarge(provider: Provider, op: string, bytes: number): string | undefined {
  const limit = opSpec(provider, op)?.stdin;
  if (limit === undefined || bytes <= limit) return undefined;
  return `${op}: input is ${bytes > 10 * limit ? `more than ${formatBytes(10 * limit)}` : `${bytes} bytes`}; ${op} accepts at most ${formatBytes(limit)}`;
}

/** A table cell: a literal | would end it. */
const cell = (text: string): string => text.replaceAll('|', '\\|');

/** The README's op lists. */
export function opsMarkdown(): string {
  const scripts: Record<Provider, string> = { session: 'gc-session-k8s', events: 'gc-events-k8s', beads: 'gc-beads-k8s', admin: 'gc-k8s' };
  const out: string[] = [];
  for (const provider of ['session', 'events', 'beads'] as const) {
    out.push(
      `| \`${scripts[provider]}\` op | arguments | stdin limit | retried after a daemon crash | what it does |`,
      '|---|---|---|---|---|',
    );
    for (const [op, spec] of Object.entries(OPS[provider])) {
      const usage = spec.usage === '' ? '' : `\`${cell(spec.usage)}\``;
      out.push(
        `| \`${op}\` | ${usage} | ${spec.stdin === undefined ? '' : formatBytes(spec.stdin)} | ${spec.retrySafe === true ? 'yes' : ''} | ${cell(spec.summary)} |`,
      );
    }
    out.push('');
  }
  return out.join('\n').trimEnd();
}

/**
 * What is wrong with the op's arguments before anything is sent or started (a missing required
 * argument, watch's afterSeq), or undefined. The daemon checks the same, and its handlers the rest.
 */
export function argumentProblem(provider: Provider, op: string, args: readonly string[]): string | undefined {
  const required = opSpec(provider, op)?.args ?? [];
  const missing = required.findIndex((_, i) => args[i] === undefined || args[i] === '');
  if (missing >= 0) return `${op}: missing ${required[missing]}`;
  if (provider === 'events' && op === 'watch') {
    try {
      parseAfterSeqArg(args[0]);
    } catch (err) {
      return messageOf(err);
    }
  }
  return undefined;
}
