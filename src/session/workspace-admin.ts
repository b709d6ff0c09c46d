// What `gc-k8s workspaces` shows and does: the kept workspace claims of a namespace, with the
// session each belongs to and whether a pod mounts it; deleting one (never while a pod mounts it:
// Kubernetes would only defer the deletion until the session stops, and the work would go then);
// and pruning the ones no start has mounted for a while.

import { GcK8sError, hasCode, quote } from '../errors.js';
import type { NamespaceClient } from '../kube/ports.js';
import type { Claim, Pod } from '../kube/types.js';
import { ANNOTATION_CLAIM_SESSION, ANNOTATION_LAST_USED, claimNameFor, WORKSPACE_SELECTOR } from './workspace.js';

export interface WorkspaceInfo {
  readonly session: string;
  readonly claim: string;
  readonly size: string;
  readonly storageClass: string;
  readonly phase: string;
  readonly created: string;
  readonly lastUsed: string;
  /** the node its volume lives on, when Kubernetes says (selected-node), else the node of a pod using it */
  readonly node: string;
  /** pods that mount it now */
  readonly usedBy: readonly string[];
  readonly deleting: boolean;
}

function mountedBy(claim: string, pods: readonly Pod[]): Pod[] {
  return pods.filter((p) => p.claims?.includes(claim) === true);
}

function info(claim: Claim, pods: readonly Pod[]): WorkspaceInfo {
  const users = mountedBy(claim.name, pods);
  return {
    session: claim.annotations[ANNOTATION_CLAIM_SESSION] ?? '',
    claim: claim.name,
    size: claim.capacity ?? claim.requested,
    storageClass: claim.storageClassName ?? '',
    phase: claim.phase,
    created: claim.creationTimestamp,
    lastUsed: claim.annotations[ANNOTATION_LAST_USED] ?? claim.creationTimestamp,
    node: claim.selectedNode ?? users.find((p) => p.nodeName !== undefined)?.nodeName ?? '',
    usedBy: users.map((p) => p.name).sort(),
    deleting: claim.deletionTimestamp !== undefined,
  };
}

export async function listWorkspaces(client: NamespaceClient, signal: AbortSignal): Promise<WorkspaceInfo[]> {
  const [claims, pods] = await Promise.all([client.claims.list(WORKSPACE_SELECTOR, { signal }), client.pods.list('', { signal })]);
  return claims.map((c) => info(c, pods)).sort((a, b) => (a.session < b.session ? -1 : a.session > b.session ? 1 : 0));
}

/** Deletes the kept workspace of a session; refused while a pod mounts it. */
export async function deleteWorkspace(client: NamespaceClient, session: string, signal: AbortSignal): Promise<WorkspaceInfo> {
  const name = claimNameFor(session);
  const [claim, pods] = await Promise.all([client.claims.get(name, { signal }), client.pods.list('', { signal })]);
  if (claim === undefined || claim.annotations[ANNOTATION_CLAIM_SESSION] !== session)
    throw new GcK8sError(
      'NOT_FOUND',
      `workspaces delete: session ${quote(session)} has no kept workspace in namespace ${client.namespace}`,
    );
  const users = mountedBy(name, pods);
  if (users.length > 0)
    throw new GcK8sError(
      'WORKSPACE_IN_USE',
      `workspaces delete: the workspace of session ${quote(session)} is mounted by pod ${users.map((p) => p.name).join(', ')}: stop the session first`,
    );
  try {
    await client.claims.delete(name, { uid: claim.uid, resourceVersion: claim.resourceVersion, signal });
  } catch (err) {
    if (hasCode(err, 'CONFLICT'))
      throw new GcK8sError('WORKSPACE_IN_USE', `workspaces delete: session ${quote(session)} was started meanwhile: its workspace stays`, {
        cause: err,
      });
    throw err;
  }
  return info(claim, pods);
}

/** Deletes every kept workspace no start has mounted for `unusedForMs` and no pod mounts now. */
export async function pruneWorkspaces(
  client: NamespaceClient,
  unusedForMs: number,
  now: number,
  signal: AbortSignal,
): Promise<{ deleted: WorkspaceInfo[]; kept: number }> {
  const all = await listWorkspaces(client, signal);
  const deleted: WorkspaceInfo[] = [];
  for (const ws of all) {
    const last = Date.parse(ws.lastUsed);
    if (ws.deleting || ws.usedBy.length > 0 || Number.isNaN(last) || now - last < unusedForMs) continue;
    // preconditions: a start that mounts it meanwhile records its use first (a new
    // resourceVersion), and a claim made again is a new uid; either way it stays
    const claim = await client.claims.get(ws.claim, { signal });
    if (claim === undefined || (claim.annotations[ANNOTATION_LAST_USED] ?? claim.creationTimestamp) !== ws.lastUsed) continue;
    if (mountedBy(ws.claim, await client.pods.list('', { signal })).length > 0) continue;
    try {
      if (await client.claims.delete(ws.claim, { uid: claim.uid, resourceVersion: claim.resourceVersion, signal })) deleted.push(ws);
    } catch (err) {
      if (!hasCode(err, 'CONFLICT')) throw err;
    }
  }
  return { deleted, kept: all.length - deleted.length };
}
