// The read ops of the exec beads protocol as one request type and one reader interface, served
// from Dolt directly (dolt/reader.ts) or through bd (bd/ops.ts): the handler parses a read once and
// both sources answer it, so the two can only differ in where the rows come from.

import { GcK8sError, quote } from '../errors.js';
import type { ListQuery } from './bd/ops.js';
import { normalizeIssueType } from './dolt/reader.js';
import type { WireBead, WireDep } from './wire.js';

/** `ready-count`'s filters (exact matches on the ready beads) and its clamp. */
export interface ReadyCountQuery {
  readonly type?: string;
  readonly label?: string;
  readonly assignee?: string;
  readonly min: number;
  /** undefined: unbounded */
  readonly max?: number;
}

export type ReadRequest =
  | { readonly op: 'get'; readonly id: string }
  | { readonly op: 'list'; readonly query: ListQuery }
  | { readonly op: 'ready'; readonly includeEphemeral: boolean }
  | { readonly op: 'ready-count'; readonly query: ReadyCountQuery }
  | { readonly op: 'children'; readonly parentId: string }
  | { readonly op: 'list-by-label'; readonly label: string; readonly limit: number }
  | { readonly op: 'dep-list'; readonly id: string; readonly direction: 'down' | 'up' };

function required(op: string, args: readonly string[], index: number, what: string): string {
  const v = args[index];
  if (v === undefined || v === '') throw new GcK8sError('BAD_REQUEST', `${op}: missing ${what}`);
  return v;
}

function limitArg(op: string, raw = '0'): number {
  if (!/^\d+$/.test(raw)) throw new GcK8sError('BAD_REQUEST', `${op}: limit must be a non-negative integer, got ${quote(raw)}`);
  return Number(raw);
}

/** The argument as a message may show it: one line, bounded (it is caller input). */
function shown(arg: string): string {
  let line = '';
  for (let i = 0; i < arg.length && line.length <= 80; i++) {
    const code = arg.charCodeAt(i);
    line += code < 0x20 || code === 0x7f ? '?' : arg.charAt(i);
  }
  return arg.length > 80 ? `${line.slice(0, 80)}…` : line;
}

/**
 * An argument the op does not take: exit 1 naming it, as Gas City 1.x expects (exit 2 would
 * read as "op not supported", and gc fails closed on that for ops it sends with flags).
 */
export function unsupported(op: string, arg: string): GcK8sError {
  return new GcK8sError('BAD_REQUEST', `${op}: unsupported argument: ${shown(arg)}`);
}

/** `--name=value` or `--name value` flags of `list`; anything else is refused. */
export function listFlags(args: readonly string[]): ListQuery {
  const out: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    const m = /^--(status|assignee|type|limit)(?:=(.*))?$/s.exec(a);
    if (m === null) throw unsupported('list', a);
    const value = m[2] ?? args[++i] ?? '';
    out[m[1] ?? ''] = value;
  }
  const limit = out['limit'];
  if (limit !== undefined && !/^\d+$/.test(limit))
    throw new GcK8sError('BAD_REQUEST', `list: --limit must be a non-negative integer, got ${quote(limit)}`);
  return {
    ...(out['status'] ? { status: out['status'] } : {}),
    ...(out['assignee'] ? { assignee: out['assignee'] } : {}),
    ...(out['type'] ? { type: out['type'] } : {}),
    ...(limit === undefined ? {} : { limit: Number(limit) }),
  };
}

/** The largest --min/--max taken: far above any pool, small enough that no number is unsafe. */
export const READY_COUNT_LIMIT = 1_000_000;
const COUNT_FLAGS = ['type', 'label', 'assignee', 'min', 'max'] as const;
type CountFlag = (typeof COUNT_FLAGS)[number];

function countBound(flag: 'min' | 'max', raw: string): number {
  if (!/^\d{1,7}$/.test(raw) || Number(raw) > READY_COUNT_LIMIT)
    throw new GcK8sError('BAD_REQUEST', `ready-count: --${flag} must be an integer from 0 to ${READY_COUNT_LIMIT}, got ${quote(raw)}`);
  return Number(raw);
}

/**
 * `ready-count [--type T] [--label L] [--assignee A] [--min N] [--max M]` (`--flag=value` too):
 * every flag at most once, no empty value, min ≤ max. Throws BAD_REQUEST naming the cause, with
 * no caller input longer than a line in it.
 */
