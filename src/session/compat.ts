// Whether a running session's pod is what this start would create. Gas City 1.x starts every
// session again after it restarts (preserve mode): a live pod that matches is the session
// ("already exists", which gc reads as converged); a live pod made with another image, service
// account, resources or workspace is reported as incompatible rather than silently kept, and
// a pod that is not live is replaced whatever it was. The pod carries the summary it was made
// with, so the check needs no other state; pods without one (older versions) are taken as they are.

import type { PodManifest } from '../kube/types.js';

export const ANNOTATION_COMPAT = 'gc-k8s.io/compat';

/** What makes two session pods interchangeable, field by field (stable JSON keys). */
export interface Compat {
  readonly image: string;
  readonly serviceAccount: string;
  readonly resources: string;
  readonly workspace: string;
}

function resources(m: PodManifest): string {
  const r = m.spec.containers[0]?.resources;
  const q = (v: Record<string, string> | undefined, k: string): string => v?.[k] ?? '-';
  return `cpu ${q(r?.requests, 'cpu')}/${q(r?.limits, 'cpu')}, memory ${q(r?.requests, 'memory')}/${q(r?.limits, 'memory')}`;
}

function workspace(m: PodManifest): string {
  const ws = m.spec.volumes?.find((v) => v.name === 'ws');
  const sub = m.spec.containers[0]?.volumeMounts?.find((v) => v.name === 'ws')?.subPath;
  if (ws?.persistentVolumeClaim !== undefined) return `claim ${ws.persistentVolumeClaim.claimName}${sub === undefined ? '' : ` ${sub}`}`;
  return ws?.emptyDir !== undefined ? 'emptyDir' : 'image';
}

export function compatOf(m: PodManifest): Compat {
  return {
    image: m.spec.containers[0]?.image ?? '',
    serviceAccount: m.spec.serviceAccountName ?? '(default)',
    resources: resources(m),
    workspace: workspace(m),
  };
}

export function compatAnnotation(m: PodManifest): string {
  return JSON.stringify(compatOf(m));
}

/**
 * The differences between a pod's recorded summary and the wanted one, as "field: old → new";
 * empty when compatible or when the pod has no (readable) summary.
 */
export function incompatibilities(recorded: string | undefined, wanted: Compat): string[] {
  if (recorded === undefined) return [];
  let old: Partial<Record<keyof Compat, unknown>>;
  try {
    old = JSON.parse(recorded) as Partial<Record<keyof Compat, unknown>>;
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const key of Object.keys(wanted) as (keyof Compat)[]) {
    const was = old[key];
    if (typeof was === 'string' && was !== wanted[key]) out.push(`${key}: ${was} → ${wanted[key]}`);
  }
  return out;
}
