// `gc-k8s deploy`'s arguments and manifests, pure: the flags checked (before any request) and
// contrib/k8s/controller/deployment.yaml plus pdb.yaml's gc-k8s budget rendered for a namespace,
// images, the controller's command and extra daemon environment.

import { parseArgs } from 'node:util';
import { loadDaemonSettings } from '../config/daemon.js';
import { GcK8sError, messageOf, quote } from '../errors.js';
import type { KubeObject } from '../kube/types.js';
import { parseYamlDocuments } from '../k8s/yaml.js';
import { checkNamespace } from './install-render.js';

export const DEPLOY_USAGE =
  'usage: gc-k8s deploy [--namespace N] [--image I] [--controller-image I] [--controller-command "..."] [--daemon-env K=V]... [--update] [--timeout S] [--context C]\n' +
  '       gc-k8s deploy status [--namespace N] [--context C]\n' +
  '       gc-k8s undeploy [--namespace N] [--timeout S] [--context C]';

/** what deploy made carries this, and undeploy removes only that */
export const DEPLOY_MARK = { label: 'app.kubernetes.io/managed-by', value: 'gc-k8s-deploy' } as const;
export const DEPLOY_FIELD_MANAGER = 'gc-k8s-deploy';
export const DEPLOYMENT_NAME = 'gc-k8s';
export const POD_SELECTOR = 'app.kubernetes.io/name=gc-k8s,app.kubernetes.io/component=controller';
/** the Lease the manifest's daemons elect a leader on */
export const LEADER_LEASE = 'gc-k8s';

/** set by the manifest for both containers or for the election: not the user's to change */
const FIXED_ENV = new Set(['GC_K8S_SOCKET', 'GC_K8S_LEADER_LEASE', 'GC_K8S_LEADER_NAMESPACE', 'KUBECONFIG', 'HOME']);
const MAX_TIMEOUT_S = 3600;

export interface DeployOptions {
  /** undefined: the city's (as install picks it) */
  readonly namespace: string | undefined;
  readonly context: string | undefined;
  readonly image: string | undefined;
  readonly controllerImage: string | undefined;
  readonly controllerCommand: string | undefined;
  readonly daemonEnv: ReadonlyMap<string, string>;
  readonly update: boolean;
  readonly timeoutS: number;
}

export type DeployCommand =
  { kind: 'deploy'; options: DeployOptions } | { kind: 'status' | 'undeploy'; options: DeployOptions } | { kind: 'help' };

const bad = (message: string): GcK8sError => new GcK8sError('BAD_REQUEST', message);

/** An image reference: registry/path:tag or @digest, no spaces or shell characters. */
export function checkImage(flag: string, value: string): string {
  if (value.length === 0 || value.length > 512 || !/^[a-z0-9][a-zA-Z0-9._\-/:@]*$/.test(value) || value.endsWith(':'))
    throw bad(`${flag}: expected an image reference such as registry.example/gc-k8s:1.2; got ${quote(value)}`);
  return value;
}

function checkTimeout(value: string | undefined): number {
  if (value === undefined) return 300;
  if (!/^\d{1,5}$/.test(value) || Number(value) < 1 || Number(value) > MAX_TIMEOUT_S)
    throw bad(`--timeout: expected whole seconds from 1 to ${MAX_TIMEOUT_S}; got ${quote(value)}`);
  return Number(value);
}

/** K=V pairs; GC_K8S_* daemon settings are checked by the daemon's own table. */
function checkDaemonEnv(pairs: readonly string[]): Map<string, string> {
  const env = new Map<string, string>();
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const key = eq < 0 ? pair : pair.slice(0, eq);
    if (eq < 0 || !/^[A-Za-z_][A-Za-z0-9_]{0,127}$/.test(key)) throw bad(`--daemon-env: expected NAME=value; got ${quote(pair)}`);
    if (FIXED_ENV.has(key)) throw bad(`--daemon-env: ${key} is set by the manifest and cannot be changed`);
    const value = pair.slice(eq + 1);
    if (value.length > 4096 || value.includes('\0')) throw bad(`--daemon-env: the value of ${key} is too long or has a NUL`);
    env.set(key, value);
  }
  try {
    loadDaemonSettings({ GC_K8S_METRICS_ALLOW_REMOTE: 'true', ...Object.fromEntries(env) });
  } catch (err) {
    throw bad(`--daemon-env: ${messageOf(err)}`);
  }
  return env;
}

