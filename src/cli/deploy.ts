// `gc-k8s deploy`, `gc-k8s deploy status` and `gc-k8s undeploy`: the in-cluster Deployment of
// contrib/k8s/controller (the user's gc controller with the daemon beside it). Arguments are
// checked first (deploy-manifest.ts), then the namespace is checked (the daemon's Role must be
// there: `gc-k8s install`; a Deployment there already needs --update), then the objects are
// applied by server-side apply and the rollout is followed, one progress line per change.
// undeploy removes what deploy made (marked), never sessions.

import { readFileSync } from 'node:fs';
import { findCityToml, loadConfig } from '../config/load.js';
import { GcK8sError, isGcK8sError, messageOf } from '../errors.js';
import { createKubeClient } from '../k8s/client.js';
import type { CallOptions, ObjectApi } from '../kube/ports.js';
import type { KubeObject } from '../kube/types.js';
import { createLogger } from '../log/logger.js';
import { withTimeout } from '../util/abort.js';
import {
  DEPLOY_FIELD_MANAGER,
  DEPLOY_MARK,
  DEPLOY_USAGE,
  DEPLOYMENT_NAME,
  LEADER_LEASE,
  POD_SELECTOR,
  documentOf,
  parseDeployArgs,
  renderDeploy,
  type DeployOptions,
} from './deploy-manifest.js';
import { MANIFEST_DIR } from './install-files.js';
import type { CliCommandIo } from './namespace-client.js';

const CALL_MS = 30_000;
const POLL_MS = 1_000;

type Json = Record<string, unknown>;
const isJson = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const at = (o: unknown, ...path: string[]): unknown => path.reduce<unknown>((v, k) => (isJson(v) ? v[k] : undefined), o);
const num = (v: unknown): number => (typeof v === 'number' ? v : 0);
const text = (v: unknown, otherwise = ''): string => (typeof v === 'string' ? v : otherwise);
/** the image of a container of a Deployment (or its template's) */
const imageOf = (o: unknown, container: string): string => {
  const containers = at(o, 'spec', 'template', 'spec', 'containers');
  return text(at(Array.isArray(containers) ? containers.find((c) => at(c, 'name') === container) : undefined, 'image'), '?');
};

const ref = (kind: 'Deployment' | 'PodDisruptionBudget' | 'Role' | 'ServiceAccount' | 'Lease', namespace: string, name: string) => ({
  apiVersion:
    kind === 'Deployment'
      ? 'apps/v1'
      : kind === 'PodDisruptionBudget'
        ? 'policy/v1'
        : kind === 'Role'
          ? 'rbac.authorization.k8s.io/v1'
          : kind === 'Lease'
            ? 'coordination.k8s.io/v1'
            : 'v1',
  kind,
  name,
  namespace,
});

const ours = (o: KubeObject | undefined): boolean => o?.metadata.labels?.[DEPLOY_MARK.label] === DEPLOY_MARK.value;

function readContrib(file: string): string {
  try {
    return readFileSync(new URL(file, MANIFEST_DIR), 'utf8');
  } catch (err) {
    throw new GcK8sError('CONFIG_INVALID', `contrib/k8s/${file}: ${messageOf(err)}`);
  }
}

