// A session's kept workspace at start and stop: the claim of "claim" mode made (or found again)
// before the pod, waited on until it binds or says why it cannot, rolled back when this start
// made it and the start fails, and deleted by stop only under workspace_reclaim = "delete". For
// "shared" mode the shared claim must exist. The manifest side is in workspace.ts.

import { GcK8sError, hasCode, quote } from '../errors.js';
import type { Claim, ClusterEvent } from '../kube/types.js';
import type { SessionPods } from './pods.js';
import { ANNOTATION_CLAIM_SESSION, ANNOTATION_LAST_USED, buildWorkspaceClaim, claimNameFor } from './workspace.js';

/** The claim a start mounts; `created`: this start made it (and so removes it if it fails). */
export interface PreparedWorkspace {
  readonly claim: string;
  readonly uid: string;
  readonly created: boolean;
}

const POLL_MS = 200;
/** PV controller and provisioner events that mean the claim will not bind as it is */
const FAILING = new Set(['ProvisioningFailed', 'FailedBinding', 'ClaimLost', 'ClaimMisbound']);

export async function prepareWorkspace(pods: SessionPods, name: string, signal: AbortSignal): Promise<PreparedWorkspace | undefined> {
  const { settings, client } = pods.deps;
  const ns = client.namespace;
  if (settings.workspace === 'shared') {
    const shared = await client.claims.get(settings.workspaceClaim, { signal });
    if (shared === undefined)
      throw new GcK8sError(
        'CONFIG_INVALID',
        `start: the shared workspace claim ${quote(settings.workspaceClaim)} does not exist in namespace ${ns}`,
      );
    if (shared.deletionTimestamp !== undefined)
      throw new GcK8sError('START_FAILED', `start: the shared workspace claim ${quote(settings.workspaceClaim)} is being deleted`);
    return undefined;
  }
  if (settings.workspace !== 'claim') return undefined;
  const claimName = claimNameFor(name);
  let claim = await gone(pods, claimName, await client.claims.get(claimName, { signal }), signal);
  let created = false;
  if (claim === undefined) {
    try {
      claim = await client.claims.create(buildWorkspaceClaim(name, settings, new Date(pods.deps.clock.now())), { signal });
      created = true;
      pods.deps.log.info({ session: name, claim: claimName }, 'workspace claim created');
    } catch (err) {
      if (!hasCode(err, 'ALREADY_EXISTS')) throw err;
      claim = await client.claims.get(claimName, { signal });
      if (claim === undefined) throw err;
    }
  } else {
    if (claim.annotations[ANNOTATION_CLAIM_SESSION] !== name) {
      const owner = claim.annotations[ANNOTATION_CLAIM_SESSION];
      throw new GcK8sError(
        'START_FAILED',
        `start: claim ${claimName} is not the workspace of session ${quote(name)} (${owner === undefined ? 'not made by gc-k8s' : `it belongs to ${quote(owner)}`})`,
      );
    }
    await client.claims
      .annotate(claimName, { [ANNOTATION_LAST_USED]: new Date(pods.deps.clock.now()).toISOString() }, { signal })
      .catch((err: unknown) => {
        pods.deps.log.warn({ err, claim: claimName }, 'could not record the use of a workspace claim');
      });
  }
  const prepared = { claim: claimName, uid: claim.uid, created };
  try {
    await untilBindable(pods, claim, signal);
  } catch (err) {
    await removeCreatedWorkspace(pods, prepared);
    throw err;
  }
  return prepared;
}

/** A claim being deleted (a stop with reclaim "delete", `workspaces delete`) is waited out: the start makes a new one. */
async function gone(pods: SessionPods, name: string, claim: Claim | undefined, signal: AbortSignal): Promise<Claim | undefined> {
  let current = claim;
  while (current?.deletionTimestamp !== undefined) {
    await pods.deps.clock.sleep(POLL_MS, signal);
    current = await pods.deps.client.claims.get(name, { signal });
  }
  return current;
}

/**
 * Returns once the claim is bound, or waits for its pod (WaitForFirstConsumer); fails as soon as
 * the PV controller or the provisioner says it cannot be provisioned (no such StorageClass…),
 * and at the start deadline with the last thing they said.
 */
async function untilBindable(pods: SessionPods, first: Claim, signal: AbortSignal): Promise<void> {
  const { client, clock } = pods.deps;
  let claim: Claim | undefined = first;
  let events: ClusterEvent[] = [];
  try {
    for (;;) {
      if (claim === undefined) throw new GcK8sError('START_FAILED', `start: workspace claim ${first.name} was deleted while starting`);
      if (claim.phase === 'Bound') return;
      if (claim.phase === 'Lost') throw new GcK8sError('START_FAILED', `start: workspace claim ${claim.name} lost its volume`);
      events = await client.claims.events(claim.name, { signal });
      if (events.some((e) => e.reason === 'WaitForFirstConsumer')) return;
      const failing = events.filter((e) => e.type === 'Warning' && FAILING.has(e.reason)).at(-1);
      if (failing !== undefined)
        throw new GcK8sError('START_FAILED', `start: workspace claim ${claim.name} cannot be provisioned: ${eventText(failing)}`);
      await clock.sleep(POLL_MS, signal);
      claim = await client.claims.get(first.name, { signal });
    }
  } catch (err) {
    if (!signal.aborted) throw err;
    const last = events.at(-1);
    const why =
      last === undefined
        ? `storage class ${quote(first.storageClassName ?? "(the cluster's default)")} provisioned nothing`
        : eventText(last);
    throw new GcK8sError('START_FAILED', `start: workspace claim ${first.name} did not bind before the start deadline: ${why}`, {
      cause: err,
    });
  }
}

function eventText(e: ClusterEvent): string {
  return `${e.reason}: ${e.message.slice(0, 300)}`;
}

/** Rolls back a claim this start made (never one a session had before). */
export async function removeCreatedWorkspace(pods: SessionPods, ws: PreparedWorkspace | undefined): Promise<void> {
  if (ws === undefined || !ws.created) return;
  try {
    await pods.deps.client.claims.delete(ws.claim, { uid: ws.uid, signal: pods.cleanupSignal() });
    pods.deps.log.info({ claim: ws.claim }, 'deleted the workspace claim of a failed start');
  } catch (err) {
    pods.deps.log.error({ err, claim: ws.claim }, 'could not delete the workspace claim of a failed start');
  }
}

/** stop under workspace_reclaim = "delete": the claim goes (once its pod is gone, Kubernetes removes it). */
export async function reclaimWorkspace(pods: SessionPods, name: string, signal: AbortSignal): Promise<void> {
  const { settings, client } = pods.deps;
  if (settings.workspace !== 'claim' || settings.workspaceReclaim !== 'delete') return;
  const claimName = claimNameFor(name);
  const claim = await client.claims.get(claimName, { signal });
  if (claim === undefined || claim.annotations[ANNOTATION_CLAIM_SESSION] !== name) return;
  await client.claims.delete(claimName, { uid: claim.uid, signal });
  pods.deps.log.info({ session: name, claim: claimName }, 'workspace claim deleted (workspace_reclaim = "delete")');
}
