// Health of each component (the endpoint it serves, checked through the verified client) and of
// its process (a recorded PID that still belongs to this cluster).

import { statSync } from 'node:fs';
import { join } from 'node:path';
import { netPlan, nodeNetPlan } from '../host.js';
import { probe } from '../kube/client.js';
import type { WorktreePaths } from '../names.js';
import { etcdPkiPaths } from '../pki.js';
import { KUBE_ROUTER_HEALTH_PORT } from './commands.js';
import { cmdline, isAlive, run } from '../proc.js';
import { layout, logOf, nodeLayout, runDir, type Layout } from './layout.js';
import {
  STATE_VERSION,
  componentIds,
  monitoringPorts,
  nodeCount,
  readState,
  splitComponentId,
  type Component,
  type ComponentId,
  type ComponentStatus,
  type LocalState,
  type NodeComponent,
} from './state.js';

export interface Probe {
  readonly endpoint: string;
  check(): Promise<boolean>;
}

export function probes(state: LocalState, paths: WorktreePaths): Record<Component, Probe> {
  const n = netPlan(state.slot);
  const l = layout(paths);
  const http = (url: string): Probe => ({ endpoint: url, check: () => probe(url) });
  // verified TLS: the API server's certificate is from the cluster CA; the controller manager
  // and the scheduler serve a certificate they made themselves, with its CA, in their --cert-dir
  const https = (url: string, ca: string): Probe => ({ endpoint: url, check: () => probe(url, { ca }) });
  // a cluster made before the monitoring components has no ports for them until its repair
  const mon = monitoringPorts(state.ports);
  const none: Probe = { endpoint: '(no port yet)', check: () => Promise.resolve(false) };
  return {
    etcd: etcdProbe(state, l),
    'kube-apiserver': https(`${state.server}/readyz`, join(l.pki, 'ca.crt')),
    'kube-controller-manager': https(
      `https://127.0.0.1:${state.ports.controllerManager}/healthz`,
      join(l.s, 'kcm-certs', 'kube-controller-manager.crt'),
    ),
    'kube-scheduler': https(`https://127.0.0.1:${state.ports.scheduler}/healthz`, join(l.s, 'scheduler-certs', 'kube-scheduler.crt')),
    containerd: {
      endpoint: `unix://${l.sock}`,
      check: async () =>
        (await run(join(state.containerdBin, 'ctr'), ['--address', l.sock, 'version'], { allowFail: true, timeoutMs: 3000 })).code === 0,
    },
    kubelet: http(`http://${n.nodeIp}:10248/healthz`),
    'kube-proxy': http(`http://${n.nodeIp}:10256/healthz`),
    coredns: http(`http://${n.nodeIp}:8080/health`),
    'kube-router': http(`http://${n.nodeIp}:${KUBE_ROUTER_HEALTH_PORT}/healthz`),
    // HTTPS with the scrape identity's client certificate (the only one it admits)
    'kube-state-metrics':
      mon === undefined
        ? none
        : {
            endpoint: `https://127.0.0.1:${mon.kubeStateMetrics}/healthz`,
            check: () =>
              probe(`https://127.0.0.1:${mon.kubeStateMetrics}/healthz`, {
                ca: join(l.pki, 'ca.crt'),
                cert: join(l.pki, 'prometheus.crt'),
                key: join(l.pki, 'prometheus.key'),
              }),
          },
    // /livez: /readyz waits for the first scrapes of the kubelets, which up need not wait for
    'metrics-server': mon === undefined ? none : https(`https://${n.hostIp}:${mon.metricsServer}/livez`, join(l.pki, 'ca.crt')),
    provisioner: {
      endpoint: `heartbeat ${join(l.s, 'provisioner.heartbeat')}`,
      check: () => {
        try {
          return Promise.resolve(Date.now() - statSync(join(l.s, 'provisioner.heartbeat')).mtimeMs < 15_000);
        } catch {
          return Promise.resolve(false);
        }
      },
    },
  };
}

/** The health checks of node k's own components (node 1's are those of probes()). */
export function nodeProbes(state: LocalState, paths: WorktreePaths, k: number): Record<NodeComponent, Probe> {
  const n = nodeNetPlan(state.slot, k);
  const sock = nodeLayout(layout(paths), k).sock;
  const http = (url: string): Probe => ({ endpoint: url, check: () => probe(url) });
  return {
    containerd: {
      endpoint: `unix://${sock}`,
      check: async () =>
        (await run(join(state.containerdBin, 'ctr'), ['--address', sock, 'version'], { allowFail: true, timeoutMs: 3000 })).code === 0,
    },
    kubelet: http(`http://${n.nodeIp}:10248/healthz`),
    'kube-proxy': http(`http://${n.nodeIp}:10256/healthz`),
    'kube-router': http(`http://${n.nodeIp}:${KUBE_ROUTER_HEALTH_PORT}/healthz`),
  };
}

/** The health check of any component of the cluster, `kubelet@2` included. */
export function probeOf(state: LocalState, paths: WorktreePaths): (id: ComponentId) => Probe {
  const first = probes(state, paths);
  const nodes = new Map<number, Record<NodeComponent, Probe>>();
  return (id) => {
    const { component, node } = splitComponentId(id);
    if (node === 1) return first[component];
    let p = nodes.get(node);
    if (p === undefined) {
      p = nodeProbes(state, paths, node);
      nodes.set(node, p);
    }
    return p[component as NodeComponent];
  };
}

/** etcd's /health, through TLS with the health-check client certificate (plain HTTP before v2). */
function etcdProbe(state: LocalState, l: Layout): Probe {
  if (state.version < STATE_VERSION) {
    const url = `http://127.0.0.1:${state.ports.etcd}/health`;
    return { endpoint: url, check: () => probe(url) };
  }
  const e = etcdPkiPaths(l.pki);
  const url = `https://127.0.0.1:${state.ports.etcd}/health`;
  return { endpoint: url, check: () => probe(url, { ca: e.ca, ...e.healthcheck }) };
}

export async function localStatus(paths: WorktreePaths): Promise<{ state?: LocalState; components: ComponentStatus[] }> {
  const state = readState(paths.stateDir);
  if (state === undefined) return { components: [] };
  const pr = probeOf(state, paths);
  const components = await Promise.all(
    componentIds(nodeCount(state)).map(async (c): Promise<ComponentStatus> => {
      const pid = state.pids[c];
      const alive = isAlive(pid) && ownsPid(pid, paths, state);
      const healthy = alive && (await pr(c).check());
      return { name: c, ...(pid === undefined ? {} : { pid }), alive, healthy, endpoint: pr(c).endpoint, log: logOf(paths, c) };
    }),
  );
  return { state, components };
}

/** A recorded PID still belongs to this cluster (PIDs get reused after a crash or reboot). */
export function ownsPid(pid: number | undefined, paths: WorktreePaths, state: LocalState): boolean {
  if (pid === undefined) return false;
  const cl = cmdline(pid);
  return (
    cl !== undefined && (cl.includes(`${paths.stateDir}/`) || cl.includes(`${state.stateDir}/`) || cl.includes(`${runDir(state.name)}/`))
  );
}