/** What deploy checks in the namespace before writing anything; undefined when it may go ahead. */
export async function deployBlocker(
  objects: ObjectApi,
  namespace: string,
  update: boolean,
  call: () => CallOptions,
): Promise<string | undefined> {
  const role = await objects.get(ref('Role', namespace, 'gc-k8s'), call());
  const account = await objects.get(ref('ServiceAccount', namespace, 'gc-k8s'), call());
  if (role === undefined || account === undefined)
    return `namespace ${namespace} has no gc-k8s ${role === undefined ? 'Role' : 'ServiceAccount'} for the daemon: run \`gc-k8s install --namespace ${namespace}\` first (nothing was created)`;
  const rules = at(role, 'rules');
  const leases = Array.isArray(rules) && rules.some((r) => JSON.stringify(at(r, 'resources') ?? []).includes('"leases"'));
  if (!leases)
    return `the gc-k8s Role in ${namespace} predates leader election (no leases rule): run \`gc-k8s install --namespace ${namespace}\` again (nothing was created)`;
  const existing = await objects.get(ref('Deployment', namespace, DEPLOYMENT_NAME), call());
  if (existing !== undefined && !update)
    return `deployment ${namespace}/${DEPLOYMENT_NAME} already exists${ours(existing) ? '' : ' (not made by gc-k8s deploy)'}: \`gc-k8s deploy --update\` changes it (nothing was changed)`;
  if (existing !== undefined && !ours(existing))
    return `deployment ${namespace}/${DEPLOYMENT_NAME} was not made by gc-k8s deploy: remove it first (nothing was changed)`;
  return undefined;
}

/** One line about where the rollout is, from the Deployment and its pods; done when complete. */
export function rolloutState(deployment: KubeObject | undefined, pods: readonly KubeObject[]): { done: boolean; line: string } {
  if (deployment === undefined) return { done: false, line: 'the deployment is not there (yet)' };
  const want = num(at(deployment, 'spec', 'replicas'));
  const st = at(deployment, 'status');
  const observed = num(at(st, 'observedGeneration')) >= num(at(deployment, 'metadata', 'generation'));
  const updated = num(at(st, 'updatedReplicas'));
  const ready = num(at(st, 'readyReplicas'));
  const total = num(at(st, 'replicas'));
  const done = observed && updated === want && ready === want && total === want;
  const why = pods.map((pod) => {
    const name = text(at(pod, 'metadata', 'name'));
    if (at(pod, 'metadata', 'deletionTimestamp') !== undefined) return `${name}: terminating`;
    const statuses = at(pod, 'status', 'containerStatuses');
    const parts: string[] = [];
    for (const c of Array.isArray(statuses) ? statuses : []) {
      const waiting = at(c, 'state', 'waiting');
      if (isJson(waiting))
        parts.push(
          `${text(at(c, 'name'))} ${text(waiting['reason'], 'waiting')}${text(waiting['message']) === '' ? '' : `: ${text(waiting['message']).slice(0, 160)}`}`,
        );
      else if (at(c, 'ready') !== true) parts.push(`${text(at(c, 'name'))} not ready`);
    }
    const phase = text(at(pod, 'status', 'phase'), 'Pending');
    const unscheduled = (at(pod, 'status', 'conditions') as unknown[] | undefined)?.find(
      (c) => at(c, 'type') === 'PodScheduled' && at(c, 'status') === 'False',
    );
    if (unscheduled !== undefined) parts.push(`unschedulable: ${text(at(unscheduled, 'message')).slice(0, 160)}`);
    return `${name}: ${parts.length === 0 ? phase : parts.join(', ')}`;
  });
  return { done, line: `${ready}/${want} ready, ${updated} updated${why.length === 0 ? '' : ` (${why.join('; ')})`}` };
}

interface Target {
  readonly namespace: string;
  readonly context: string;
}

function target(io: CliCommandIo, options: DeployOptions): Target {
  if (options.namespace !== undefined && options.context !== undefined) return { namespace: options.namespace, context: options.context };
  const config = loadConfig({ env: io.env, cityToml: findCityToml(io.env, io.cwd) });
  return { namespace: options.namespace ?? config.pod.namespace, context: options.context ?? config.context };
}

async function withObjects<T>(
  io: CliCommandIo,
  context: string,
  signal: AbortSignal,
  work: (objects: ObjectApi) => Promise<T>,
): Promise<T> {
  const log = createLogger({ level: io.env['GC_K8S_LOG_LEVEL'] ?? 'warn', destination: io.stderr });
  const kube = await createKubeClient({ log, env: io.env, signal, ...(context === '' ? {} : { context }) });
  try {
    return await work(kube.objects);
  } finally {
    await kube.close();
  }
}

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        reject(signal.reason as Error);
      },
      { once: true },
    );
  });

