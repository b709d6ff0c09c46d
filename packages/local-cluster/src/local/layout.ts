// Where a local cluster keeps its files: the state dir (pki, configs, volumes, kubelet and
// containerd roots), the run dir under /run/gc-k8s, the component logs, and which certificate
// a client of the API server uses.

import { join } from 'node:path';
import { RUN_DIR } from '../host.js';
import type { KubeCreds } from '../kube/client.js';
import type { WorktreePaths } from '../names.js';

export const runDir = (name: string): string => join(RUN_DIR, name);

export const logsDir = (paths: WorktreePaths): string => join(paths.worktree, '.gc-k8s', 'logs');

export const logOf = (paths: WorktreePaths, c: string): string => join(logsDir(paths), `${c}.log`);

export interface Layout {
  readonly s: string; // state dir
  readonly pki: string;
  readonly run: string;
  readonly sock: string;
  readonly kubeletDir: string;
  readonly podLogs: string;
  readonly pvDir: string;
  readonly cniConf: string;
  readonly cfg: string;
}

export function layout(paths: WorktreePaths): Layout {
  const s = paths.stateDir;
  const r = runDir(paths.name);
  return {
    s,
    pki: join(s, 'pki'),
    run: r,
    sock: join(r, 'containerd.sock'),
    kubeletDir: join(s, 'kubelet'),
    podLogs: join(s, 'pod-logs'),
    pvDir: join(s, 'pv'),
    cniConf: join(s, 'cni', 'net.d'),
    cfg: join(s, 'config'),
  };
}

export function credsFor(l: Layout, server: string, user: string): KubeCreds {
  return { server, ca: join(l.pki, 'ca.crt'), cert: join(l.pki, `${user}.crt`), key: join(l.pki, `${user}.key`) };
}

/**
 * Where one node's own files live: node 1's are the cluster's (Layout), node k ≥ 2's under
 * <state>/nodes/n<k> and <run>/n<k> (its containerd, kubelet root, pod logs, CNI config and IPAM,
 * and the config files of its containerd, kubelet and kube-proxy).
 */
export interface NodeLayout {
  readonly sock: string;
  readonly kubeletDir: string;
  readonly podLogs: string;
  readonly cniConf: string;
  readonly cniIpam: string;
  readonly containerdRoot: string;
  readonly containerdState: string;
  readonly runcRoot: string;
  /** config dir of containerd.toml, kubelet.yaml, kubelet.kubeconfig, kube-proxy.yaml */
  readonly cfg: string;
}

export function nodeLayout(l: Layout, k: number): NodeLayout {
  if (k === 1) {
    return {
      sock: l.sock,
      kubeletDir: l.kubeletDir,
      podLogs: l.podLogs,
      cniConf: l.cniConf,
      cniIpam: join(l.s, 'cni', 'ipam'),
      containerdRoot: join(l.s, 'containerd'),
      containerdState: join(l.run, 'containerd'),
      runcRoot: join(l.run, 'runc'),
      cfg: l.cfg,
    };
  }
  const s = join(l.s, 'nodes', `n${k}`);
  const r = join(l.run, `n${k}`);
  return {
    sock: join(r, 'containerd.sock'),
    kubeletDir: join(s, 'kubelet'),
    podLogs: join(s, 'pod-logs'),
    cniConf: join(s, 'cni', 'net.d'),
    cniIpam: join(s, 'cni', 'ipam'),
    containerdRoot: join(s, 'containerd'),
    containerdState: join(r, 'containerd'),
    runcRoot: join(r, 'runc'),
    cfg: join(s, 'config'),
  };
}
