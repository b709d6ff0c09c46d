// Two worktrees' local clusters side by side: distinct names, slots, ports, networks and objects;
// up is idempotent, a crashed cluster is detected and rebuilt, down leaves nothing behind, and an
// interrupted up cleans up after itself.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  clusterDown,
  clusterLeftovers,
  clusterStatus,
  ensureCluster,
  ensureImage,
  listLocalClusters,
  pruneLocalClusters,
  type ClusterInfo,
} from '@gc-k8s/local-cluster';
import { listSlots } from '@gc-k8s/local-cluster';
import { worktreePaths } from '@gc-k8s/local-cluster';
import { streamReporter } from '@gc-k8s/local-cluster';
import { kubectlFor, run, until, type Kubectl } from './cluster-helpers.js';

const canRunLocal = process.platform === 'linux' && process.getuid?.() === 0;
const env = { ...process.env, KUBECONFIG: '' };
const reporter = streamReporter(process.stderr, 'it-iso');

function fakeWorktree(prefix: string): string {
  const dir = mkdtempSync(join('/tmp', prefix));
  mkdirSync(join(dir, '.git'));
  return dir;
}

const wtB = fakeWorktree('gck-wt-b-');
const wtC = fakeWorktree('gck-wt-c-');
let a: ClusterInfo;
let b: ClusterInfo;
let ka: Kubectl;
let kb: Kubectl;
const timings: Record<string, number> = {};

beforeAll(async () => {
  if (!canRunLocal) return;
  a = await ensureCluster({ backend: 'local', env, reporter });
  const t0 = Date.now();
  b = await ensureCluster({ cwd: wtB, backend: 'local', env, images: ['busybox'], reporter });
  timings.warmUpSecondCluster = Date.now() - t0;
  ka = await kubectlFor(a.kubeconfig);
  kb = await kubectlFor(b.kubeconfig);
});

afterAll(async () => {
  if (canRunLocal) {
    for (const cwd of [wtB, wtC]) await clusterDown({ cwd, env }).catch(() => undefined);
  }
  for (const d of [wtB, wtC]) rmSync(d, { recursive: true, force: true });
  process.stderr.write(`[it-iso] timings (ms): ${JSON.stringify(timings)}\n`);
});

