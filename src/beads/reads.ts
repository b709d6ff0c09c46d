// The read ops of the exec beads protocol as one request type, answered either from Dolt directly
// (sql-ops.ts) or through bd (ops.ts): the handler parses a read once and both paths serve it,
// so the two can only differ in where the rows come from.

import { GcK8sError } from '../errors.js';
import type { BdRun, ListQuery } from './ops.js';
import * as ops from './ops.js';
import * as sqlOps from './sql-ops.js';
import type { SqlReads } from './sql-reads.js';

export type ReadRequest =
  | { readonly op: 'get'; readonly id: string }
  | { readonly op: 'list'; readonly query: ListQuery }
  | { readonly op: 'ready' }
  | { readonly op: 'children'; readonly parentId: string }
  | { readonly op: 'list-by-label'; readonly label: string; readonly limit: number }
  | { readonly op: 'dep-list'; readonly id: string; readonly direction: 'down' | 'up' };

function required(op: string, args: readonly string[], index: number, what: string): string {
  const v = args[index];
  if (v === undefined || v === '') throw new GcK8sError('BAD_REQUEST', `${op}: missing ${what}`);
  return v;
}

function limitArg(op: string, raw = '0'): number {
  if (!/^\d+$/.test(raw)) throw new GcK8sError('BAD_REQUEST', `${op}: limit must be a non-negative integer, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

/** `--name=value` or `--name value` flags of `list`; other arguments are ignored (gc filters too). */
export function listFlags(args: readonly string[]): ListQuery {
  const out: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    const m = /^--(status|assignee|type|limit)(?:=(.*))?$/s.exec(a);
    if (m === null) continue;
    const value = m[2] ?? args[++i] ?? '';
    out[m[1] ?? ''] = value;
  }
  const limit = out['limit'];
  if (limit !== undefined && !/^\d+$/.test(limit)) throw new GcK8sError('BAD_REQUEST', `list: --limit must be a non-negative integer, got ${JSON.stringify(limit)}`);
  return {
    ...(out['status'] ? { status: out['status'] } : {}),
    ...(out['assignee'] ? { assignee: out['assignee'] } : {}),
    ...(out['type'] ? { type: out['type'] } : {}),
    ...(limit === undefined ? {} : { limit: Number(limit) }),
  };
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
    case 'ready':
      return { op };
    case 'children':
      return { op, parentId: required(op, args, 0, 'parent id') };
    case 'list-by-label':
      return { op, label: required(op, args, 0, 'label'), limit: limitArg(op, args[1]) };
    case 'dep-list': {
      const direction = args[1] ?? 'down';
      if (direction !== 'down' && direction !== 'up') throw new GcK8sError('BAD_REQUEST', `dep-list: direction must be down or up, got ${JSON.stringify(direction)}`);
      return { op, id: required(op, args, 0, 'bead id'), direction };
    }
  }
  return undefined;
}

export function readViaBd(run: BdRun, req: ReadRequest): Promise<unknown> {
  switch (req.op) {
    case 'get':
      return ops.getBead(run, req.id);
    case 'list':
      return ops.listBeads(run, req.query);
    case 'ready':
      return ops.readyBeads(run);
    case 'children':
      return ops.childrenOf(run, req.parentId);
    case 'list-by-label':
      return ops.byLabel(run, req.label, req.limit);
    case 'dep-list':
      return ops.depList(run, req.id, req.direction);
  }
}

/** undefined: this read needs bd (a waits-for gate, an id that is no bead here). */
export function readDirect(reads: SqlReads, req: ReadRequest): Promise<unknown> {
  switch (req.op) {
    case 'get':
      return sqlOps.getBead(reads, req.id);
    case 'list':
      return sqlOps.listBeads(reads, req.query);
    case 'ready':
      return sqlOps.readyBeads(reads);
    case 'children':
      return sqlOps.childrenOf(reads, req.parentId);
    case 'list-by-label':
      return sqlOps.byLabel(reads, req.label, req.limit);
    case 'dep-list':
      return sqlOps.depList(reads, req.id, req.direction);
  }
}
