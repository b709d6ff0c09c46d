// The `existing` and `kind` backends, and automatic backend selection.

import { existsSync, mkdirSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { ClusterError } from './errors.js';
import { ALTERNATIVES } from './host.js';
import { run } from './proc.js';
import type { Reporter } from './progress.js';

export type BackendName = 'existing' | 'kind' | 'local';
export const BACKENDS: readonly BackendName[] = ['existing', 'kind', 'local'];

export function which(cmd: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const p = join(dir, cmd);
    if (existsSync(p)) return p;
  }
  return undefined;
}

/** true when a Docker engine answers (not just a docker client binary). */
export async function dockerWorks(env: NodeJS.ProcessEnv): Promise<boolean> {
  if (which('docker', env) === undefined) return false;
  const r = await run('docker', ['info', '--format', '{{.ServerVersion}}'], { env, allowFail: true, timeoutMs: 10_000 }).catch(
    () => undefined,
  );
  return r !== undefined && r.code === 0 && r.stdout.trim() !== '';
}

export interface SelectInput {
  readonly requested?: BackendName | 'auto';
  readonly env: NodeJS.ProcessEnv;
  readonly context?: string;
}

/**
 * auto: an explicit KUBECONFIG or --context means `existing`; else kind when kind and a working
 * Docker engine exist; else local (Linux + root). Throws with the alternatives otherwise.
 */
export async function selectBackend(input: SelectInput): Promise<BackendName> {
  const req = input.requested ?? 'auto';
  if (req !== 'auto') return req;
  if (input.context !== undefined || (input.env.KUBECONFIG ?? '') !== '') return 'existing';
  if (which('kind', input.env) !== undefined && (await dockerWorks(input.env))) return 'kind';
  if (process.platform === 'linux' && typeof process.getuid === 'function' && process.getuid() === 0) return 'local';
  const why =
    process.platform !== 'linux'
      ? `this is ${process.platform}, the local backend needs Linux`
      : 'not running as root, which the local backend needs';
  throw new ClusterError('CLUSTER', `cluster: no usable backend (${why}; no kind with a working Docker engine); ${ALTERNATIVES}`);
}

// ------------------------------------------------------------------ existing

export interface ExistingTarget {
  readonly kubeconfig?: string;
  readonly context?: string;
  readonly namespace: string;
}

export interface ExistingReport {
  readonly server: string;
  readonly version: string;
  readonly missing: string[];
}

function kubectlArgs(t: ExistingTarget): string[] {
  return [
    ...(t.kubeconfig === undefined ? [] : ['--kubeconfig', t.kubeconfig]),
    ...(t.context === undefined ? [] : ['--context', t.context]),
  ];
}

/**
 * Validates an existing cluster: reachable (GET /version) and we may create pods, pods/exec and
 * configmaps in the namespace (SelfSubjectAccessReview via `kubectl auth can-i`). Creates nothing.
 */
export async function checkExisting(
  kubectl: string,
  t: ExistingTarget,
  env: NodeJS.ProcessEnv,
  signal: AbortSignal,
): Promise<ExistingReport> {
  const base = kubectlArgs(t);
  const ver = await run(kubectl, [...base, 'get', '--raw', '/version', '--request-timeout=10s'], { env, signal, allowFail: true });
  if (ver.code !== 0) {
    throw new ClusterError(
      'K8S_UNAVAILABLE',
      `existing cluster: GET /version failed: ${ver.stderr.trim().split('\n').slice(-3).join(' ')}`,
    );
  }
  const version = (JSON.parse(ver.stdout) as { gitVersion?: string }).gitVersion ?? '?';
  const server = (
    await run(kubectl, [...base, 'config', 'view', '--minify', '-o', 'jsonpath={.clusters[0].cluster.server}'], {
      env,
      signal,
      allowFail: true,
    })
  ).stdout.trim();
  // SelfSubjectAccessReviews; the exec check uses --subresource (`pods/exec` would name a pod)
  const checks: [string, string, string?][] = [
    ['create', 'pods'],
    ['get', 'pods'],
    ['delete', 'pods'],
    ['create', 'pods', 'exec'],
    ['get', 'configmaps'],
    ['create', 'configmaps'],
    ['update', 'configmaps'],
  ];
  const allowed = await Promise.all(
    checks.map(async ([verb, res, sub]) => {
      const args = [...base, 'auth', 'can-i', verb, res, '-n', t.namespace, ...(sub === undefined ? [] : [`--subresource=${sub}`])];
      const r = await run(kubectl, args, { env, signal, allowFail: true });
      return r.stdout.trim() === 'yes';
    }),
  );
  const missing = checks
    .filter((_, i) => allowed[i] !== true)
    .map(([verb, res, sub]) => `${verb} ${res}${sub === undefined ? '' : `/${sub}`}`);
  return { server, version, missing };
}

// ------------------------------------------------------------------ kind

export async function kindUp(
  name: string,
  kubeconfig: string,
  env: NodeJS.ProcessEnv,
  reporter: Reporter,
  signal: AbortSignal,
): Promise<void> {
  if (which('kind', env) === undefined) {
    throw new ClusterError(
      'CLUSTER',
      `kind backend: \`kind\` is not on PATH (install it: go install sigs.k8s.io/kind@latest); or use --backend local (Linux, root) or existing (KUBECONFIG)`,
    );
  }
  if (!(await dockerWorks(env))) {
    throw new ClusterError(
      'CLUSTER',
      'kind backend: no working Docker engine (`docker info` fails); start Docker, or use --backend local (Linux, root) or existing (KUBECONFIG)',
    );
  }
  const clusters = (await run('kind', ['get', 'clusters'], { env, signal, allowFail: true })).stdout.split('\n');
  mkdirSync(dirname(kubeconfig), { recursive: true });
  if (clusters.includes(name)) {
    reporter.step(`kind cluster ${name} exists; exporting its kubeconfig`);
    await run('kind', ['export', 'kubeconfig', '--name', name, '--kubeconfig', kubeconfig], { env, signal });
    return;
  }
  reporter.step(`kind create cluster --name ${name} (pulls the node image on first use)`);
  await run('kind', ['create', 'cluster', '--name', name, '--kubeconfig', kubeconfig, '--wait', '180s'], {
    env,
    signal,
    onStderr: (c) => {
      for (const l of c.split('\n')) if (l.trim() !== '') reporter.info(l.trim());
    },
  });
}

export async function kindDown(
  name: string,
  kubeconfig: string,
  env: NodeJS.ProcessEnv,
  reporter: Reporter,
  signal: AbortSignal,
): Promise<void> {
  reporter.step(`kind delete cluster --name ${name}`);
  await run('kind', ['delete', 'cluster', '--name', name, '--kubeconfig', kubeconfig], { env, signal, allowFail: true });
}

export async function kindLoad(name: string, archive: string, env: NodeJS.ProcessEnv, signal: AbortSignal): Promise<void> {
  await run('kind', ['load', 'image-archive', archive, '--name', name], { env, signal });
}

export async function kindExists(name: string, env: NodeJS.ProcessEnv): Promise<boolean> {
  if (which('kind', env) === undefined) return false;
  const r = await run('kind', ['get', 'clusters'], { env, allowFail: true });
  return r.stdout.split('\n').includes(name);
}