describe.skipIf(!canRunLocal)('two local clusters', () => {
  it('come up side by side with distinct names, slots, ports and networks (warm up < 60 s)', async () => {
    expect(timings.warmUpSecondCluster).toBeLessThan(60_000);
    expect(a.name).not.toBe(b.name);
    expect(a.server).not.toBe(b.server);
    const [sa, sb] = await Promise.all([clusterStatus({ env }), clusterStatus({ cwd: wtB, env })]);
    expect(sa.healthy).toBe(true);
    expect(sb.healthy).toBe(true);
    expect(sa.slot).not.toBe(sb.slot);
    const pa = Object.values(sa.ports ?? {});
    const pb = Object.values(sb.ports ?? {});
    expect(pa.filter((p) => pb.includes(p))).toEqual([]);
    expect(b.kubeconfig).toBe(join(wtB, '.kube', 'config'));
    const listed = listLocalClusters().map((c) => c.name);
    expect(listed).toContain(a.name);
    expect(listed).toContain(b.name);
  });

  it("do not see each other's objects", async () => {
    await ka(['create', 'configmap', 'only-in-a', '--from-literal=x=1']);
    await kb(['create', 'configmap', 'only-in-b', '--from-literal=x=2']);
    expect(await ka.ok(['get', 'configmap', 'only-in-b'])).toBe(false);
    expect(await kb.ok(['get', 'configmap', 'only-in-a'])).toBe(false);
    // each sees only its own nodes (this worktree's cluster may have several: GC_K8S_TEST_NODES)
    const own = (c: ClusterInfo): string => (c.nodeNames ?? [c.nodeName ?? '']).map((n) => `node/${n}`).join('\n');
    expect((await ka(['get', 'nodes', '-o', 'name'])).trim()).toBe(own(a));
    expect((await kb(['get', 'nodes', '-o', 'name'])).trim()).toBe(own(b));
    await ka(['delete', 'configmap', 'only-in-a']);
  });

  it('run pods and Services in both at once without clashing', async () => {
    const busybox = b.images.busybox ?? '';
    const web = `apiVersion: v1
kind: Pod
metadata: {name: web-b, labels: {app: web-b}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: web
    image: ${busybox}
    imagePullPolicy: IfNotPresent
    command: [sh, -c, 'mkdir -p /www && echo hello-from-b > /www/index.html && exec httpd -f -p 8080 -h /www']
    readinessProbe: {tcpSocket: {port: 8080}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: web-b}
spec: {selector: {app: web-b}, ports: [{port: 80, targetPort: 8080}]}
`;
    await kb(['apply', '-f', '-'], web);
    await until('web-b ready', () => kb.ok(['wait', '--for=condition=Ready', 'pod/web-b', '--timeout=2s']), 60_000);
    const ip = (await kb(['get', 'svc', 'web-b', '-o', 'jsonpath={.spec.clusterIP}'])).trim();
    const sb = await clusterStatus({ cwd: wtB, env });
    expect(ip.startsWith(`10.96.${sb.slot ?? -1}.`)).toBe(true);
    const body = await until(
      'ClusterIP of B from the host',
      async () => {
        const r = await fetch(`http://${ip}/`, { signal: AbortSignal.timeout(3000) });
        return (await r.text()).includes('hello-from-b') ? 'ok' : undefined;
      },
      30_000,
      500,
    );
    expect(body).toBe('ok');
    // A knows nothing about it
    expect(await ka.ok(['get', 'svc', 'web-b'])).toBe(false);
  });

  it('serves the upstream default Dolt address dolt.gc.svc.cluster.local:3307 unchanged', async () => {
    // the Dolt image when it can be built (dolt from the Go module proxy), else a stand-in that
    // answers on 3307; same names, port and volumeClaimTemplate shape as upstream's manifest
    const busybox = b.images.busybox ?? '';
    const dolt = await ensureImage('dolt', { cwd: wtB, env, reporter }).catch(() => undefined);
    const container =
      dolt === undefined
        ? `image: ${busybox}
        command: [sh, -c, 'while true; do echo dolt-stand-in | nc -l -p 3307; done']`
        : `image: ${dolt}`;
    const expected = dolt === undefined ? 'dolt-stand-in' : 'mysql_native_password';
    await kb(['create', 'namespace', 'gc']);
    await kb(['create', 'namespace', 'agents']);
    await kb(
      ['apply', '-f', '-'],
      `apiVersion: v1
kind: Service
metadata: {name: dolt, namespace: gc}
spec: {selector: {app: dolt}, ports: [{name: mysql, port: 3307}]}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: dolt, namespace: gc}
spec:
  serviceName: dolt
  replicas: 1
  selector: {matchLabels: {app: dolt}}
  template:
    metadata: {labels: {app: dolt}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: dolt
        ${container}
        imagePullPolicy: IfNotPresent
        readinessProbe: {tcpSocket: {port: 3307}, periodSeconds: 1}
        volumeMounts: [{name: data, mountPath: /var/lib/dolt}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 20Gi}}}
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: agents}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: c, image: ${busybox}, imagePullPolicy: IfNotPresent, command: [sleep, '3600']}
`,
    );
    await until(
      'dolt ready',
      async () => (await kb(['-n', 'gc', 'get', 'sts', 'dolt', '-o', 'jsonpath={.status.readyReplicas}'])).trim() === '1',
      90_000,
      500,
    );
    await until('client ready', () => kb.ok(['-n', 'agents', 'wait', '--for=condition=Ready', 'pod/client', '--timeout=2s']), 60_000);
    const out = await until(
      'connect to dolt.gc.svc.cluster.local:3307',
      async () => {
        const r = await kb(['-n', 'agents', 'exec', 'client', '--', 'nc', '-w', '3', 'dolt.gc.svc.cluster.local', '3307']);
        return r.includes(expected) ? r : undefined;
      },
      60_000,
      500,
    );
    expect(out).toContain(expected);
  });

  it('up twice is idempotent and fast', async () => {
    const t0 = Date.now();
    const again = await ensureCluster({ cwd: wtB, backend: 'local', env, reporter });
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(again.server).toBe(b.server);
  });

  it('restarts crashed components on up, keeping data and pods', async () => {
    const st = await clusterStatus({ cwd: wtB, env });
    const webUid = (await kb(['get', 'pod', 'web-b', '-o', 'jsonpath={.metadata.uid}'])).trim();
    for (const c of st.components)
      if (c.pid !== undefined && ['etcd', 'kube-apiserver', 'kubelet', 'kube-proxy'].includes(c.name)) process.kill(c.pid, 'SIGKILL');
    await until('crash visible', async () => !(await clusterStatus({ cwd: wtB, env })).healthy || undefined, 10_000);
    b = await ensureCluster({ cwd: wtB, backend: 'local', env, images: ['busybox'], reporter });
    expect((await clusterStatus({ cwd: wtB, env })).healthy).toBe(true);
    expect(await kb.ok(['get', 'configmap', 'only-in-b'])).toBe(true);
    expect((await kb(['get', 'pod', 'web-b', '-o', 'jsonpath={.metadata.uid}'])).trim()).toBe(webUid);
    await until('web-b ready again', () => kb.ok(['wait', '--for=condition=Ready', 'pod/web-b', '--timeout=2s']), 60_000);
  });

  it('rebuilds a cluster whose processes and network are gone (crash, reboot)', async () => {
    const st = await clusterStatus({ cwd: wtB, env });
    for (const c of st.components) if (c.pid !== undefined) process.kill(c.pid, 'SIGKILL');
    await until('all dead', async () => !(await clusterStatus({ cwd: wtB, env })).running || undefined, 10_000);
    await run('ip', ['netns', 'delete', `gck${st.slot ?? -1}`]); // as after a reboot
    const stale = await clusterStatus({ cwd: wtB, env });
    expect(stale.message).toMatch(/stale/);
    b = await ensureCluster({ cwd: wtB, backend: 'local', env, images: ['busybox'], reporter });
    expect((await clusterStatus({ cwd: wtB, env })).healthy).toBe(true);
    kb = await kubectlFor(b.kubeconfig);
    expect((await kb(['get', 'nodes', '-o', 'jsonpath={.items[0].status.conditions[?(@.type=="Ready")].status}'])).trim()).toBe('True');
  });

  it('down stops everything and leaves nothing behind (< 15 s), the other cluster stays healthy', async () => {
    const st = await clusterStatus({ cwd: wtB, env });
    const paths = worktreePaths(wtB);
    const t0 = Date.now();
    await clusterDown({ cwd: wtB, env, reporter });
    timings.down = Date.now() - t0;
    expect(timings.down).toBeLessThan(15_000);
    expect(await clusterLeftovers(paths.name, st.slot ?? -1, paths.stateDir)).toEqual([]);
    expect(listSlots().some((s) => s.stateDir === paths.stateDir)).toBe(false);
    expect((await clusterStatus({ env })).healthy).toBe(true);
    expect((await ka(['get', 'nodes', '-o', 'jsonpath={.items[0].status.conditions[?(@.type=="Ready")].status}'])).trim()).toBe('True');
  });

  it('prune removes the cluster of a worktree deleted without down', async () => {
    const wtD = fakeWorktree('gck-wt-d-');
    const paths = worktreePaths(wtD);
    await ensureCluster({ cwd: wtD, backend: 'local', env, reporter });
    const slot = listSlots().find((s) => s.stateDir === paths.stateDir)?.slot ?? -1;
    rmSync(join(paths.stateDir, 'state.json')); // as if the worktree were deleted (rm -rf stops at kubelet mounts)
    expect(listLocalClusters().find((c) => c.name === paths.name)?.stale).toBe(true);
    expect(await pruneLocalClusters({ reporter })).toContain(paths.name);
    expect(await clusterLeftovers(paths.name, slot, paths.stateDir)).toEqual([]);
    rmSync(wtD, { recursive: true, force: true });
  });

  it('an interrupted up (Ctrl-C) cleans up after itself', async () => {
    const paths = worktreePaths(wtC);
    const ac = new AbortController();
    let slot: number | undefined;
    const poll = setInterval(() => {
      slot ??= listSlots().find((s) => s.stateDir === paths.stateDir)?.slot;
    }, 50);
    const timer = setTimeout(() => {
      ac.abort(new Error('SIGINT'));
    }, 2500);
    try {
      await expect(ensureCluster({ cwd: wtC, backend: 'local', env, signal: ac.signal, reporter })).rejects.toThrow();
    } finally {
      clearInterval(poll);
      clearTimeout(timer);
    }
    expect(slot).toBeDefined();
    expect(await clusterLeftovers(paths.name, slot ?? -1, paths.stateDir)).toEqual([]);
    expect(listSlots().some((s) => s.stateDir === paths.stateDir)).toBe(false);
  });
});
