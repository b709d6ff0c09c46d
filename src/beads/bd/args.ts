// Exec beads ops → bd argv. Every value is its own argv element (or a flag's `=value`), so no
// value is ever parsed as a flag or by a shell. What upstream's script drops is mapped:
// assignee, priority, title/status/type updates, remove_labels, reparenting. `from` lives in
// metadata key "from" as gc's native bd store keeps it; `ref` in bd's external_ref; `needs` in
// `needs:<id>` labels (they may name beads that do not exist yet, which bd deps refuse).

import type { CreateRequest, UpdateRequest } from '../wire.js';

export const NEEDS_LABEL = 'needs:';
export const FROM_METADATA_KEY = 'from';
/**
 * Dolt keeps created_at to the second, so beads created within one second would list in bd's
 * order; this hidden key (never shown to gc) keeps creation order exact.
 */
export const ORDER_METADATA_KEY = 'gc.order';

let lastOrder = 0;
/** Strictly increasing per daemon, sortable as text ("o" keeps bd from typing it as a number). */
export function nextOrderKey(now = Date.now()): string {
  lastOrder = Math.max(lastOrder + 1, now * 1000);
  return `o${String(lastOrder).padStart(17, '0')}`;
}

/** Flags that make bd list return every bead it has, whatever its status or type. */
const LIST_ALL = ['--json', '--all', '--include-infra', '--include-gates', '--limit=0', '--flat'];

/** pflag string slices are CSV: quote a label that holds a comma or a quote. */
function csvField(value: string): string {
  return /[",\n\r]/.test(value) || value !== value.trim() ? `"${value.replaceAll('"', '""')}"` : value;
}

export function createArgs(req: CreateRequest, orderKey = nextOrderKey()): string[] {
  const args = ['create', '--json', `--title=${req.title}`, `--type=${req.type}`];
  if (req.priority !== undefined) args.push(`--priority=${req.priority}`);
  if (req.description !== undefined) args.push(`--description=${req.description}`);
  if (req.assignee !== undefined) args.push(`--assignee=${req.assignee}`);
  if (req.parentId !== undefined) args.push(`--parent=${req.parentId}`, '--no-inherit-labels');
  if (req.ref !== undefined) args.push(`--external-ref=${req.ref}`);
  if (req.ephemeral === true) args.push('--ephemeral');
  if (req.noHistory === true) args.push('--no-history');
  if (req.deferUntil !== undefined) args.push(`--defer=${req.deferUntil}`);
  const labels = [...req.labels, ...req.needs.map((n) => `${NEEDS_LABEL}${n}`)];
  if (labels.length > 0) args.push(`--labels=${labels.map(csvField).join(',')}`);
  const metadata: Record<string, string> = { ...req.metadata };
  if (req.from !== undefined) metadata[FROM_METADATA_KEY] = req.from;
  metadata[ORDER_METADATA_KEY] = orderKey;
  args.push(`--metadata=${JSON.stringify(metadata)}`);
  return args;
}

/** undefined when the update changes nothing. */
export function updateArgs(id: string, req: UpdateRequest): string[] | undefined {
  const args = ['update', '--json'];
  if (req.title !== undefined) args.push(`--title=${req.title}`);
  if (req.status !== undefined) args.push(`--status=${req.status}`);
  if (req.type !== undefined) args.push(`--type=${req.type}`);
  if (req.priority !== undefined) args.push(`--priority=${req.priority}`);
  if (req.description !== undefined) args.push(`--description=${req.description}`);
  if (req.parentId !== undefined) args.push(`--parent=${req.parentId}`);
  if (req.assignee !== undefined) args.push(`--assignee=${req.assignee}`);
  for (const l of req.labels) args.push(`--add-label=${csvField(l)}`);
  for (const l of req.removeLabels) args.push(`--remove-label=${csvField(l)}`);
  for (const k of Object.keys(req.metadata).sort()) args.push(`--set-metadata=${k}=${req.metadata[k] ?? ''}`);
  return args.length === 2 ? undefined : [...args, '--', id];
}

export function showArgs(id: string): string[] {
  return ['show', '--json', `--id=${id}`];
}

export function closeArgs(id: string): string[] {
  return ['close', '--json', '--force', '--', id];
}

export function deleteArgs(id: string): string[] {
  return ['delete', '--json', '--force', '--', id];
}

export function setMetadataArgs(id: string, key: string, value: string): string[] {
  return ['update', '--json', `--set-metadata=${key}=${value}`, '--', id];
}

export interface ListFilter {
  readonly status?: string;
  readonly assignee?: string;
  readonly type?: string;
}

export function listArgs(filter: ListFilter): string[] {
  const args = ['list', ...LIST_ALL];
  // bd's stored statuses are finer than gc's: "open" also covers blocked/deferred beads, so the
  // status filter is applied after normalizing, not by bd.
  if (filter.assignee !== undefined) args.push(`--assignee=${filter.assignee}`);
  if (filter.type !== undefined) args.push(`--type=${filter.type}`);
  return args;
}

export function childrenArgs(parentId: string): string[] {
  return ['list', ...LIST_ALL, `--parent=${parentId}`];
}

export function labelArgs(label: string): string[] {
  return ['list', ...LIST_ALL, `--label=${csvField(label)}`];
}

export function readyArgs(includeEphemeral = false): string[] {
  return ['ready', '--json', '--limit=0', ...(includeEphemeral ? ['--include-ephemeral'] : [])];
}

export function reopenArgs(id: string): string[] {
  return ['reopen', '--json', '--', id];
}

export function depAddArgs(issue: string, dependsOn: string, type: string): string[] {
  return ['dep', 'add', '--json', `--type=${type}`, '--', issue, dependsOn];
}

export function depRemoveArgs(issue: string, dependsOn: string): string[] {
  return ['dep', 'remove', '--json', '--', issue, dependsOn];
}

export function depListArgs(id: string, direction: 'down' | 'up'): string[] {
  return ['dep', 'list', '--json', `--direction=${direction}`, '--', id];
}