async function deploy(objects: ObjectApi, where: Target, options: DeployOptions, io: CliCommandIo, signal: AbortSignal): Promise<number> {
  const call = (): CallOptions => ({ signal: withTimeout(signal, CALL_MS) });
  const template = documentOf(readContrib('controller/deployment.yaml'), 'Deployment', DEPLOYMENT_NAME);
  const pdb = documentOf(readContrib('pdb.yaml'), 'PodDisruptionBudget', 'gc-k8s');
  const daemonImage = options.image ?? imageOf(template, 'daemon');
  const [deployment, budget] = renderDeploy(template, pdb, {
    namespace: where.namespace,
    image: daemonImage,
    controllerImage: options.controllerImage ?? daemonImage,
    controllerCommand: options.controllerCommand,
    daemonEnv: options.daemonEnv,
  }) as [KubeObject, KubeObject];
  const blocker = await deployBlocker(objects, where.namespace, options.update, call);
  if (blocker !== undefined) throw new GcK8sError('CONFIG_INVALID', blocker);
  const begin = Date.now();
  const say = (line: string): void => {
    io.stdout.write(`[${((Date.now() - begin) / 1000).toFixed(1).padStart(5)}s] ${line}\n`);
  };
  await objects.apply(deployment, { ...call(), fieldManager: DEPLOY_FIELD_MANAGER, force: options.update });
  say(`${options.update ? 'applied' : 'created'} deployment ${where.namespace}/${DEPLOYMENT_NAME} (daemon ${daemonImage})`);
  // pdb.yaml's budget: install's covers the pod already; deploy makes (and later removes) its own only when there is none
  const existingBudget = await objects.get(ref('PodDisruptionBudget', where.namespace, 'gc-k8s'), call());
  if (existingBudget === undefined || ours(existingBudget)) {
    await objects.apply(budget, { ...call(), fieldManager: DEPLOY_FIELD_MANAGER, force: true });
    if (existingBudget === undefined) say(`created poddisruptionbudget ${where.namespace}/gc-k8s`);
  }
  const deadline = AbortSignal.any([signal, AbortSignal.timeout(options.timeoutS * 1000)]);
  let last = '';
  for (;;) {
    const current = await objects.get(ref('Deployment', where.namespace, DEPLOYMENT_NAME), call());
    const pods = await objects.list({ apiVersion: 'v1', kind: 'Pod', namespace: where.namespace }, POD_SELECTOR, call());
    const state = rolloutState(current, pods);
    if (state.line !== last) say(`rollout: ${state.line}`);
    last = state.line;
    if (state.done) {
      say(`ready: deployment ${where.namespace}/${DEPLOYMENT_NAME}`);
      return 0;
    }
    try {
      await sleep(POLL_MS, deadline);
    } catch {
      throw new GcK8sError(
        'TIMEOUT',
        `the rollout did not finish within ${options.timeoutS} s: ${last} (the deployment stays; gc-k8s undeploy removes it)`,
      );
    }
  }
}

async function status(objects: ObjectApi, where: Target, io: CliCommandIo, signal: AbortSignal): Promise<number> {
  const call = (): CallOptions => ({ signal: withTimeout(signal, CALL_MS) });
  const d = await objects.get(ref('Deployment', where.namespace, DEPLOYMENT_NAME), call());
  if (d === undefined) {
    io.stdout.write(`deployed: no (namespace ${where.namespace})\n`);
    return 1;
  }
  const pods = await objects.list({ apiVersion: 'v1', kind: 'Pod', namespace: where.namespace }, POD_SELECTOR, call());
  const lease = await objects.get(ref('Lease', where.namespace, LEADER_LEASE), call());
  const state = rolloutState(d, pods);
  const image = (name: string): string => imageOf(d, name);
  const holder = text(at(lease, 'spec', 'holderIdentity'));
  const renew = Date.parse(text(at(lease, 'spec', 'renewTime')));
  const lines = [
    `deployment: ${where.namespace}/${DEPLOYMENT_NAME}`,
    `ready: ${state.done ? 'yes' : 'no'}, ${state.line}`,
    `leader: ${holder === '' ? 'none' : holder}${Number.isNaN(renew) ? '' : ` (renewed ${Math.max(0, Math.round((Date.now() - renew) / 1000))} s ago)`}`,
    `image: daemon ${image('daemon')}, controller ${image('controller')}`,
  ];
  io.stdout.write(`${lines.join('\n')}\n`);
  return state.done ? 0 : 1;
}

