// The ConfigMap layout shared with upstream's gc-events-k8s script: a counter `gc-events-seq`
// (data.seq) and one `gc-evt-%010d` per event (data.event = compact Event JSON). Pure functions,
// so events the bash script wrote decode with the same code as ours.
//
// One addition: a tombstone is a `gc-evt-%010d` ConfigMap labelled gc/component=event-tombstone.
// It holds a seq whose event could not be written, so watchers skip it at once instead of
// waiting. The different component keeps it out of upstream's `gc/component=event` queries.

import type { ConfigMap, ConfigMapManifest } from '../kube/types.js';
import { decodeStoredEvent, encodeEventJson, type GcEvent } from './event-json.js';
import { eventLabelValue } from './labels.js';
import { messageOf } from '../errors.js';

export const SEQ_CONFIGMAP = 'gc-events-seq';
export const EVENT_NAME_PREFIX = 'gc-evt-';

const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const LABEL_COMPONENT = 'gc/component';
const LABEL_TYPE = 'gc/type';
const LABEL_ACTOR = 'gc/actor';
export const MANAGED_BY = 'gascity';
export const COMPONENT_EVENT = 'event';
export const COMPONENT_SEQ = 'event-seq';
export const COMPONENT_TOMBSTONE = 'event-tombstone';

/**
 * Label selector for the ObjectCache the event store needs: events, tombstones and the counter
 * in one watch (`client.configMapCache(EVENT_CACHE_SELECTOR)`).
 */
export const EVENT_CACHE_SELECTOR = `${LABEL_COMPONENT} in (${COMPONENT_EVENT},${COMPONENT_SEQ},${COMPONENT_TOMBSTONE})`;
/** Selector for everything pruning may delete. */
export const PRUNABLE_SELECTOR = `${LABEL_COMPONENT} in (${COMPONENT_EVENT},${COMPONENT_TOMBSTONE})`;

export function eventConfigMapName(seq: number): string {
  return EVENT_NAME_PREFIX + String(seq).padStart(10, '0');
}

/** The seq encoded in an event ConfigMap name, or undefined for any other name. */
export function seqFromName(name: string): number | undefined {
  const m = /^gc-evt-(\d{10,16})$/.exec(name);
  if (m === null) return undefined;
  const seq = Number(m[1]);
  return Number.isSafeInteger(seq) && seq > 0 ? seq : undefined;
}

/** The caller's id for one record call: a retried call with the same id is stored once. */
export const ANNOTATION_RECORD_ID = 'gc-k8s.io/record-id';

export function buildEventConfigMap(event: GcEvent, recordId?: string): ConfigMapManifest {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: eventConfigMapName(event.seq),
      ...(recordId === undefined ? {} : { annotations: { [ANNOTATION_RECORD_ID]: recordId } }),
      labels: {
        [LABEL_MANAGED_BY]: MANAGED_BY,
        [LABEL_COMPONENT]: COMPONENT_EVENT,
        [LABEL_TYPE]: eventLabelValue(event.type),
        [LABEL_ACTOR]: eventLabelValue(event.actor),
      },
    },
    data: { event: encodeEventJson(event) },
  };
}

export function buildTombstoneConfigMap(seq: number, reason: string): ConfigMapManifest {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: eventConfigMapName(seq),
      labels: { [LABEL_MANAGED_BY]: MANAGED_BY, [LABEL_COMPONENT]: COMPONENT_TOMBSTONE },
    },
    data: { tombstone: reason },
  };
}

export const COUNTER_LABELS: Readonly<Record<string, string>> = { [LABEL_MANAGED_BY]: MANAGED_BY, [LABEL_COMPONENT]: COMPONENT_SEQ };

/** On the counter: the last block of seqs reserved, and by which process (see owner.ts). */
export const ANNOTATION_RESERVATION = 'gc-k8s.io/reservation';

export interface Reservation {
  readonly owner: string;
  readonly first: number;
  readonly count: number;
}

/**
 * A new counter, or (with `current`) a CAS replace of it that keeps unknown keys and labels;
 * `reservation` records the block this write reserves.
 */
export function buildCounterConfigMap(value: number, current?: ConfigMap, reservation?: Reservation): ConfigMapManifest {
  const annotations = {
    ...current?.annotations,
    ...(reservation === undefined ? {} : { [ANNOTATION_RESERVATION]: JSON.stringify(reservation) }),
  };
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: SEQ_CONFIGMAP,
      labels: { ...current?.labels, ...COUNTER_LABELS },
      ...(Object.keys(annotations).length === 0 ? {} : { annotations }),
      ...(current === undefined ? {} : { resourceVersion: current.resourceVersion }),
    },
    data: { ...current?.data, seq: String(value) },
  };
}

export function decodeReservation(cm: ConfigMap | undefined): Reservation | undefined {
  const text = cm?.annotations[ANNOTATION_RESERVATION];
  if (text === undefined) return undefined;
  try {
    const r = JSON.parse(text) as Partial<Reservation>;
    if (typeof r.owner !== 'string' || !Number.isSafeInteger(r.first) || !Number.isSafeInteger(r.count)) return undefined;
    if ((r.first as number) < 1 || (r.count as number) < 1 || (r.count as number) > 10_000) return undefined;
    return { owner: r.owner, first: r.first as number, count: r.count as number };
  } catch {
    return undefined;
  }
}

/** The counter value, or undefined when data.seq is missing or not a decimal integer (corrupted). */
export function decodeCounter(cm: ConfigMap): number | undefined {
  const text = cm.data.seq;
  if (text === undefined || !/^\d{1,16}$/.test(text.trim())) return undefined;
  const value = Number(text.trim());
  return Number.isSafeInteger(value) ? value : undefined;
}

export function counterHasLabels(cm: ConfigMap): boolean {
  return Object.entries(COUNTER_LABELS).every(([k, v]) => cm.labels[k] === v);
}

/** What an event-named ConfigMap holds: a deliverable event, or a seq watchers must skip. */
export type StoredEntry =
  | { readonly kind: 'event'; readonly seq: number; readonly event: GcEvent }
  | { readonly kind: 'skip'; readonly seq: number; readonly reason: string };

/** Decodes a `gc-evt-*` ConfigMap; undefined for anything else (e.g. the counter). */
export function decodeEventConfigMap(cm: ConfigMap): StoredEntry | undefined {
  const seq = seqFromName(cm.name);
  if (seq === undefined) return undefined;
  if (cm.labels[LABEL_COMPONENT] === COMPONENT_TOMBSTONE) return { kind: 'skip', seq, reason: `tombstone: ${cm.data.tombstone ?? ''}` };
  const text = cm.data.event;
  if (text === undefined) return { kind: 'skip', seq, reason: 'no data.event' };
  try {
    return { kind: 'event', seq, event: decodeStoredEvent(text, seq) };
  } catch (err) {
    return { kind: 'skip', seq, reason: messageOf(err) };
  }
}