/** argv → what to do; every flag checked here, before any request. */
export function parseDeployArgs(command: 'deploy' | 'undeploy', argv: readonly string[]): DeployCommand {
  const sub = command === 'deploy' && argv[0] === 'status' ? 'status' : command;
  const args = sub === 'status' ? argv.slice(1) : argv;
  let values;
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        namespace: { type: 'string' },
        context: { type: 'string' },
        image: { type: 'string' },
        'controller-image': { type: 'string' },
        'controller-command': { type: 'string' },
        'daemon-env': { type: 'string', multiple: true },
        update: { type: 'boolean' },
        timeout: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw bad(messageOf(err).split('\n')[0]?.slice(0, 200) ?? 'bad arguments');
  }
  if (values.help === true) return { kind: 'help' };
  const deployOnly = ['image', 'controller-image', 'controller-command', 'daemon-env', 'update'] as const;
  if (sub !== 'deploy') {
    const given = deployOnly.find((k) => values[k] !== undefined);
    if (given !== undefined) throw bad(`--${given} is for deploy only`);
    if (sub === 'status' && values.timeout !== undefined) throw bad('--timeout is for deploy and undeploy');
  }
  const command_ = values['controller-command'];
  if (command_ !== undefined && (command_.trim() === '' || command_.length > 4096 || command_.includes('\0')))
    throw bad('--controller-command: expected a shell command line (at most 4096 characters)');
  const options: DeployOptions = {
    namespace: values.namespace === undefined ? undefined : checkNamespace(values.namespace),
    context: values.context,
    image: values.image === undefined ? undefined : checkImage('--image', values.image),
    controllerImage: values['controller-image'] === undefined ? undefined : checkImage('--controller-image', values['controller-image']),
    controllerCommand: command_,
    daemonEnv: checkDaemonEnv(values['daemon-env'] ?? []),
    update: values.update === true,
    timeoutS: checkTimeout(values.timeout),
  };
  return { kind: sub, options };
}

type Json = Record<string, unknown>;
const isJson = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const at = (o: unknown, ...path: string[]): unknown => path.reduce<unknown>((v, k) => (isJson(v) ? v[k] : undefined), o);

/** The one document of `kind` (and name) in a manifest file's text. */
export function documentOf(text: string, kind: string, name: string): KubeObject {
  const doc = parseYamlDocuments(text).find((d) => at(d, 'kind') === kind && at(d, 'metadata', 'name') === name);
  if (doc === undefined) throw new GcK8sError('CONFIG_INVALID', `the manifest has no ${kind} ${name}`);
  return doc as KubeObject;
}

export interface RenderDeployOptions {
  readonly namespace: string;
  readonly image: string;
  readonly controllerImage: string;
  readonly controllerCommand: string | undefined;
  readonly daemonEnv: ReadonlyMap<string, string>;
}

function marked(o: KubeObject, namespace: string): KubeObject {
  return { ...o, metadata: { ...o.metadata, namespace, labels: { ...o.metadata.labels, [DEPLOY_MARK.label]: DEPLOY_MARK.value } } };
}

/**
 * The Deployment and the PodDisruptionBudget deploy applies: the files' objects in `namespace`,
 * marked as deploy's, with the images, the controller's command (`sh -c`) and the daemon env.
 */
export function renderDeploy(deployment: KubeObject, pdb: KubeObject, options: RenderDeployOptions): KubeObject[] {
  const copy = JSON.parse(JSON.stringify(deployment)) as Json;
  const containers = at(copy, 'spec', 'template', 'spec', 'containers');
  if (!Array.isArray(containers)) throw new GcK8sError('CONFIG_INVALID', 'deployment.yaml: no containers');
  const container = (name: string): Json => {
    const c = (containers as unknown[]).find((x) => at(x, 'name') === name);
    if (!isJson(c)) throw new GcK8sError('CONFIG_INVALID', `deployment.yaml: no ${name} container`);
    return c;
  };
  const controller = container('controller');
  const daemon = container('daemon');
  controller['image'] = options.controllerImage;
  daemon['image'] = options.image;
  if (options.controllerCommand !== undefined) controller['command'] = ['/bin/sh', '-c', options.controllerCommand];
  const env = (Array.isArray(daemon['env']) ? daemon['env'] : []) as Json[];
  for (const [name, value] of options.daemonEnv) {
    const i = env.findIndex((e) => e['name'] === name);
    if (i >= 0) env[i] = { name, value };
    else env.push({ name, value });
  }
  daemon['env'] = env;
  return [marked(copy as unknown as KubeObject, options.namespace), marked(pdb, options.namespace)];
}