async function undeploy(objects: ObjectApi, where: Target, options: DeployOptions, io: CliCommandIo, signal: AbortSignal): Promise<number> {
  const call = (): CallOptions => ({ signal: withTimeout(signal, CALL_MS) });
  const begin = Date.now();
  const say = (line: string): void => {
    io.stdout.write(`[${((Date.now() - begin) / 1000).toFixed(1).padStart(5)}s] ${line}\n`);
  };
  const d = await objects.get(ref('Deployment', where.namespace, DEPLOYMENT_NAME), call());
  if (d !== undefined && !ours(d))
    throw new GcK8sError('CONFIG_INVALID', `deployment ${where.namespace}/${DEPLOYMENT_NAME} was not made by gc-k8s deploy: left as it is`);
  if (d === undefined) say(`no deployment ${where.namespace}/${DEPLOYMENT_NAME}`);
  else if (await objects.delete(ref('Deployment', where.namespace, DEPLOYMENT_NAME), call()))
    say(`deleted deployment ${where.namespace}/${DEPLOYMENT_NAME}`);
  const budget = await objects.get(ref('PodDisruptionBudget', where.namespace, 'gc-k8s'), call());
  if (ours(budget) && (await objects.delete(ref('PodDisruptionBudget', where.namespace, 'gc-k8s'), call())))
    say(`deleted poddisruptionbudget ${where.namespace}/gc-k8s`);
  const deadline = AbortSignal.any([signal, AbortSignal.timeout(options.timeoutS * 1000)]);
  let last = -1;
  for (;;) {
    const pods = await objects.list({ apiVersion: 'v1', kind: 'Pod', namespace: where.namespace }, POD_SELECTOR, call());
    if (pods.length === 0) break;
    if (pods.length !== last) say(`waiting for ${pods.length} pod(s) to stop (the daemon drains its ops first)`);
    last = pods.length;
    try {
      await sleep(POLL_MS, deadline);
    } catch {
      throw new GcK8sError('TIMEOUT', `${pods.length} pod(s) still stopping after ${options.timeoutS} s`);
    }
  }
  // the daemon released the Lease on its way out; its record goes too
  await objects.delete(ref('Lease', where.namespace, LEADER_LEASE), call());
  say('undeployed (sessions, their pods and workspaces stay)');
  return 0;
}

/** `gc-k8s deploy …` and `gc-k8s undeploy …`: exit 2 for bad arguments (before any request), 1 for a refusal or failure. */
export async function runDeploy(command: 'deploy' | 'undeploy', argv: readonly string[], io: CliCommandIo): Promise<number> {
  let parsed;
  let where: Target;
  try {
    parsed = parseDeployArgs(command, argv);
    if (parsed.kind === 'help') {
      io.stdout.write(`${DEPLOY_USAGE}\n`);
      return 0;
    }
    where = target(io, parsed.options);
  } catch (err) {
    if (!(isGcK8sError(err) && err.code === 'BAD_REQUEST')) throw err;
    io.stderr.write(`gc-k8s ${command}: ${err.message}\n${DEPLOY_USAGE}\n`);
    return 2;
  }
  const { kind, options } = parsed;
  const signal = AbortSignal.timeout((options.timeoutS + 60) * 1000);
  return withObjects(io, where.context, signal, (objects) =>
    kind === 'deploy'
      ? deploy(objects, where, options, io, signal)
      : kind === 'status'
        ? status(objects, where, io, signal)
        : undeploy(objects, where, options, io, signal),
  );
}
