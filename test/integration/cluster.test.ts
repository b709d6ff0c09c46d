// The local cluster of this worktree behaves like a real cluster: node Ready, agent pods with
// tmux, interactive exec, PVCs through the default StorageClass, Services + DNS, memory limits.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterStatus, ensureCluster, type ClusterInfo } from '@gc-k8s/local-cluster';
import { streamReporter } from '@gc-k8s/local-cluster';
import { kubectlFor, kubectlPath, run, until, type Kubectl } from './cluster-helpers.js';

const ns = `it-cluster-${Date.now().toString(36)}`;
let info: ClusterInfo;
let k: Kubectl;
let agentRef: string;
let busyboxRef: string;
const timings: Record<string, number> = {};

// These tests are about the local backend itself, whatever KUBECONFIG the rest of the suite uses.
const canRunLocal = process.platform === 'linux' && process.getuid?.() === 0;
const localEnv = { ...process.env, KUBECONFIG: '' };

beforeAll(async () => {
  if (!canRunLocal) return;
  const t0 = Date.now();
  info = await ensureCluster({
    backend: 'local',
    env: localEnv,
    images: ['agent', 'busybox'],
    reporter: streamReporter(process.stderr, 'it-cluster'),
  });
  timings.ensureCluster = Date.now() - t0;
  agentRef = info.images.agent ?? '';
  busyboxRef = info.images.busybox ?? '';
  k = await kubectlFor(info.kubeconfig);
  await k(['create', 'namespace', ns]);
  await until('default service account', () => k.ok(['-n', ns, 'get', 'sa', 'default']), 30_000);
});

afterAll(async () => {
  if (!canRunLocal) return;
  await k(['delete', 'namespace', ns, '--wait=false']).catch(() => undefined);
  process.stderr.write(`[it-cluster] timings (ms): ${JSON.stringify(timings)}\n`);
});

function podYaml(name: string, image: string, extra: string): string {
  return `apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: ${ns}, labels: {app: ${name}}}
spec:
  terminationGracePeriodSeconds: 1
${extra}`.replace('IMAGE', image);
}

