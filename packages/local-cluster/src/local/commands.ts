// The command line of each component and where it runs (the host, or the node's network
// namespace): pure, so the flags that make the cluster what it is (TLS everywhere, etcd's client
// certificates, Webhook authorization, the netns) are checked as text.

import { join } from 'node:path';
import { PROVISIONER_NAME, STORAGE_CLASS, WAIT_STORAGE_CLASS } from '../config/cluster-objects.js';
import { nodeNetPlan } from '../host.js';
import { KUBE_STATE_METRICS_RESOURCES } from '../config/rbac.js';
import { ClusterError } from '../errors.js';
import { etcdPkiPaths, frontProxyPkiPaths } from '../pki.js';
import { nodeLayout, type Layout } from './layout.js';
import {
  monitoringPorts,
  nodeNameOf,
  nodeNames,
  splitComponentId,
  type Component,
  type ComponentId,
  type LocalState,
  type MonitoringPorts,
} from './state.js';

/** Where the programs are: Go-built binaries, and the Node that runs the provisioner script. */
export interface Bins {
  readonly k8s: string;
  readonly etcd: string;
  readonly coredns: string;
  readonly kubeRouter: string;
  readonly kubeStateMetrics: string;
  readonly metricsServer: string;
  /** the node binary (process.execPath) */
  readonly node: string;
  /** scripts/local-provisioner.mjs of this package */
  readonly provisioner: string;
}

/** kube-router's /healthz, on the node IP (its default port) */
export const KUBE_ROUTER_HEALTH_PORT = 20244;

export interface Command {
  readonly cmd: string;
  readonly args: readonly string[];
  /** path of the network namespace to run in (nsenter --net); the host's when absent */
  readonly netns?: string;
  readonly cwd?: string;
}

