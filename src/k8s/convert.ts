// Wire JSON → our Pod / ConfigMap / ClusterEvent / ServiceAddress. Tolerant of missing fields (a pod just created
// has no status yet), strict only about identity: an object without metadata.name is rejected.

import type {
  Claim,
  ClusterEvent,
  ConfigMap,
  ContainerStateSummary,
  Job,
  Pod,
  PodCondition,
  PodPhase,
  ServiceAddress,
} from '../kube/types.js';
import { GcK8sError } from '../errors.js';
import { arr, bool, num, obj, str, strMap, type WireObject } from './wire.js';

const PHASES: ReadonlySet<string> = new Set(['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown']);

interface Meta {
  readonly name: string;
  readonly namespace: string;
  readonly uid: string;
  readonly resourceVersion: string;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly creationTimestamp: string;
}

function meta(wire: unknown, kind: string): Meta & { readonly raw: WireObject } {
  const m = obj(obj(wire).metadata);
  const name = str(m.name);
  if (name === undefined || name === '') {
    throw new GcK8sError('K8S_UNAVAILABLE', `reading ${kind}: object without metadata.name`);
  }
  return {
    raw: m,
    name,
    namespace: str(m.namespace) ?? '',
    uid: str(m.uid) ?? '',
    resourceVersion: str(m.resourceVersion) ?? '',
    labels: strMap(m.labels),
    annotations: strMap(m.annotations),
    creationTimestamp: str(m.creationTimestamp) ?? '',
  };
}

export function toPod(wire: unknown): Pod {
  const { raw, ...m } = meta(wire, 'pod');
  const status = obj(obj(wire).status);
  const phase = str(status.phase);
  const deletionTimestamp = str(raw.deletionTimestamp);
  const podIP = str(status.podIP);
  const spec = obj(obj(wire).spec);
  const nodeName = str(spec.nodeName);
  const gates = arr(spec.schedulingGates).map((g) => str(obj(g).name) ?? '');
  const claims = arr(spec.volumes)
    .map((v) => str(obj(obj(v).persistentVolumeClaim).claimName) ?? '')
    .filter((c) => c !== '');
  const controller = controllerOf(raw);
  const reason = str(status.reason);
  return {
    ...m,
    ...(reason === undefined || reason === '' ? {} : { reason }),
    ...(controller === undefined ? {} : { controller }),
    ...(gates.length === 0 ? {} : { schedulingGates: gates }),
    ...(claims.length === 0 ? {} : { claims }),
    ...(deletionTimestamp === undefined ? {} : { deletionTimestamp }),
    phase: phase !== undefined && PHASES.has(phase) ? (phase as PodPhase) : 'Unknown',
    ...(podIP === undefined || podIP === '' ? {} : { podIP }),
    ...(nodeName === undefined || nodeName === '' ? {} : { nodeName }),
    conditions: arr(status.conditions).map(toCondition),
    initContainers: arr(status.initContainerStatuses).map(toContainerState),
    containers: arr(status.containerStatuses).map(toContainerState),
  };
}

function controllerOf(meta: WireObject): Pod['controller'] {
  const ref = arr(meta.ownerReferences)
    .map(obj)
    .find((r) => bool(r.controller) === true);
  if (ref === undefined) return undefined;
  return { kind: str(ref.kind) ?? '', name: str(ref.name) ?? '', uid: str(ref.uid) ?? '' };
}

export function toJob(wire: unknown): Job {
  const { raw, ...m } = meta(wire, 'job');
  const deletionTimestamp = str(raw.deletionTimestamp);
  const ended = arr(obj(obj(wire).status).conditions)
    .map(obj)
    .find((c) => (str(c.type) === 'Complete' || str(c.type) === 'Failed') && str(c.status) === 'True');
  const finished = ended === undefined ? undefined : (str(ended.type) as 'Complete' | 'Failed');
  const failedReason = finished === 'Failed' ? str(ended?.reason) : undefined;
  return {
    ...m,
    ...(deletionTimestamp === undefined ? {} : { deletionTimestamp }),
    ...(finished === undefined ? {} : { finished }),
    ...(failedReason === undefined || failedReason === '' ? {} : { failedReason }),
  };
}

function toCondition(wire: unknown): PodCondition {
  const c = obj(wire);
  const reason = str(c.reason);
  const message = str(c.message);
  return {
    type: str(c.type) ?? '',
    status: str(c.status) ?? 'Unknown',
    ...(reason === undefined || reason === '' ? {} : { reason }),
    ...(message === undefined || message === '' ? {} : { message }),
  };
}

