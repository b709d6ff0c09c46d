// bd's `--json` output → gc's bead wire. Status is normalized to gc's three (blocked, deferred,
// hooked, review… are still open work); `type` comes from issue_type; `from` from metadata
// "from" (where gc's native bd store keeps it); `ref` from external_ref; parent from bd's native
// parent (or a parent-child dependency), with upstream's `parent:` label as a fallback so stores
// written by gc-beads-k8s read back; `needs:` labels become needs. Metadata values that bd
// typed (numbers, booleans) are given back as their JSON text, like gc's Go decoder does.

import { GcK8sError } from '../../errors.js';
import { FROM_METADATA_KEY, NEEDS_LABEL, ORDER_METADATA_KEY } from './args.js';
import type { WireBead, WireDep } from '../wire.js';

type Obj = Record<string, unknown>;

const LEGACY_PARENT = 'parent:';
const LEGACY_META = 'meta:';

export function normalizeStatus(status: unknown): WireBead['status'] {
  if (status === 'closed') return 'closed';
  if (status === 'in_progress') return 'in_progress';
  return 'open';
}

function s(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function metadataOf(raw: unknown, labels: readonly string[]): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  for (const l of labels) {
    if (!l.startsWith(LEGACY_META)) continue;
    const kv = l.slice(LEGACY_META.length);
    const eq = kv.indexOf('=');
    if (eq > 0) out[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  let native: unknown = raw;
  if (typeof native === 'string' && native.trim().startsWith('{')) {
    try {
      native = JSON.parse(native);
    } catch {
      native = undefined;
    }
  }
  if (typeof native === 'object' && native !== null && !Array.isArray(native)) {
    for (const [k, v] of Object.entries(native as Obj)) out[k] = typeof v === 'string' ? v : JSON.stringify(v);
  }
  return Object.keys(out).length === 0 ? undefined : out;
}

function parentOf(issue: Obj, labels: readonly string[]): string {
  const native = s(issue['parent']) || s(issue['parent_id']);
  if (native !== '') return native;
  const deps = Array.isArray(issue['dependencies']) ? (issue['dependencies'] as Obj[]) : [];
  for (const d of deps) {
    const type = s(d['type']) || s(d['dependency_type']);
    const from = s(d['issue_id']) || s(issue['id']);
    if (type === 'parent-child' && from === s(issue['id'])) {
      const to = s(d['depends_on_id']) || s(d['id']);
      if (to !== '') return to;
    }
  }
  const legacy = labels.find((l) => l.startsWith(LEGACY_PARENT));
  return legacy === undefined ? '' : legacy.slice(LEGACY_PARENT.length);
}

/** A bead with the key that orders it: (created_at, hidden creation key, id). */
export interface OrderedBead {
  readonly bead: WireBead;
  readonly order: string;
}

export function toOrdered(issue: Obj): OrderedBead {
  let meta = issue['metadata'];
  if (typeof meta === 'string') {
    // metadata read from Dolt directly is the column's JSON text
    try {
      meta = JSON.parse(meta);
    } catch {
      meta = undefined;
    }
  }
  const order = typeof meta === 'object' && meta !== null ? s((meta as Obj)[ORDER_METADATA_KEY]) : '';
  return { bead: toWire(issue), order };
}

export function toWire(issue: Obj): WireBead {
  const id = s(issue['id']);
  if (id === '') throw new GcK8sError('INTERNAL', `bd returned an issue without an id: ${JSON.stringify(issue).slice(0, 200)}`);
  const allLabels = Array.isArray(issue['labels']) ? (issue['labels'] as unknown[]).filter((l): l is string => typeof l === 'string') : [];
  const all = metadataOf(issue['metadata'], allLabels);
  const from = all?.[FROM_METADATA_KEY] ?? '';
  const metadata = all === undefined ? undefined : hideReserved(all);
  const bead: WireBead = {
    id,
    title: s(issue['title']),
    status: normalizeStatus(issue['status']),
    type: s(issue['issue_type']) || s(issue['type']) || 'task',
    created_at: s(issue['created_at']),
    assignee: s(issue['assignee']),
    from: s(issue['from']) || from,
    parent_id: parentOf(issue, allLabels),
    ref: s(issue['external_ref']) || s(issue['ref']),
    needs: allLabels.filter((l) => l.startsWith(NEEDS_LABEL)).map((l) => l.slice(NEEDS_LABEL.length)),
    description: s(issue['description']),
    labels: allLabels.filter((l) => !l.startsWith(NEEDS_LABEL) && !l.startsWith(LEGACY_PARENT) && !l.startsWith(LEGACY_META)),
  };
  if (typeof issue['priority'] === 'number') bead.priority = issue['priority'];
  if (metadata !== undefined) bead.metadata = metadata;
  const raw = s(issue['status']);
  if (raw !== '' && raw !== bead.status) bead.status_detail = raw;
  const updated = s(issue['updated_at']);
  if (updated !== '') bead.updated_at = updated;
  if (issue['ephemeral'] === true) bead.ephemeral = true;
  if (issue['no_history'] === true) bead.no_history = true;
  const deferUntil = s(issue['defer_until']);
  if (deferUntil !== '') bead.defer_until = deferUntil;
  return bead;
}

/** bd prints warnings before its JSON on some paths: take the JSON value that starts the payload. */
export function parseBdJson(stdout: string, what: string): unknown {
  const text = stdout.trim();
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    const start = text.search(/^[[{]/m);
    if (start > 0) {
      try {
        return JSON.parse(text.slice(start));
      } catch {
        /* fall through */
      }
    }
    throw new GcK8sError('INTERNAL', `${what}: bd printed something that is not JSON: ${JSON.stringify(text.slice(0, 200))}`);
  }
}

/** An array of issues, one issue, or `{issues: [...]}`: whatever bd prints, as issues. */
export function issuesOf(value: unknown): Obj[] {
  if (value === undefined || value === null) return [];
  if (Array.isArray(value)) return value.filter((v): v is Obj => typeof v === 'object' && v !== null);
  if (typeof value === 'object') {
    const o = value as Obj;
    if (Array.isArray(o['issues'])) return issuesOf(o['issues']);
    if (typeof o['id'] === 'string') return [o];
  }
  return [];
}

function hideReserved(m: Record<string, string>): Record<string, string> | undefined {
  const { [FROM_METADATA_KEY]: _from, [ORDER_METADATA_KEY]: _order, ...rest } = m;
  return Object.keys(rest).length === 0 ? undefined : rest;
}

function cmp(a: string, b: string): number {
  return a === b ? 0 : a < b ? -1 : 1;
}

/** Creation order: second-precision created_at, then our hidden key, then id, so lists are stable. */
export function byCreation(a: OrderedBead, b: OrderedBead): number {
  return cmp(a.bead.created_at, b.bead.created_at) || cmp(a.order, b.order) || cmp(a.bead.id, b.bead.id);
}

export function toWireDeps(value: unknown, id: string, direction: 'down' | 'up'): WireDep[] {
  const out: WireDep[] = [];
  for (const d of issuesOfLoose(value)) {
    // bd's dep list prints the related issues with a dependency_type; older versions print
    // dependency rows. Either way, orient them relative to `id`.
    const type = s(d['dependency_type']) || s(d['type']) || 'blocks';
    if (typeof d['depends_on_id'] === 'string') {
      out.push({ issue_id: s(d['issue_id']) || id, depends_on_id: s(d['depends_on_id']), type });
    } else if (typeof d['id'] === 'string') {
      out.push(
        direction === 'down' ? { issue_id: id, depends_on_id: s(d['id']), type } : { issue_id: s(d['id']), depends_on_id: id, type },
      );
    }
  }
  return out;
}

function issuesOfLoose(value: unknown): Obj[] {
  if (Array.isArray(value)) return value.filter((v): v is Obj => typeof v === 'object' && v !== null);
  return issuesOf(value);
}