/** The environment of every component: containerd's binaries first, nothing of ours inherited. */
export function nodeEnv(env: NodeJS.ProcessEnv, containerdBin: string): NodeJS.ProcessEnv {
  return {
    PATH: `${containerdBin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
    HOME: env.HOME ?? '/root',
    LANG: 'C.UTF-8',
  };
}

/**
 * etcd on 127.0.0.1 with TLS for clients and peers, both requiring a certificate of etcd's own CA
 * (no local user can read or write keys without the API server's or the health check's key).
 */
function etcdArgs(state: LocalState, l: Layout): string[] {
  const e = etcdPkiPaths(l.pki);
  const client = `https://127.0.0.1:${state.ports.etcd}`;
  const peer = `https://127.0.0.1:${state.ports.etcdPeer}`;
  return [
    '--name',
    state.nodeName,
    '--data-dir',
    join(l.s, 'etcd'),
    '--listen-client-urls',
    client,
    '--advertise-client-urls',
    client,
    '--cert-file',
    e.server.cert,
    '--key-file',
    e.server.key,
    '--client-cert-auth',
    '--trusted-ca-file',
    e.ca,
    '--listen-peer-urls',
    peer,
    '--initial-advertise-peer-urls',
    peer,
    '--initial-cluster',
    `${state.nodeName}=${peer}`,
    '--peer-cert-file',
    e.peer.cert,
    '--peer-key-file',
    e.peer.key,
    '--peer-client-cert-auth',
    '--peer-trusted-ca-file',
    e.ca,
    '--unsafe-no-fsync',
    '--log-level',
    'warn',
    '--quota-backend-bytes',
    String(2 * 1024 ** 3),
  ];
}

/**
 * The aggregation layer (metrics.k8s.io of metrics-server), as kubeadm sets it up: the front
 * proxy's own CA and client certificate, the conventional X-Remote-* headers, and routing to the
 * APIService's endpoint address (metrics-server runs on the host, not behind a ClusterIP).
 */
export function apiserverAggregationArgs(l: Layout): string[] {
  const f = frontProxyPkiPaths(l.pki);
  return [
    `--requestheader-client-ca-file=${f.ca}`,
    '--requestheader-allowed-names=front-proxy-client',
    '--requestheader-username-headers=X-Remote-User',
    '--requestheader-group-headers=X-Remote-Group',
    '--requestheader-extra-headers-prefix=X-Remote-Extra-',
    `--proxy-client-cert-file=${f.client.cert}`,
    `--proxy-client-key-file=${f.client.key}`,
    '--enable-aggregator-routing=true',
  ];
}

function portsOf(state: LocalState): MonitoringPorts {
  const p = monitoringPorts(state.ports);
  if (p === undefined) throw new ClusterError('INTERNAL', `cluster ${state.name}: no monitoring ports in its state`);
  return p;
}

function apiserverEtcdArgs(state: LocalState, l: Layout): string[] {
  const e = etcdPkiPaths(l.pki);
  return [
    `--etcd-servers=https://127.0.0.1:${state.ports.etcd}`,
    `--etcd-cafile=${e.ca}`,
    `--etcd-certfile=${e.apiserverClient.cert}`,
    `--etcd-keyfile=${e.apiserverClient.key}`,
  ];
}

/**
 * Flags without which a running component predates what this code needs (a cluster made by an
 * older gc-k8s): repair restarts it with the current command line (data and pods are kept).
 */
export const REQUIRED_FLAGS: Partial<Record<Component, string>> = {
  // the aggregation layer (metrics.k8s.io)
  'kube-apiserver': '--enable-aggregator-routing=true',
  // cAdvisor's container labels
  kubelet: '--containerd=',
};

export function componentCommand(id: ComponentId, state: LocalState, l: Layout, bins: Bins): Command {
  const { component: c, node } = splitComponentId(id);
  // a node component (containerd, kubelet, kube-proxy, kube-router) runs on its node: node 1's
  // network, files and name are the cluster's own
  const n = nodeNetPlan(state.slot, node);
  const nl = nodeLayout(l, node);
  const nodeName = nodeNameOf(state, node);
  const nodeCfg = (f: string): string => join(nl.cfg, f);
  const k = (b: string): string => join(bins.k8s, b);
  const pki = (f: string): string => join(l.pki, f);
  const cfg = (f: string): string => join(l.cfg, f);
  switch (c) {
    case 'etcd':
      return { cmd: join(bins.etcd, 'etcd'), args: etcdArgs(state, l) };
    case 'kube-apiserver':
      return {
        cmd: k('kube-apiserver'),
        args: [
          `--advertise-address=${n.hostIp}`,
          `--bind-address=${n.hostIp}`,
          `--secure-port=${state.ports.apiserver}`,
          ...apiserverEtcdArgs(state, l),
          `--service-cluster-ip-range=${n.serviceCidr}`,
          `--encryption-provider-config=${pki('encryption-config.yaml')}`,
          `--authentication-config=${cfg('authentication-config.yaml')}`,
          `--client-ca-file=${pki('ca.crt')}`,
          `--tls-cert-file=${pki('apiserver.crt')}`,
          `--tls-private-key-file=${pki('apiserver.key')}`,
          `--kubelet-client-certificate=${pki('apiserver-kubelet-client.crt')}`,
          `--kubelet-client-key=${pki('apiserver-kubelet-client.key')}`,
          '--kubelet-preferred-address-types=InternalIP',
          '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
          `--service-account-key-file=${pki('sa.pub')}`,
          `--service-account-signing-key-file=${pki('sa.key')}`,
          '--authorization-mode=Node,RBAC',
          '--enable-admission-plugins=NodeRestriction',
          '--allow-privileged=true',
          '--profiling=false',
          '--event-ttl=30m',
          `--cert-dir=${join(l.s, 'apiserver-certs')}`,
          `--service-node-port-range=30000-32767`,
          ...apiserverAggregationArgs(l),
        ],
      };
    case 'containerd':
      return {
        cmd: join(state.containerdBin, 'containerd'),
        args: ['--config', nodeCfg('containerd.toml'), '--log-level', 'warn'],
        netns: n.netnsPath,
      };
    case 'kube-controller-manager':
      return {
        cmd: k('kube-controller-manager'),
        args: [
          `--kubeconfig=${cfg('kube-controller-manager.kubeconfig')}`,
          `--authentication-kubeconfig=${cfg('kube-controller-manager.kubeconfig')}`,
          `--authorization-kubeconfig=${cfg('kube-controller-manager.kubeconfig')}`,
          '--bind-address=127.0.0.1',
          `--secure-port=${state.ports.controllerManager}`,
          `--cert-dir=${join(l.s, 'kcm-certs')}`,
          `--service-account-private-key-file=${pki('sa.key')}`,
          `--root-ca-file=${pki('ca.crt')}`,
          '--use-service-account-credentials=true',
          `--cluster-signing-cert-file=${pki('ca.crt')}`,
          `--cluster-signing-key-file=${pki('ca.key')}`,
          '--leader-elect=false',
          `--service-cluster-ip-range=${n.serviceCidr}`,
          `--cluster-cidr=${n.podCidr}`,
          '--controllers=*,-nodeipam,-cloud-node-lifecycle',
          '--node-monitor-grace-period=40s',
        ],
      };
    case 'kube-scheduler':
      return {
        cmd: k('kube-scheduler'),
        args: [
          `--kubeconfig=${cfg('kube-scheduler.kubeconfig')}`,
          `--authentication-kubeconfig=${cfg('kube-scheduler.kubeconfig')}`,
          `--authorization-kubeconfig=${cfg('kube-scheduler.kubeconfig')}`,
          '--bind-address=127.0.0.1',
          `--secure-port=${state.ports.scheduler}`,
          `--cert-dir=${join(l.s, 'scheduler-certs')}`,
          '--leader-elect=false',
        ],
      };
    case 'kubelet':
      return {
        cmd: k('kubelet'),
        args: [
          `--config=${nodeCfg('kubelet.yaml')}`,
          `--kubeconfig=${nodeCfg('kubelet.kubeconfig')}`,
          `--root-dir=${nl.kubeletDir}`,
          `--cert-dir=${join(nl.kubeletDir, 'pki')}`,
          `--node-ip=${n.nodeIp}`,
          `--hostname-override=${nodeName}`,
          // cAdvisor's containerd handler (container, pod and namespace labels of
          // /metrics/cadvisor) talks to this node's containerd, not /run/containerd's
          `--containerd=${nl.sock}`,
          '--v=1',
        ],
        netns: n.netnsPath,
      };
    case 'kube-proxy':
      return { cmd: k('kube-proxy'), args: [`--config=${nodeCfg('kube-proxy.yaml')}`, '--v=1'], netns: n.netnsPath };
    case 'coredns':
      return { cmd: join(bins.coredns, 'coredns'), args: ['-conf', cfg('Corefile')], netns: n.netnsPath, cwd: l.cfg };
    case 'kube-router':
      // NetworkPolicies only (no routing, no service proxy: kube-proxy does that), in the node's
      // netns where the pods' traffic is forwarded; its own identity, read-only RBAC
      return {
        cmd: join(bins.kubeRouter, 'kube-router'),
        args: [
          `--kubeconfig=${cfg('kube-router.kubeconfig')}`,
          `--hostname-override=${nodeName}`,
          '--run-firewall=true',
          '--run-router=false',
          '--run-service-proxy=false',
          '--enable-cni=false',
          `--service-cluster-ip-range=${n.serviceCidr}`,
          `--health-port=${KUBE_ROUTER_HEALTH_PORT}`,
          '--v=1',
        ],
        netns: n.netnsPath,
      };
    case 'kube-state-metrics': {
      // on the host's loopback only, HTTPS admitting only the scrape identity's client certificate
      // (config/kube-state-metrics-web.yaml); its own identity, list/watch of exactly these resources
      const p = portsOf(state);
      return {
        cmd: join(bins.kubeStateMetrics, 'kube-state-metrics'),
        args: [
          `--kubeconfig=${cfg('kube-state-metrics.kubeconfig')}`,
          '--host=127.0.0.1',
          `--port=${p.kubeStateMetrics}`,
          '--telemetry-host=127.0.0.1',
          `--telemetry-port=${p.kubeStateMetricsTelemetry}`,
          `--tls-config=${cfg('kube-state-metrics-web.yaml')}`,
          `--resources=${KUBE_STATE_METRICS_RESOURCES.flatMap((g) => g.resources).join(',')}`,
        ],
      };
    }
    case 'metrics-server': {
      // on the host end of the veth (an EndpointSlice address; the API server proxies
      // metrics.k8s.io there), TLS with a cluster-CA certificate; scrapes the kubelets' /metrics/resource
      // with its own client certificate, verifying their serving certificates against the cluster CA
      const p = portsOf(state);
      return {
        cmd: join(bins.metricsServer, 'metrics-server'),
        args: [
          `--kubeconfig=${cfg('metrics-server.kubeconfig')}`,
          `--authentication-kubeconfig=${cfg('metrics-server.kubeconfig')}`,
          `--authorization-kubeconfig=${cfg('metrics-server.kubeconfig')}`,
          `--bind-address=${n.hostIp}`,
          `--secure-port=${p.metricsServer}`,
          `--tls-cert-file=${pki('metrics-server-serving.crt')}`,
          `--tls-private-key-file=${pki('metrics-server-serving.key')}`,
          `--kubelet-certificate-authority=${pki('ca.crt')}`,
          `--kubelet-client-certificate=${pki('metrics-server.crt')}`,
          `--kubelet-client-key=${pki('metrics-server.key')}`,
          '--kubelet-preferred-address-types=InternalIP',
          '--kubelet-use-node-status-port',
          // the resolution must exceed the kubelet timeout (its default is 10 s)
          '--metric-resolution=10s',
          '--kubelet-request-timeout=5s',
          '--profiling=false',
        ],
      };
    }
    case 'provisioner':
      return {
        cmd: bins.node,
        args: [
          bins.provisioner,
          '--heartbeat',
          join(l.s, 'provisioner.heartbeat'),
          '--server',
          state.server,
          '--ca',
          pki('ca.crt'),
          '--cert',
          pki('local-provisioner.crt'),
          '--key',
          pki('local-provisioner.key'),
          '--dir',
          l.pvDir,
          '--class',
          STORAGE_CLASS,
          '--wait-class',
          WAIT_STORAGE_CLASS,
          '--name',
          PROVISIONER_NAME,
          // the nodes a volume may be used on (all of them share this host's filesystem)
          '--node',
          nodeNames(state).join(','),
        ],
      };
  }
}
