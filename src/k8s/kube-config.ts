// Resolves where the API server is and how to authenticate to it. client-node's KubeConfig is
// used only to parse kubeconfig files and to produce auth material (headers, CA, client certs,
// exec-plugin tokens); all HTTP goes through our own transport. Nothing here reads process.env:
// the composition root passes the environment in.

import { existsSync, readFileSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import path from 'node:path';
import { KubeConfig, type Cluster, type Context, type User } from '@kubernetes/client-node';
import { GcK8sError, messageOf } from '../errors.js';
import { CredentialSource } from './credentials.js';

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface ConnectionOptions {
  /** explicit kubeconfig files (first wins on conflicts, like kubectl); each must exist */
  readonly kubeconfigPaths?: readonly string[];
  /** context name; defaults to the kubeconfig's current-context */
  readonly context?: string;
  /** force (true) or forbid (false) in-cluster config; by default in-cluster is used when the
   * service-account token exists and neither kubeconfigPaths nor context was given */
  readonly inCluster?: boolean;
  /** the environment (KUBECONFIG, HOME, KUBERNETES_SERVICE_HOST/PORT), passed in by the caller */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** where the service-account token, ca.crt and namespace live (tests point this elsewhere) */
  readonly serviceAccountDir?: string;
  /** how long auth material is reused before token files / exec plugins are consulted again */
  readonly authRefreshMs?: number;
  readonly now?: () => number;
  readonly onWarning?: (message: string, err: unknown) => void;
}

export interface ClusterConnection {
  readonly server: URL;
  /** "context kind-gc (/home/me/.kube/config)" or "in-cluster service account": for messages */
  readonly description: string;
  /** the context's (or service account's) namespace, if any */
  readonly namespace: string | undefined;
  readonly credentials: CredentialSource;
}

interface Loaded {
  readonly clusters: Cluster[];
  readonly users: User[];
  readonly contexts: Context[];
  readonly context: string;
  readonly server: URL;
  readonly namespace: string | undefined;
  readonly description: string;
}

export function useInCluster(options: ConnectionOptions): boolean {
  if (options.inCluster !== undefined) return options.inCluster;
  if (options.kubeconfigPaths !== undefined || options.context !== undefined) return false;
  return existsSync(path.join(options.serviceAccountDir ?? SERVICE_ACCOUNT_DIR, 'token'));
}

/** Loads the configuration once (failing fast with CONFIG_INVALID) and obtains credentials once. */
export async function resolveConnection(options: ConnectionOptions, signal: AbortSignal): Promise<ClusterConnection> {
  const load = useInCluster(options) ? () => loadInCluster(options) : () => loadKubeconfig(options);
  const first = load();
  const kc = new KubeConfig();
  // Files are re-read on every credential refresh so rotated token files and client certs are
  // picked up; the KubeConfig instance (and its exec-plugin token cache) is kept across reloads.
  const apply = (loaded: Loaded): void => {
    kc.loadFromOptions({
      clusters: loaded.clusters,
      users: loaded.users,
      contexts: loaded.contexts,
      currentContext: loaded.context,
    });
  };
  apply(first);
  const credentials = new CredentialSource({
    kc,
    reload: () => {
      apply(load());
    },
    description: first.description,
    ...(options.authRefreshMs === undefined ? {} : { refreshMs: options.authRefreshMs }),
    ...(options.now === undefined ? {} : { now: options.now }),
    ...(options.onWarning === undefined ? {} : { onWarning: options.onWarning }),
  });
  await credentials.get(signal);
  return { server: first.server, description: first.description, namespace: first.namespace, credentials };
}

function loadInCluster(options: ConnectionOptions): Loaded {
  const dir = options.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
  const tokenFile = path.join(dir, 'token');
  const what = 'loading in-cluster config';
  const host = options.env?.KUBERNETES_SERVICE_HOST;
  const port = options.env?.KUBERNETES_SERVICE_PORT;
  if (host === undefined || host === '' || port === undefined || port === '') {
    throw new GcK8sError('CONFIG_INVALID', `${what}: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set`);
  }
  let token: string;
  try {
    token = readFileSync(tokenFile, 'utf8').trim();
  } catch (err) {
    throw new GcK8sError('CONFIG_INVALID', `${what}: cannot read service account token ${tokenFile}`, { cause: err });
  }
  const namespaceFile = path.join(dir, 'namespace');
  const namespace = existsSync(namespaceFile) ? readFileSync(namespaceFile, 'utf8').trim() : undefined;
  const server = new URL(`https://${isIPv6(host) ? `[${host}]` : host}:${port}`);
  const caFile = path.join(dir, 'ca.crt');
  return {
    clusters: [{ name: 'in-cluster', server: server.origin, skipTLSVerify: false, ...(existsSync(caFile) ? { caFile } : {}) }],
    users: [{ name: 'in-cluster', token }],
    contexts: [{ name: 'in-cluster', cluster: 'in-cluster', user: 'in-cluster', ...(namespace ? { namespace } : {}) }],
    context: 'in-cluster',
    server,
    namespace: namespace === '' ? undefined : namespace,
    description: `in-cluster service account (${dir})`,
  };
}

function kubeconfigCandidates(options: ConnectionOptions): { paths: string[]; explicit: boolean } {
  if (options.kubeconfigPaths !== undefined && options.kubeconfigPaths.length > 0) {
    return { paths: [...options.kubeconfigPaths], explicit: true };
  }
  const fromEnv = options.env?.KUBECONFIG;
  if (fromEnv !== undefined && fromEnv !== '') {
    return { paths: fromEnv.split(path.delimiter).filter((p) => p !== ''), explicit: false };
  }
  const home = options.env?.HOME;
  if (home === undefined || home === '') {
    throw new GcK8sError('CONFIG_INVALID', 'loading kubeconfig: no kubeconfig given, KUBECONFIG unset and HOME unknown');
  }
  return { paths: [path.join(home, '.kube', 'config')], explicit: false };
}

function loadKubeconfig(options: ConnectionOptions): Loaded {
  const { paths, explicit } = kubeconfigCandidates(options);
  const clusters = new Map<string, Cluster>();
  const users = new Map<string, User>();
  const contexts = new Map<string, Context>();
  let current: string | undefined;
  const files: string[] = [];
  for (const file of paths) {
    if (!existsSync(file)) {
      // Like kubectl: a missing entry of $KUBECONFIG is skipped, a missing --kubeconfig is an error.
      if (explicit) throw new GcK8sError('CONFIG_INVALID', `loading kubeconfig ${file}: file not found`);
      continue;
    }
    const part = new KubeConfig();
    try {
      part.loadFromFile(file);
    } catch (err) {
      throw new GcK8sError('CONFIG_INVALID', `loading kubeconfig ${file}: ${messageOf(err)}`, { cause: err });
    }
    files.push(file);
    // First file wins for every name (kubectl's merge rule; client-node would throw on duplicates).
    for (const c of part.clusters) if (!clusters.has(c.name)) clusters.set(c.name, c);
    for (const u of part.users) if (!users.has(u.name)) users.set(u.name, u);
    for (const c of part.contexts) if (!contexts.has(c.name)) contexts.set(c.name, c);
    const partCurrent = part.getCurrentContext() as string | undefined;
    if (current === undefined && partCurrent !== undefined && partCurrent !== '') current = partCurrent;
  }
  if (files.length === 0) {
    throw new GcK8sError('CONFIG_INVALID', `loading kubeconfig: no kubeconfig found (looked in ${paths.join(', ')})`);
  }
  const source = files.join(path.delimiter);
  const name = options.context ?? current;
  if (name === undefined) {
    throw new GcK8sError('CONFIG_INVALID', `loading kubeconfig ${source}: no current-context set and no context given`);
  }
  const context = contexts.get(name);
  if (context === undefined) {
    const known = [...contexts.keys()].join(', ') || 'none';
    throw new GcK8sError('CONFIG_INVALID', `loading kubeconfig ${source}: context "${name}" not found (known: ${known})`);
  }
  const cluster = clusters.get(context.cluster);
  if (cluster === undefined) {
    throw new GcK8sError('CONFIG_INVALID', `loading kubeconfig ${source}: context "${name}" names unknown cluster "${context.cluster}"`);
  }
  const server = parseServer(cluster, `loading kubeconfig ${source}: cluster "${cluster.name}"`);
  if (cluster.proxyUrl !== undefined && cluster.proxyUrl !== '') {
    throw new GcK8sError(
      'CONFIG_INVALID',
      `loading kubeconfig ${source}: cluster "${cluster.name}" uses proxy-url, which is not supported`,
    );
  }
  // client-node refuses to build an agent for http:// servers unless skipTLSVerify is set; there
  // is no TLS to verify on plain http, so say so and let it hand out the auth headers.
  const effective: Cluster = server.protocol === 'http:' ? { ...cluster, skipTLSVerify: true } : cluster;
  return {
    clusters: [...clusters.values()].map((c) => (c.name === cluster.name ? effective : c)),
    users: [...users.values()],
    contexts: [...contexts.values()],
    context: name,
    server,
    namespace: context.namespace === undefined || context.namespace === '' ? undefined : context.namespace,
    description: `context ${name} (${source})`,
  };
}

function parseServer(cluster: Cluster, what: string): URL {
  let server: URL;
  try {
    server = new URL(cluster.server);
  } catch (err) {
    throw new GcK8sError('CONFIG_INVALID', `${what}: invalid server URL "${cluster.server}"`, { cause: err });
  }
  if (server.protocol !== 'https:' && server.protocol !== 'http:') {
    throw new GcK8sError('CONFIG_INVALID', `${what}: server URL must be http(s), got "${cluster.server}"`);
  }
  return server;
}
