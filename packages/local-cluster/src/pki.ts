// Certificates for a local cluster, made with the openssl CLI (EC P-256: fast to generate).
// Everything lives in <state>/pki and is reused by later `up`s of the same cluster.

import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { METRICS_SERVER_DNS_NAME, PROMETHEUS_CLIENT_SAN } from './config/monitoring.js';
import {
  APISERVER_KUBELET_CLIENT_USER,
  COREDNS_USER,
  FRONT_PROXY_CLIENT_USER,
  KUBE_ROUTER_USER,
  KUBE_STATE_METRICS_USER,
  METRICS_SERVER_USER,
  PROMETHEUS_USER,
  PROVISIONER_USER,
} from './config/rbac.js';
import type { NetPlan } from './host.js';
import { run } from './proc.js';

export interface CertSpec {
  readonly name: string;
  readonly cn: string;
  readonly org?: string;
  readonly sans?: readonly string[];
  readonly server?: boolean;
}

export interface Pki {
  readonly dir: string;
  readonly caCert: string;
  readonly caKey: string;
  cert(name: string): { cert: string; key: string };
  readonly saKey: string;
  readonly saPub: string;
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

export interface KeyPair {
  readonly cert: string;
  readonly key: string;
}

type RunOpts = { signal?: AbortSignal };

/** Creates (once) a self-signed CA `<dir>/<base>.crt|key`. */
export async function ensureCa(dir: string, base: string, cn: string, opts: RunOpts = {}): Promise<KeyPair> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const ca = { cert: join(dir, `${base}.crt`), key: join(dir, `${base}.key`) };
  if (existsSync(ca.cert) && existsSync(ca.key)) return ca;
  await run(
    'openssl',
    [
      'req',
      '-x509',
      ...EC,
      '-keyout',
      ca.key,
      '-out',
      ca.cert,
      '-days',
      '3650',
      '-subj',
      `/CN=${cn}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
    ],
    opts,
  );
  return ca;
}

/** openssl -addext arguments of a leaf certificate (usage, SANs). */
export function leafExtensions(c: CertSpec): string[] {
  const ext = ['-addext', 'basicConstraints=critical,CA:FALSE', '-addext', 'keyUsage=critical,digitalSignature,keyEncipherment'];
  ext.push('-addext', `extendedKeyUsage=${c.server === true ? 'serverAuth,clientAuth' : 'clientAuth'}`);
  if (c.sans !== undefined && c.sans.length > 0) {
    const sans = c.sans.map((s) => (/^[0-9.]+$/.test(s) ? `IP:${s}` : `DNS:${s}`)).join(',');
    ext.push('-addext', `subjectAltName=${sans}`);
  }
  return ext;
}

/** Creates (once each) `<dir>/<name>.crt|key` for every spec, signed by `ca`. */
export async function ensureLeaves(dir: string, ca: KeyPair, certs: readonly CertSpec[], opts: RunOpts = {}): Promise<void> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  await Promise.all(
    certs.map(async (c) => {
      const crt = join(dir, `${c.name}.crt`);
      const key = join(dir, `${c.name}.key`);
      if (existsSync(crt) && existsSync(key)) return;
      const subj = (c.org === undefined ? '' : `/O=${c.org}`) + `/CN=${c.cn}`;
      await run(
        'openssl',
        [
          'req',
          '-x509',
          ...EC,
          '-keyout',
          key,
          '-out',
          crt,
          '-days',
          '3650',
          '-subj',
          subj,
          '-CA',
          ca.cert,
          '-CAkey',
          ca.key,
          ...leafExtensions(c),
        ],
        opts,
      );
    }),
  );
}

/** Creates (once) the CA, the service-account key pair and every leaf in `certs`. */
export async function ensurePki(dir: string, clusterName: string, certs: readonly CertSpec[], signal?: AbortSignal): Promise<Pki> {
  const opts = signal === undefined ? {} : { signal };
  const ca = await ensureCa(dir, 'ca', `${clusterName}-ca`, opts);
  const saKey = join(dir, 'sa.key');
  const saPub = join(dir, 'sa.pub');
  if (!existsSync(saKey) || !existsSync(saPub)) {
    await run('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', saKey], opts);
    await run('openssl', ['pkey', '-in', saKey, '-pubout', '-out', saPub], opts);
  }
  await ensureLeaves(dir, ca, certs, opts);
  return {
    dir,
    caCert: ca.cert,
    caKey: ca.key,
    saKey,
    saPub,
    cert: (name) => ({ cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) }),
  };
}

/**
 * The cluster CA's leaves: the API server's serving certificate (for the host end of the veth,
 * the kubernetes Service IP and names) and the identity of every client, each its own user.
 */
export function clusterCertSpecs(nodeName: string, n: NetPlan): CertSpec[] {
  const sans = [
    n.hostIp,
    '127.0.0.1',
    n.kubernetesServiceIp,
    'localhost',
    'kubernetes',
    'kubernetes.default',
    'kubernetes.default.svc',
    'kubernetes.default.svc.cluster.local',
  ];
  return [
    { name: 'apiserver', cn: 'kube-apiserver', sans, server: true },
    // not system:masters: the kubelets authorize it through RBAC (system:kubelet-api-admin)
    { name: 'apiserver-kubelet-client', cn: APISERVER_KUBELET_CLIENT_USER },
    { name: 'admin', cn: 'gc-k8s-admin', org: 'system:masters' },
    { name: 'kube-controller-manager', cn: 'system:kube-controller-manager' },
    { name: 'kube-scheduler', cn: 'system:kube-scheduler' },
    ...nodeCertSpecs(nodeName, n, 1),
    { name: 'kube-proxy', cn: 'system:kube-proxy' },
    { name: 'coredns', cn: COREDNS_USER },
    { name: 'local-provisioner', cn: PROVISIONER_USER },
    { name: 'kube-router', cn: KUBE_ROUTER_USER },
    { name: 'kube-state-metrics', cn: KUBE_STATE_METRICS_USER },
    // its HTTPS listener on the host's loopback
    { name: 'kube-state-metrics-serving', cn: 'kube-state-metrics', sans: ['127.0.0.1', 'localhost'], server: true },
    // its client identity (API server and kubelets) and its serving certificate, which the API
    // server verifies against the APIService's caBundle (the cluster CA) as metrics-server.kube-system.svc
    { name: 'metrics-server', cn: METRICS_SERVER_USER },
    { name: 'metrics-server-serving', cn: METRICS_SERVER_DNS_NAME, sans: [METRICS_SERVER_DNS_NAME, n.hostIp], server: true },
    // the scrape identity: RBAC user for the kubelets, SAN for kube-state-metrics' client_allowed_sans
    { name: 'prometheus', cn: PROMETHEUS_USER, sans: [PROMETHEUS_CLIENT_SAN] },
  ];
}

/** The leaf name of node k's certificate `base` (`kubelet`, `kubelet-serving`): `<base>-n<k>` for k ≥ 2. */
export const nodeCertName = (base: string, k: number): string => (k === 1 ? base : `${base}-n${k}`);

/**
 * A node's kubelet identities: its client certificate (system:node:<node>, which the Node
 * authorizer and NodeRestriction limit to its own Node and pods) and its serving certificate (for
 * its node IP and name: the API server and metrics-server verify it).
 */
export function nodeCertSpecs(nodeName: string, n: NetPlan, k: number): CertSpec[] {
  return [
    { name: nodeCertName('kubelet', k), cn: `system:node:${nodeName}`, org: 'system:nodes' },
    { name: nodeCertName('kubelet-serving', k), cn: nodeName, sans: [n.nodeIp, nodeName], server: true },
  ];
}

/**
 * The aggregation layer's front proxy: a CA of its own (as kubeadm's front-proxy-ca: the
 * extension API servers trust it to assert users in X-Remote-* headers, so no certificate the
 * controller manager signs may be one) and the API server's client certificate from it.
 */
export async function ensureFrontProxyPki(pkiDir: string, clusterName: string, signal?: AbortSignal): Promise<FrontProxyPki> {
  const opts = signal === undefined ? {} : { signal };
  const ca = await ensureCa(pkiDir, 'front-proxy-ca', `${clusterName}-front-proxy-ca`, opts);
  await ensureLeaves(pkiDir, ca, [{ name: 'front-proxy-client', cn: FRONT_PROXY_CLIENT_USER }], opts);
  return frontProxyPkiPaths(pkiDir);
}

export interface FrontProxyPki {
  readonly ca: string;
  readonly client: KeyPair;
}

export function frontProxyPkiPaths(pkiDir: string): FrontProxyPki {
  return {
    ca: join(pkiDir, 'front-proxy-ca.crt'),
    client: { cert: join(pkiDir, 'front-proxy-client.crt'), key: join(pkiDir, 'front-proxy-client.key') },
  };
}

/** etcd's own certificates, as kubeadm lays them out (pki/etcd/*, pki/apiserver-etcd-client.*). */
export interface EtcdPki {
  readonly ca: string;
  readonly server: KeyPair;
  readonly peer: KeyPair;
  readonly healthcheck: KeyPair;
  readonly apiserverClient: KeyPair;
}

/** The etcd leaves: serving and peer certs for 127.0.0.1, and two client identities. */
export function etcdCertSpecs(nodeName: string): { etcdDir: CertSpec[]; pkiDir: CertSpec[] } {
  const sans = ['127.0.0.1', 'localhost', nodeName];
  return {
    etcdDir: [
      { name: 'server', cn: nodeName, sans, server: true },
      { name: 'peer', cn: nodeName, sans, server: true },
      { name: 'healthcheck-client', cn: 'kube-etcd-healthcheck-client' },
    ],
    pkiDir: [{ name: 'apiserver-etcd-client', cn: 'kube-apiserver-etcd-client' }],
  };
}

/**
 * Creates (once) a CA of etcd's own and its leaves. A separate CA, as kubeadm's etcd/ca: a client
 * certificate from the cluster CA (which the controller manager also signs CSRs with) must not
 * open etcd.
 */
export async function ensureEtcdPki(pkiDir: string, clusterName: string, nodeName: string, signal?: AbortSignal): Promise<EtcdPki> {
  const opts = signal === undefined ? {} : { signal };
  const etcdDir = join(pkiDir, 'etcd');
  const ca = await ensureCa(etcdDir, 'ca', `${clusterName}-etcd-ca`, opts);
  const specs = etcdCertSpecs(nodeName);
  await ensureLeaves(etcdDir, ca, specs.etcdDir, opts);
  await ensureLeaves(pkiDir, ca, specs.pkiDir, opts);
  return etcdPkiPaths(pkiDir);
}

export function etcdPkiPaths(pkiDir: string): EtcdPki {
  const e = (n: string): KeyPair => ({ cert: join(pkiDir, 'etcd', `${n}.crt`), key: join(pkiDir, 'etcd', `${n}.key`) });
  return {
    ca: join(pkiDir, 'etcd', 'ca.crt'),
    server: e('server'),
    peer: e('peer'),
    healthcheck: e('healthcheck-client'),
    apiserverClient: { cert: join(pkiDir, 'apiserver-etcd-client.crt'), key: join(pkiDir, 'apiserver-etcd-client.key') },
  };
}

/**
 * Writes (once) the API server's EncryptionConfiguration with a fresh random 32-byte key, mode
 * 0600; later `up`s keep it (a new key would leave the stored Secrets unreadable).
 */
export function ensureEncryptionConfig(path: string, build: (keyBase64: string) => string): void {
  if (existsSync(path)) return;
  writeFileSync(path, build(randomBytes(32).toString('base64')), { mode: 0o600, flag: 'wx' });
}

/** Written beside it and renamed into place: components reading it meanwhile never see half a file. */
export function writeKubeconfig(path: string, yaml: string): void {
  const next = `${path}.${process.pid}.tmp`;
  writeFileSync(next, yaml, { mode: 0o600 });
  renameSync(next, path);
}
