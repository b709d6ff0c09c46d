// IN_CLUSTER mode of the harness: with GC_K8S_TEST_IN_CLUSTER=<namespace>/<pod>, every
// exec-provider script a test runs (gc-session-k8s, gc-events-k8s, gc-beads-k8s) runs instead in
// the `controller` container of that pod (the in-cluster Deployment's stand-in gc controller), by
// `kubectl exec -i`, with the test's GC_* environment and stdin; its exit code and output come
// back as they are. The daemon answering is then the Deployment's sidecar, with its own
// service account. A test namespace gets the daemon's Role bound to that service account.

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';

const SCRIPTS = new Set(['gc-session-k8s', 'gc-events-k8s', 'gc-beads-k8s']);
/** host-side settings that mean nothing in the pod (its socket is the sidecar's) */
const HOST_ONLY = new Set(['GC_K8S_SOCKET', 'GC_K8S_KUBECTL', 'GC_K8S_INVOKED_AS', 'GC_K8S_CLIENT']);

export interface InClusterTarget {
  readonly namespace: string;
  readonly pod: string;
}

export const IN_CLUSTER_ENV = 'GC_K8S_TEST_IN_CLUSTER';

export function inClusterTarget(env: NodeJS.ProcessEnv = process.env): InClusterTarget | undefined {
  const given = env[IN_CLUSTER_ENV] ?? '';
  if (given === '') return undefined;
  const [namespace, pod] = given.split('/');
  if (namespace === undefined || pod === undefined || namespace === '' || pod === '')
    throw new Error(`${IN_CLUSTER_ENV} must be <namespace>/<pod>; got ${given.slice(0, 80)}`);
  return { namespace, pod };
}

/** The command that runs `cmd args` where the test means it: here, or in the controller container. */
export function scriptCommand(
  kubectl: string,
  cmd: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): { cmd: string; args: string[] } {
  const target = inClusterTarget();
  const script = basename(cmd);
  if (target === undefined || !SCRIPTS.has(script)) return { cmd, args: [...args] };
  const forwarded = Object.entries(env)
    .filter(([k, v]) => k.startsWith('GC_') && !k.startsWith('GC_K8S_TEST_') && !HOST_ONLY.has(k) && v !== undefined)
    .map(([k, v]) => `${k}=${v ?? ''}`);
  return {
    cmd: kubectl,
    args: [
      '-n',
      target.namespace,
      'exec',
      '-i',
      target.pod,
      '-c',
      'controller',
      '--',
      'env',
      ...forwarded,
      `/usr/local/bin/${script}`,
      ...args,
    ],
  };
}

/** The daemon's Role (rbac.yaml) in a test namespace, bound to the Deployment's service account. */
export function grantDaemon(
  kubectl: string,
  namespace: string,
  env: NodeJS.ProcessEnv,
  daemonNamespace: string | undefined = inClusterTarget()?.namespace,
): void {
  if (daemonNamespace === undefined) return;
  const root = new URL('../..', import.meta.url).pathname;
  const rbac = readFileSync(join(root, 'contrib/k8s/rbac.yaml'), 'utf8');
  const role = rbac.split(/^---$/m).find((d) => /^kind: Role$/m.test(d));
  if (role === undefined) throw new Error('rbac.yaml has no Role');
  const binding = [
    'apiVersion: rbac.authorization.k8s.io/v1',
    'kind: RoleBinding',
    'metadata: { name: gc-k8s-in-cluster }',
    'roleRef: { apiGroup: rbac.authorization.k8s.io, kind: Role, name: gc-k8s }',
    `subjects: [{ kind: ServiceAccount, name: gc-k8s, namespace: ${daemonNamespace} }]`,
  ].join('\n');
  const r = spawnSync(kubectl, ['-n', namespace, 'apply', '-f', '-'], { input: `${role}\n---\n${binding}\n`, env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`granting the in-cluster daemon ${namespace}: ${r.stderr}`);
}