describe.skipIf(!canRunLocal)('local cluster', () => {
  it('has Ready nodes, the first with the worktree-derived name', async () => {
    const out = await k([
      'get',
      'nodes',
      '-o',
      'jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}',
    ]);
    // every node (one, or GC_K8S_TEST_NODES of them) is Ready; node 1 has the worktree's name
    expect(out.trim().split('\n')).toEqual((info.nodeNames ?? [info.nodeName ?? '']).map((n) => `${n}=True`));
    expect(info.nodeNames?.[0]).toBe(info.nodeName);
  });

  it('runs an agent pod whose tmux session is ready within 3 s (warm)', async () => {
    const spec = `  containers:
  - name: agent
    image: IMAGE
    imagePullPolicy: IfNotPresent
    resources: {limits: {memory: 256Mi, cpu: 500m}}
`;
    const t0 = Date.now();
    await k(['apply', '-f', '-'], podYaml('agent', agentRef, spec));
    await until('tmux session main', () => k.ok(['-n', ns, 'exec', 'agent', '--', 'tmux', 'has-session', '-t', 'main']), 30_000, 100);
    timings.agentCreateToTmux = Date.now() - t0;
    expect(timings.agentCreateToTmux).toBeLessThan(3000);
    expect((await k(['-n', ns, 'exec', 'agent', '--', 'id', '-u'])).trim()).toBe('1000');
    const ps = await k(['-n', ns, 'exec', 'agent', '--', 'ps', '-o', 'comm=', '-p', '1']);
    expect(ps.trim()).toBe('tini');
  });

  it('supports kubectl exec -it … tmux attach driven from a host tmux session', async () => {
    const kubectl = await kubectlPath();
    const session = `it-attach-${process.pid}`;
    await run('tmux', [
      'new-session',
      '-d',
      '-s',
      session,
      '-x',
      '150',
      '-y',
      '40',
      `${kubectl} --kubeconfig ${info.kubeconfig} -n ${ns} exec -it agent -- tmux attach -t main`,
    ]);
    try {
      await until('attached', async () => (await run('tmux', ['capture-pane', '-p', '-t', session])).includes('[main]'), 15_000);
      // typed on the host, travels through the apiserver, kubelet and containerd into the pod's tmux
      await run('tmux', ['send-keys', '-t', session, 'echo typed-$((6*7))', 'Enter']);
      await until('echo output', async () => (await run('tmux', ['capture-pane', '-p', '-t', session])).includes('typed-42'), 15_000);
      const inPod = await k(['-n', ns, 'exec', 'agent', '--', 'tmux', 'capture-pane', '-p', '-t', 'main']);
      expect(inPod).toContain('typed-42');
    } finally {
      await run('tmux', ['kill-session', '-t', session]).catch(() => undefined);
    }
  });

  it('binds a StatefulSet volumeClaimTemplate through the default StorageClass', async () => {
    const sts = `apiVersion: v1
kind: Service
metadata: {name: db, namespace: ${ns}}
spec: {clusterIP: None, selector: {app: db}, ports: [{port: 80}]}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: ${ns}}
spec:
  serviceName: db
  replicas: 1
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      terminationGracePeriodSeconds: 1
      securityContext: {runAsUser: 1000, fsGroup: 1000}
      containers:
      - name: db
        image: ${busyboxRef}
        imagePullPolicy: IfNotPresent
        command: [sh, -c, 'echo persisted > /data/hello && exec sleep 3600']
        readinessProbe: {exec: {command: [cat, /data/hello]}, periodSeconds: 1}
        volumeMounts: [{name: data, mountPath: /data}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
`;
    await k(['apply', '-f', '-'], sts);
    await until(
      'StatefulSet ready',
      async () => (await k(['-n', ns, 'get', 'sts', 'db', '-o', 'jsonpath={.status.readyReplicas}'])).trim() === '1',
      90_000,
      500,
    );
    expect((await k(['-n', ns, 'get', 'pvc', 'data-db-0', '-o', 'jsonpath={.status.phase}'])).trim()).toBe('Bound');
    expect((await k(['-n', ns, 'exec', 'db-0', '--', 'cat', '/data/hello'])).trim()).toBe('persisted');
  });

  it('lets a pod reach another pod through a Service DNS name', async () => {
    const web = `apiVersion: v1
kind: Pod
metadata: {name: web, namespace: ${ns}, labels: {app: web}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: web
    image: ${busyboxRef}
    imagePullPolicy: IfNotPresent
    command: [sh, -c, 'mkdir -p /www && echo hello-from-web > /www/index.html && exec httpd -f -p 8080 -h /www']
    readinessProbe: {tcpSocket: {port: 8080}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: ${ns}}
spec: {selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}
`;
    await k(['apply', '-f', '-'], web);
    await until('web ready', () => k.ok(['-n', ns, 'wait', '--for=condition=Ready', 'pod/web', '--timeout=2s']), 60_000);
    // from the agent image: bash /dev/tcp to the Service name (DNS via CoreDNS, ClusterIP via kube-proxy)
    const script = `exec 3<>/dev/tcp/web.${ns}.svc.cluster.local/80 && printf 'GET / HTTP/1.0\\r\\n\\r\\n' >&3 && cat <&3`;
    const out = await until(
      'HTTP through the Service',
      async () => {
        const r = await k(['-n', ns, 'exec', 'agent', '--', 'timeout', '5', 'bash', '-c', script]);
        return r.includes('hello-from-web') ? r : undefined;
      },
      30_000,
      500,
    );
    expect(out).toContain('200 OK');
    // the ClusterIP is also reachable from the host (routed into the node's network namespace)
    const ip = (await k(['-n', ns, 'get', 'svc', 'web', '-o', 'jsonpath={.spec.clusterIP}'])).trim();
    const res = await fetch(`http://${ip}/`);
    expect(await res.text()).toContain('hello-from-web');
  });

  it('enforces memory limits (OOMKilled)', async () => {
    const spec = `  restartPolicy: Never
  containers:
  - name: hog
    image: IMAGE
    imagePullPolicy: IfNotPresent
    command: [sh, -c, 'tail /dev/zero']
    resources: {limits: {memory: 32Mi}}
`;
    await k(['apply', '-f', '-'], podYaml('hog', busyboxRef, spec));
    const reason = await until(
      'OOMKilled',
      async () =>
        (await k(['-n', ns, 'get', 'pod', 'hog', '-o', 'jsonpath={.status.containerStatuses[0].state.terminated.reason}'])).trim() ||
        undefined,
      60_000,
      500,
    );
    expect(reason).toBe('OOMKilled');
  });

  it('reports every component healthy in status', async () => {
    const st = await clusterStatus({ env: localEnv });
    expect(st.backend).toBe('local');
    expect(st.components.filter((c) => !c.healthy).map((c) => c.name)).toEqual([]);
    expect(st.healthy).toBe(true);
  });
});
