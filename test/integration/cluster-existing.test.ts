// The `existing` backend validates a cluster given by KUBECONFIG/--context (reachability and
// permissions via SelfSubjectAccessReview) and creates nothing. Uses this worktree's local cluster
// as the "existing" one, with full (admin) and with no permissions (a fresh ServiceAccount token).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterDown, clusterStatus, ensureCluster, type ClusterInfo } from '@gc-k8s/local-cluster';
import { runClusterCommand } from '@gc-k8s/local-cluster';
import { kubectlFor, type Kubectl } from './cluster-helpers.js';

const canRunLocal = process.platform === 'linux' && process.getuid?.() === 0;
const localEnv = { ...process.env, KUBECONFIG: '' };
const wt = mkdtempSync(join('/tmp', 'gck-wt-existing-'));
mkdirSync(join(wt, '.git'));
let local: ClusterInfo;
let k: Kubectl;

beforeAll(async () => {
  if (!canRunLocal) return;
  local = await ensureCluster({ backend: 'local', env: localEnv });
  k = await kubectlFor(local.kubeconfig);
});

afterAll(() => {
  rmSync(wt, { recursive: true, force: true });
});

function sink(): NodeJS.WritableStream & { text: () => string } {
  const chunks: string[] = [];
  return {
    write: (c: string | Uint8Array) => {
      chunks.push(typeof c === 'string' ? c : Buffer.from(c).toString());
      return true;
    },
    text: () => chunks.join(''),
  } as unknown as NodeJS.WritableStream & { text: () => string };
}

describe.skipIf(!canRunLocal)('existing backend', () => {
  it('accepts a reachable cluster with enough permissions (auto-selected by KUBECONFIG)', async () => {
    const env = { ...process.env, KUBECONFIG: local.kubeconfig };
    const info = await ensureCluster({ cwd: wt, env });
    expect(info.backend).toBe('existing');
    expect(info.kubeconfig).toBe(local.kubeconfig);
    expect(info.server).toBe(local.server);
    const st = await clusterStatus({ cwd: wt, env });
    expect(st.backend).toBe('existing');
    await clusterDown({ cwd: wt, env });
  });

  it('names the missing permissions of a restricted user', async () => {
    await k(['create', 'serviceaccount', 'gck-nobody']).catch(() => undefined);
    const token = (await k(['create', 'token', 'gck-nobody'])).trim();
    const server = local.server ?? '';
    const kc = join(wt, 'restricted.kubeconfig');
    writeFileSync(
      kc,
      `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: ${server}, insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: ${token}}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
`,
    );
    try {
      await expect(ensureCluster({ cwd: wt, env: process.env, backend: 'existing', kubeconfig: kc })).rejects.toThrow(
        /missing permissions in namespace default: .*create pods.*create pods\/exec/,
      );
    } finally {
      await k(['delete', 'serviceaccount', 'gck-nobody', '--wait=false']).catch(() => undefined);
    }
  });

  it('reports an unreachable cluster', async () => {
    const kc = join(wt, 'dead.kubeconfig');
    writeFileSync(
      kc,
      `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: 'https://127.0.0.1:1', insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: x}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
`,
    );
    await expect(ensureCluster({ cwd: wt, env: process.env, backend: 'existing', kubeconfig: kc })).rejects.toThrow(/GET \/version failed/);
  });

  it('up fails clearly when the port range is exhausted, leaving nothing behind', async () => {
    const wt2 = mkdtempSync(join('/tmp', 'gck-wt-ports-'));
    mkdirSync(join(wt2, '.git'));
    try {
      const ports = Object.values((await clusterStatus({ env: localEnv })).ports ?? {});
      const lo = Math.min(...ports);
      const env = { ...localEnv, GC_K8S_PORT_RANGE: `${lo}-${lo + 2}` };
      await expect(ensureCluster({ cwd: wt2, env, backend: 'local' })).rejects.toThrow(/port range .* exhausted .*GC_K8S_PORT_RANGE/);
      const { listSlots } = await import('@gc-k8s/local-cluster');
      expect(listSlots().some((s) => s.stateDir.startsWith(wt2))).toBe(false);
    } finally {
      rmSync(wt2, { recursive: true, force: true });
    }
  });

  it('cluster status via the CLI shows every component with health and ports', async () => {
    const io = { stdout: sink(), stderr: sink(), env: localEnv, cwd: process.cwd(), signal: new AbortController().signal };
    expect(await runClusterCommand(['status'], io)).toBe(0);
    const out = io.stdout.text();
    for (const c of [
      'etcd',
      'kube-apiserver',
      'containerd',
      'kube-controller-manager',
      'kube-scheduler',
      'kubelet',
      'kube-proxy',
      'coredns',
      'provisioner',
      'kube-router',
      'kube-state-metrics',
      'metrics-server',
    ]) {
      expect(out).toMatch(new RegExp(`${c} +\\d+ +alive +ok`));
    }
    expect(out).toMatch(/ports: etcd=\d+ etcdPeer=\d+ apiserver=\d+/);
    const j = { ...io, stdout: sink() };
    expect(await runClusterCommand(['kubeconfig'], j)).toBe(0);
    expect(j.stdout.text().trim()).toBe(local.kubeconfig);
  });
});