function toContainerState(wire: unknown): ContainerStateSummary {
  const c = obj(wire);
  const state = obj(c.state);
  const base = { name: str(c.name) ?? '', ready: bool(c.ready) ?? false, restartCount: num(c.restartCount) ?? 0 };
  // Exactly one of waiting/running/terminated is set; an empty state means the kubelet has not
  // reported yet.
  const detail = (key: 'waiting' | 'terminated'): { reason?: string; message?: string; exitCode?: number } => {
    const s = obj(state[key]);
    const reason = str(s.reason);
    const message = str(s.message);
    const exitCode = num(s.exitCode);
    return {
      ...(reason === undefined || reason === '' ? {} : { reason }),
      ...(message === undefined || message === '' ? {} : { message }),
      ...(exitCode === undefined ? {} : { exitCode }),
    };
  };
  if (state.waiting !== undefined) return { ...base, state: 'waiting', ...detail('waiting') };
  if (state.running !== undefined) return { ...base, state: 'running' };
  if (state.terminated !== undefined) return { ...base, state: 'terminated', ...detail('terminated') };
  return { ...base, state: 'unknown' };
}

export function toConfigMap(wire: unknown): ConfigMap {
  const { raw: _raw, ...m } = meta(wire, 'configmap');
  return { ...m, data: strMap(obj(wire).data) };
}

const CLAIM_PHASES: ReadonlySet<string> = new Set(['Pending', 'Bound', 'Lost']);

export function toClaim(wire: unknown): Claim {
  const { raw, ...m } = meta(wire, 'persistentvolumeclaim');
  const spec = obj(obj(wire).spec);
  const status = obj(obj(wire).status);
  const phase = str(status.phase) ?? '';
  const deletionTimestamp = str(raw.deletionTimestamp);
  const capacity = str(obj(status.capacity).storage);
  const storageClassName = str(spec.storageClassName);
  const volumeName = str(spec.volumeName);
  const selectedNode = m.annotations['volume.kubernetes.io/selected-node'];
  return {
    ...m,
    ...(deletionTimestamp === undefined ? {} : { deletionTimestamp }),
    phase: CLAIM_PHASES.has(phase) ? (phase as Claim['phase']) : 'Unknown',
    requested: str(obj(obj(spec.resources).requests).storage) ?? '',
    ...(capacity === undefined ? {} : { capacity }),
    ...(storageClassName === undefined || storageClassName === '' ? {} : { storageClassName }),
    ...(volumeName === undefined || volumeName === '' ? {} : { volumeName }),
    ...(selectedNode === undefined || selectedNode === '' ? {} : { selectedNode }),
  };
}

export function toClusterEvent(wire: unknown): ClusterEvent {
  const e = obj(wire);
  const m = obj(e.metadata);
  // lastTimestamp is set by the old events API, eventTime by the new one; series.lastObservedTime
  // is the newest for deduplicated events. Take the newest that is present.
  const candidates = [
    str(e.lastTimestamp),
    str(e.eventTime),
    str(obj(e.series).lastObservedTime),
    str(e.firstTimestamp),
    str(m.creationTimestamp),
  ].filter((t): t is string => t !== undefined && t !== '' && !Number.isNaN(Date.parse(t)));
  const lastSeen = candidates.reduce((a, b) => (Date.parse(b) > Date.parse(a) ? b : a), candidates[0] ?? '');
  const seriesCount = num(obj(e.series).count);
  return {
    type: str(e.type) ?? 'Normal',
    reason: str(e.reason) ?? '',
    message: str(e.message) ?? '',
    count: num(e.count) ?? seriesCount ?? 1,
    lastSeen,
  };
}

/** The list's items and its resourceVersion / continue token (metadata of a *List). */
export function listMeta(wire: unknown): { items: readonly unknown[]; resourceVersion: string; continueToken?: string } {
  const o = obj(wire);
  const m = obj(o.metadata);
  const token = str(m.continue);
  return {
    items: arr(o.items),
    resourceVersion: str(m.resourceVersion) ?? '',
    ...(token === undefined || token === '' ? {} : { continueToken: token }),
  };
}

export function toServiceAddress(wire: unknown): ServiceAddress {
  const m = meta(wire, 'service');
  const spec = obj(obj(wire).spec);
  return {
    name: m.name,
    namespace: m.namespace,
    clusterIP: str(spec.clusterIP) ?? '',
    ports: arr(spec.ports).map((p) => ({ name: str(obj(p).name) ?? '', port: num(obj(p).port) ?? 0 })),
  };
}

/** One key of a Secret's data, base64-decoded; undefined when absent. */
export function secretKeys(wire: unknown): string[] {
  return Object.keys(strMap(obj(wire).data));
}

export function secretValue(wire: unknown, key: string): string | undefined {
  const data = strMap(obj(wire).data);
  const encoded = data[key];
  return encoded === undefined ? undefined : Buffer.from(encoded, 'base64').toString('utf8');
}
