// The exec beads wire (gc internal/beads/exec): the create and update requests gc writes to our
// stdin, and the bead JSON we print. Requests are validated strictly before anything runs, so
// malformed input exits 1 with nothing written.

import { GcK8sError, quote, messageOf } from '../errors.js';

/** A bead as gc's exec store reads it (`beadWire`): `type`, never `issue_type`. */
export interface WireBead {
  id: string;
  title: string;
  status: 'open' | 'in_progress' | 'closed';
  type: string;
  priority?: number;
  created_at: string;
  assignee: string;
  from: string;
  parent_id: string;
  ref: string;
  needs: string[];
  description: string;
  labels: string[];
  metadata?: Record<string, string>;
  // Gas City 1.x fields; a v0.15.1 gc ignores them (Go's decoder skips unknown keys).
  /** the store's own status when it is finer than gc's three (blocked, deferred, hooked…) */
  status_detail?: string;
  updated_at?: string;
  ephemeral?: boolean;
  no_history?: boolean;
  defer_until?: string;
}

export interface CreateRequest {
  readonly title: string;
  readonly type: string;
  readonly priority?: number;
  readonly labels: readonly string[];
  readonly parentId?: string;
  readonly ref?: string;
  readonly needs: readonly string[];
  readonly description?: string;
  readonly assignee?: string;
  readonly from?: string;
  readonly metadata: Readonly<Record<string, string>>;
  readonly ephemeral?: boolean;
  readonly noHistory?: boolean;
  /** RFC 3339; hidden from ready until then */
  readonly deferUntil?: string;
}

export interface UpdateRequest {
  readonly title?: string;
  readonly status?: string;
  readonly type?: string;
  readonly priority?: number;
  readonly description?: string;
  readonly parentId?: string;
  readonly assignee?: string;
  readonly labels: readonly string[];
  readonly removeLabels: readonly string[];
  readonly metadata: Readonly<Record<string, string>>;
}

export interface WireDep {
  issue_id: string;
  depends_on_id: string;
  type: string;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function parseObject(text: string, what: string): Record<string, Json> {
  if (text.trim() === '') throw new GcK8sError('BAD_REQUEST', `${what}: empty input, expected a JSON object`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new GcK8sError('BAD_REQUEST', `${what}: invalid JSON: ${messageOf(err)}`, { cause: err });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new GcK8sError('BAD_REQUEST', `${what}: expected a JSON object`);
  return value as Record<string, Json>;
}

/** Go's decoder treats null like an absent field; anything else must have the declared type. */
function str(obj: Record<string, Json>, key: string, what: string): string | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new GcK8sError('BAD_REQUEST', `${what}: "${key}" must be a string`);
  return v;
}

function int(obj: Record<string, Json>, key: string, what: string): number | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new GcK8sError('BAD_REQUEST', `${what}: "${key}" must be an integer`);
  return v;
}

function bool(obj: Record<string, Json>, key: string, what: string): boolean | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw new GcK8sError('BAD_REQUEST', `${what}: "${key}" must be a boolean`);
  return v;
}

/** Go's zero time.Time is how a non-pointer field says "unset". */
const GO_ZERO_TIME = /^0001-01-01T00:00:00(?:\.0+)?Z$/;

function time(obj: Record<string, Json>, key: string, what: string): string | undefined {
  const v = str(obj, key, what);
  if (v === undefined || v === '' || GO_ZERO_TIME.test(v)) return undefined;
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/.test(v) || Number.isNaN(Date.parse(v)))
    throw new GcK8sError('BAD_REQUEST', `${what}: "${key}" must be an RFC 3339 time, got ${quote(v)}`);
  return v;
}

function strings(obj: Record<string, Json>, key: string, what: string): string[] {
  const v = obj[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string'))
    throw new GcK8sError('BAD_REQUEST', `${what}: "${key}" must be an array of strings`);
  return v as string[];
}

function stringMap(obj: Record<string, Json>, key: string, what: string): Record<string, string> {
  const v = obj[key];
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw new GcK8sError('BAD_REQUEST', `${what}: "${key}" must be an object of strings`);
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) {
    if (typeof val !== 'string') throw new GcK8sError('BAD_REQUEST', `${what}: "${key}.${k}" must be a string`);
    if (k === '') throw new GcK8sError('BAD_REQUEST', `${what}: "${key}" has an empty key`);
    out[k] = val;
  }
  return out;
}

