// Pure builders for a session's workspace (`workspace` in [session.k8s]): the claim a session owns
// in "claim" mode, and the volume, mount and (for "shared") the init step that makes the session's
// own subdirectory of the shared claim, writable by the non-root agent.
//
// Names are stable and collision-free as pod names are (podNameFor is injective), so the next
// start of a session — after a stop, an eviction or a gc restart — finds the same claim.

import type { ClaimManifest, Container, Volume, VolumeMount } from '../kube/types.js';
import { podNameFor, sessionLabelValue } from './names.js';
import { WORKSPACE } from './paths.js';
import type { PodSettings } from './settings.js';

export const WORKSPACE_COMPONENT = 'agent-workspace';
/** the session whose workspace a claim is (the raw name, as on its pods) */
export const ANNOTATION_CLAIM_SESSION = 'gc-session-name';
/** when a start last mounted the claim (RFC 3339): what `workspaces prune --unused-for` reads */
export const ANNOTATION_LAST_USED = 'gc-k8s.io/last-used';
/** where the init step of a shared workspace sees the whole shared claim */
const SHARED_ROOT = '/gc-k8s-shared';
const WS_VOLUME = 'ws';

export function claimNameFor(sessionName: string): string {
  return `ws-${podNameFor(sessionName)}`;
}

/** The session's own directory in the shared claim. */
export function sharedSubPath(sessionName: string): string {
  return `sessions/${podNameFor(sessionName)}`;
}

/** The selector of every workspace claim gc-k8s made (in one namespace). */
export const WORKSPACE_SELECTOR = `app.kubernetes.io/managed-by=gc-k8s,app.kubernetes.io/component=${WORKSPACE_COMPONENT}`;

export function buildWorkspaceClaim(sessionName: string, settings: PodSettings, now: Date): ClaimManifest {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: {
      name: claimNameFor(sessionName),
      labels: {
        ...settings.workspaceLabels,
        'app.kubernetes.io/managed-by': 'gc-k8s',
        'app.kubernetes.io/component': WORKSPACE_COMPONENT,
        'app.kubernetes.io/part-of': 'gas-city',
        'gc-k8s.io/session': sessionLabelValue(sessionName),
      },
      annotations: { [ANNOTATION_CLAIM_SESSION]: sessionName, [ANNOTATION_LAST_USED]: now.toISOString() },
    },
    spec: {
      accessModes: [settings.workspaceAccessMode],
      resources: { requests: { storage: settings.workspaceSize } },
      ...(settings.workspaceStorageClass === '' ? {} : { storageClassName: settings.workspaceStorageClass }),
      volumeMode: 'Filesystem',
    },
  };
}

export interface WorkspaceVolume {
  readonly volume: Volume;
  readonly mount: VolumeMount;
  /** shared mode: makes the session's subdirectory (owned by the agent's user and group) before the agent mounts it */
  readonly init?: Omit<Container, 'image' | 'imagePullPolicy' | 'securityContext' | 'resources'>;
}

/** The /workspace volume of a claim or shared workspace; undefined for the other modes. */
export function workspaceVolume(sessionName: string, settings: PodSettings): WorkspaceVolume | undefined {
  if (settings.workspace === 'claim') {
    return {
      volume: { name: WS_VOLUME, persistentVolumeClaim: { claimName: claimNameFor(sessionName) } },
      mount: { name: WS_VOLUME, mountPath: WORKSPACE },
    };
  }
  if (settings.workspace !== 'shared') return undefined;
  const sub = sharedSubPath(sessionName);
  return {
    volume: { name: WS_VOLUME, persistentVolumeClaim: { claimName: settings.workspaceClaim } },
    mount: { name: WS_VOLUME, mountPath: WORKSPACE, subPath: sub },
    // The kubelet would make a missing subPath directory itself, but root-owned and 0750: the
    // agent could not write. This step runs as the agent's user, in the volume's fsGroup.
    init: {
      name: 'workspace',
      command: ['/bin/sh', '-c', 'mkdir -p -- "$1" && chmod 0700 -- "$1"', 'sh', `${SHARED_ROOT}/${sub}`],
      volumeMounts: [{ name: WS_VOLUME, mountPath: SHARED_ROOT }],
    },
  };
}