export function readyCountQuery(args: readonly string[]): ReadyCountQuery {
  const given = new Map<CountFlag, string>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    const m = /^--([a-z]+)(?:=(.*))?$/s.exec(a);
    const flag = COUNT_FLAGS.find((f) => f === m?.[1]);
    if (m === null || flag === undefined) throw unsupported('ready-count', a);
    if (given.has(flag)) throw new GcK8sError('BAD_REQUEST', `ready-count: --${flag} given twice`);
    let value = m[2];
    if (value === undefined) {
      const next = args[i + 1];
      if (next === undefined || next.startsWith('--')) throw new GcK8sError('BAD_REQUEST', `ready-count: --${flag} needs a value`);
      value = next;
      i++;
    }
    if (value === '') throw new GcK8sError('BAD_REQUEST', `ready-count: --${flag} has an empty value`);
    given.set(flag, value);
  }
  const min = countBound('min', given.get('min') ?? '0');
  const rawMax = given.get('max');
  const max = rawMax === undefined ? undefined : countBound('max', rawMax);
  if (max !== undefined && min > max) throw new GcK8sError('BAD_REQUEST', `ready-count: --min ${min} is more than --max ${max}`);
  const type = given.get('type');
  const label = given.get('label');
  const assignee = given.get('assignee');
  return {
    ...(type === undefined ? {} : { type: normalizeIssueType(type) }),
    ...(label === undefined ? {} : { label }),
    ...(assignee === undefined ? {} : { assignee }),
    min,
    ...(max === undefined ? {} : { max }),
  };
}

/** How many of the ready beads match the query's filters, clamped to [min, max]. */
export function readyCount(ready: readonly WireBead[], q: ReadyCountQuery): number {
  const n = ready.filter(
    (b) =>
      (q.type === undefined || b.type === q.type) &&
      (q.label === undefined || b.labels.includes(q.label)) &&
      (q.assignee === undefined || b.assignee === q.assignee),
  ).length;
  return Math.min(Math.max(n, q.min), q.max ?? Number.POSITIVE_INFINITY);
}

/** A read op and its arguments as one validated request; undefined for the other ops. */
export function readRequest(op: string, args: readonly string[]): ReadRequest | undefined {
  switch (op) {
    case 'get':
      return { op, id: required(op, args, 0, 'bead id') };
    case 'list':
      return { op, query: listFlags(args) };
    case 'list-by-status':
      // Newer gc asks for this directly instead of filtering a full list.
      return { op: 'list', query: { status: required(op, args, 0, 'status'), limit: limitArg(op, args[1]) } };
    case 'ready': {
      let includeEphemeral = false;
      for (const a of args) {
        if (a !== '--include-ephemeral') throw unsupported(op, a);
        includeEphemeral = true;
      }
      return { op, includeEphemeral };
    }
    case 'ready-count':
      // the ready set `ready` answers (no wisps), counted: a pool's scale_check
      return { op, query: readyCountQuery(args) };
    case 'children':
      return { op, parentId: required(op, args, 0, 'parent id') };
    case 'list-by-label':
      return { op, label: required(op, args, 0, 'label'), limit: limitArg(op, args[1]) };
    case 'dep-list': {
      const direction = args[1] ?? 'down';
      if (direction !== 'down' && direction !== 'up')
        throw new GcK8sError('BAD_REQUEST', `dep-list: direction must be down or up, got ${quote(direction)}`);
      return { op, id: required(op, args, 0, 'bead id'), direction };
    }
  }
  return undefined;
}

/** One source of answers to the read ops; a method resolving to undefined means "ask bd". */
export interface BeadReader {
  get(id: string): Promise<WireBead>;
  list(q: ListQuery): Promise<WireBead[]>;
  ready(includeEphemeral: boolean): Promise<WireBead[] | undefined>;
  children(parentId: string): Promise<WireBead[]>;
  byLabel(label: string, limit: number): Promise<WireBead[]>;
  depList(id: string, direction: 'down' | 'up'): Promise<WireDep[] | undefined>;
}

/** Serves a read from `reader`: bd's (ops.bdReader) or Dolt's (sql-ops.DirectReader). */
export function answer(reader: BeadReader, req: ReadRequest): Promise<unknown> {
  switch (req.op) {
    case 'get':
      return reader.get(req.id);
    case 'list':
      return reader.list(req.query);
    case 'ready':
      return reader.ready(req.includeEphemeral);
    case 'ready-count':
      return reader.ready(false).then((ready) => (ready === undefined ? undefined : readyCount(ready, req.query)));
    case 'children':
      return reader.children(req.parentId);
    case 'list-by-label':
      return reader.byLabel(req.label, req.limit);
    case 'dep-list':
      return reader.depList(req.id, req.direction);
  }
}