/** Values end up as bd argv elements, which cannot hold NUL. */
function noNul(values: readonly (string | undefined)[], what: string): void {
  if (values.some((v) => v?.includes('\0') === true)) throw new GcK8sError('BAD_REQUEST', `${what}: strings must not contain NUL`);
}

export function parseCreateRequest(text: string): CreateRequest {
  const what = 'create: request JSON';
  const obj = parseObject(text, what);
  const title = str(obj, 'title', what) ?? '';
  if (title.trim() === '') throw new GcK8sError('BAD_REQUEST', `${what}: "title" is required`);
  const type = str(obj, 'type', what);
  const req: CreateRequest = {
    title,
    type: type === undefined || type === '' ? 'task' : type,
    ...opt('priority', int(obj, 'priority', what)),
    labels: strings(obj, 'labels', what),
    ...opt('parentId', nonEmpty(str(obj, 'parent_id', what))),
    ...opt('ref', nonEmpty(str(obj, 'ref', what))),
    needs: strings(obj, 'needs', what),
    ...opt('description', nonEmpty(str(obj, 'description', what))),
    ...opt('assignee', nonEmpty(str(obj, 'assignee', what))),
    ...opt('from', nonEmpty(str(obj, 'from', what))),
    metadata: stringMap(obj, 'metadata', what),
    ...opt('ephemeral', bool(obj, 'ephemeral', what)),
    ...opt('noHistory', bool(obj, 'no_history', what)),
    ...opt('deferUntil', time(obj, 'defer_until', what)),
  };
  noNul(
    [
      req.title,
      req.type,
      req.parentId,
      req.ref,
      req.description,
      req.assignee,
      req.from,
      ...req.labels,
      ...req.needs,
      ...Object.keys(req.metadata),
      ...Object.values(req.metadata),
    ],
    what,
  );
  return req;
}

export function parseUpdateRequest(text: string): UpdateRequest {
  const what = 'update: request JSON';
  const obj = parseObject(text, what);
  const req: UpdateRequest = {
    ...opt('title', str(obj, 'title', what)),
    ...opt('status', str(obj, 'status', what)),
    ...opt('type', nonEmpty(str(obj, 'type', what))),
    ...opt('priority', int(obj, 'priority', what)),
    ...opt('description', str(obj, 'description', what)),
    ...opt('parentId', str(obj, 'parent_id', what)),
    ...opt('assignee', str(obj, 'assignee', what)),
    labels: strings(obj, 'labels', what),
    removeLabels: strings(obj, 'remove_labels', what),
    metadata: stringMap(obj, 'metadata', what),
  };
  if (req.status !== undefined && !['open', 'in_progress', 'closed'].includes(req.status)) {
    throw new GcK8sError('BAD_REQUEST', `${what}: "status" must be open, in_progress or closed, got ${quote(req.status)}`);
  }
  if (req.title?.trim() === '') throw new GcK8sError('BAD_REQUEST', `${what}: "title" must not be empty`);
  noNul(
    [
      req.title,
      req.status,
      req.type,
      req.description,
      req.parentId,
      req.assignee,
      ...req.labels,
      ...req.removeLabels,
      ...Object.keys(req.metadata),
      ...Object.values(req.metadata),
    ],
    what,
  );
  return req;
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === '' ? undefined : v;
}

function opt<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

/** True when the update changes nothing (bd refuses an update without flags). */
export function isEmptyUpdate(u: UpdateRequest): boolean {
  return (
    u.title === undefined &&
    u.status === undefined &&
    u.type === undefined &&
    u.priority === undefined &&
    u.description === undefined &&
    u.parentId === undefined &&
    u.assignee === undefined &&
    u.labels.length === 0 &&
    u.removeLabels.length === 0 &&
    Object.keys(u.metadata).length === 0
  );
}
