// `gc-k8s cluster up --nodes 2`: a cluster of its own (a second worktree, so its own slot, ports
// and state, whatever layout the rest of the suite runs on), checked where it matters that pods
// are on different nodes: pod-to-pod traffic between nodes keeps pod IPs (a NetworkPolicy on node
// 2 admits the allowed pod of node 1 and refuses another), a Service and its DNS name from a pod
// on node 2, a gc session pinned to node 2 driven through the daemon (start, peek, nudge, attach
// with kubectl exec -it, stop), repair of a killed node-2 component, and down leaving nothing.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  clusterDown,
  clusterLeftovers,
  clusterStatus,
  ensureCluster,
  runClusterCommand,
  streamReporter,
  type ClusterInfo,
} from '@gc-k8s/local-cluster';
import { podNameFor } from '../../src/session/names.js';
import { kubectlFor, until, type Kubectl } from './cluster-helpers.js';
import { Harness, until as poll } from './harness.js';

const canRunLocal = process.platform === 'linux' && process.getuid?.() === 0;
const env = { ...process.env, KUBECONFIG: '' };
const wt = mkdtempSync(join('/tmp', 'gck-wt-nodes-'));
mkdirSync(join(wt, '.git'));
const ns = 'it-nodes';
let info: ClusterInfo;
let k: Kubectl;
let h: Harness;
let node1 = '';
let node2 = '';
let busybox = '';
let down = false;

beforeAll(async () => {
  if (!canRunLocal) return;
  info = await ensureCluster({
    cwd: wt,
    env,
    backend: 'local',
    nodes: 2,
    images: ['agent', 'busybox'],
    reporter: streamReporter(process.stderr, 'it-nodes'),
  });
  [node1 = '', node2 = ''] = info.nodeNames ?? [];
  busybox = info.images.busybox ?? '';
  k = await kubectlFor(info.kubeconfig);
  await k(['create', 'namespace', ns]);
  await until('default service account', () => k.ok(['-n', ns, 'get', 'sa', 'default']), 30_000);
  h = new Harness(info.kubeconfig);
  await h.setup();
});

afterAll(async () => {
  if (!canRunLocal) return;
  // (beforeAll may have failed before making the harness; the last test tears both down itself,
  // and a kubectl against a cluster already gone would wait for its connect timeout)
  if (!down) {
    await (h as Harness | undefined)?.teardown().catch(() => undefined);
    await clusterDown({ cwd: wt, env }).catch(() => undefined);
  }
  rmSync(wt, { recursive: true, force: true });
});

/** A busybox pod on `node`: an HTTP server on 8080 saying `text`, or (no text) an idle client. */
function pod(name: string, node: string, labels: Record<string, string>, text?: string): string {
  const cmd = text === undefined ? 'exec sleep 3600' : `mkdir -p /www && echo ${text} > /www/index.html && exec httpd -f -p 8080 -h /www`;
  return `apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: ${ns}, labels: ${JSON.stringify(labels)}}
spec:
  terminationGracePeriodSeconds: 1
  nodeSelector: {kubernetes.io/hostname: ${node}}
  containers:
  - name: c
    image: ${busybox}
    imagePullPolicy: IfNotPresent
    command: [sh, -c, '${cmd}']
${text === undefined ? '' : '    readinessProbe: {tcpSocket: {port: 8080}, periodSeconds: 1}\n'}---
`;
}

const podIp = async (name: string): Promise<string> => (await k(['-n', ns, 'get', 'pod', name, '-o', 'jsonpath={.status.podIP}'])).trim();
const nodeOf = async (name: string): Promise<string> => (await k(['-n', ns, 'get', 'pod', name, '-o', 'jsonpath={.spec.nodeName}'])).trim();
/**
 * An HTTP GET from a busybox client pod to `host` (an IP: the static busybox's nc resolves no
 * names; its wget crashes): the response, or undefined when refused or timed out.
 */
async function fetchFrom(client: string, url: string): Promise<string | undefined> {
  const { hostname, port } = new URL(url);
  try {
    const out = await k([
      '-n',
      ns,
      'exec',
      client,
      '--',
      'sh',
      '-c',
      `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 ${hostname} ${port || '80'}`,
    ]);
    return out.includes('200 OK') ? out : undefined;
  } catch {
    return undefined;
  }
}

/** A name resolved from a client pod through the cluster DNS (busybox nslookup: its own resolver). */
async function resolveFrom(client: string, name: string): Promise<string | undefined> {
  const out = await k(['-n', ns, 'exec', client, '--', 'nslookup', name]).catch(() => '');
  return /^Name:.*\nAddress: (\S+)/m.exec(out)?.[1];
}

describe.skipIf(!canRunLocal)('a 2-node local cluster', () => {
  it('has two Ready nodes and every component of both healthy in status', async () => {
    expect(info.nodeNames).toEqual([info.nodeName, `${info.nodeName ?? ''}-n2`]);
    const ready = await k([
      'get',
      'nodes',
      '-o',
      'jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}',
    ]);
    expect(ready.trim().split('\n').sort()).toEqual([`${node1}=True`, `${node2}=True`].sort());
    const st = await clusterStatus({ cwd: wt, env });
    expect(st.healthy).toBe(true);
    const names = st.components.map((c) => c.name);
    for (const c of ['containerd@2', 'kubelet@2', 'kube-proxy@2', 'kube-router@2']) expect(names).toContain(c);
    expect(st.nodes?.map((n) => n.name)).toEqual([node1, node2]);
  });

  it('refuses a different node count in one line (no resize)', async () => {
    const err: string[] = [];
    const sink = { write: (c: string) => err.push(c) > 0 } as unknown as NodeJS.WritableStream;
    const io = { stdout: sink, stderr: sink, env, cwd: wt, signal: new AbortController().signal };
    expect(await runClusterCommand(['up', '--nodes', '3'], io)).toBe(1);
    expect(err.join('')).toMatch(/^gc-k8s cluster up: cluster \S+ has 2 nodes; --nodes 3 would resize it, which is not supported: .*\n$/);
    expect((await clusterStatus({ cwd: wt, env })).nodes).toHaveLength(2);
  });

  it('pods on different nodes reach each other, a Service and its DNS name work from node 2', async () => {
    await k(
      ['apply', '-f', '-'],
      pod('web1', node1, { app: 'web1' }, 'hello-from-node-1') +
        pod('web2', node2, { app: 'web2' }, 'hello-from-node-2') +
        pod('c1', node1, { role: 'client' }) +
        pod('c2', node2, { role: 'client' }) +
        `apiVersion: v1
kind: Service
metadata: {name: web1, namespace: ${ns}}
spec: {selector: {app: web1}, ports: [{port: 80, targetPort: 8080}]}
`,
    );
    for (const p of ['web1', 'web2', 'c1', 'c2'])
      await until(`${p} ready`, () => k.ok(['-n', ns, 'wait', '--for=condition=Ready', `pod/${p}`, '--timeout=2s']), 90_000);
    expect([await nodeOf('web1'), await nodeOf('web2'), await nodeOf('c1'), await nodeOf('c2')]).toEqual([node1, node2, node1, node2]);
    // pod IPs come from each node's own pod CIDR
    const [ip1, ip2] = [await podIp('web1'), await podIp('web2')];
    expect(ip1).toMatch(/^10\.244\./);
    expect(ip2).toMatch(/^10\.245\./);
    expect(await until('node 1 → node 2', () => fetchFrom('c1', `http://${ip2}:8080/`), 30_000, 500)).toContain('hello-from-node-2');
    expect(await until('node 2 → node 1', () => fetchFrom('c2', `http://${ip1}:8080/`), 30_000, 500)).toContain('hello-from-node-1');
    // from node 2: the Service's DNS name (CoreDNS runs on node 1), its ClusterIP (node 2's kube-proxy)
    const clusterIp = (await k(['-n', ns, 'get', 'svc', 'web1', '-o', 'jsonpath={.spec.clusterIP}'])).trim();
    expect(await until('the Service name from node 2', () => resolveFrom('c2', `web1.${ns}.svc.cluster.local`), 30_000, 500)).toBe(
      clusterIp,
    );
    expect(await until('the Service from node 2', () => fetchFrom('c2', `http://${clusterIp}/`), 30_000, 500)).toContain(
      'hello-from-node-1',
    );
  });

  it("a NetworkPolicy on node 2 sees node 1's pod IPs: admits the allowed pod, refuses another", async () => {
    await k(
      ['apply', '-f', '-'],
      pod('allowed', node1, { role: 'allowed' }) +
        `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web2-only-allowed, namespace: ${ns}}
spec:
  podSelector: {matchLabels: {app: web2}}
  policyTypes: [Ingress]
  ingress: [{from: [{podSelector: {matchLabels: {role: allowed}}}]}]
`,
    );
    await until('allowed ready', () => k.ok(['-n', ns, 'wait', '--for=condition=Ready', 'pod/allowed', '--timeout=2s']), 90_000);
    const ip2 = await podIp('web2');
    // kube-router on node 2 applies the policy within seconds: c1 (node 1, not allowed) is refused
    await until('the policy to refuse c1', async () => (await fetchFrom('c1', `http://${ip2}:8080/`)) === undefined, 60_000, 1000);
    // the allowed pod is matched by its own IP: it arrives unNATed from node 1
    expect(await until('allowed → web2', () => fetchFrom('allowed', `http://${ip2}:8080/`), 30_000, 500)).toContain('hello-from-node-2');
    // and the refusal holds (a control: the same client, the same server)
    expect(await fetchFrom('c1', `http://${ip2}:8080/`)).toBeUndefined();
  });

  it('a gc session pinned to node 2 is started, peeked, nudged, attached and stopped through the daemon', async () => {
    const name = 'on-node-2';
    const pin = { GC_K8S_NODE_SELECTOR: JSON.stringify({ 'kubernetes.io/hostname': node2 }), GC_K8S_IMAGE: info.images.agent ?? '' };
    const r = await h.session(['start', name], JSON.stringify({ command: 'bash', work_dir: '/tmp' }), pin);
    expect(r, r.err).toMatchObject({ code: 0 });
    const pod = podNameFor(name);
    expect((await h.k(['get', 'pod', pod, '-o', 'jsonpath={.spec.nodeName}'])).out).toBe(node2);
    expect((await h.session(['is-running', name], '', pin)).out).toBe('true');
    expect((await h.session(['nudge', name], 'echo nudged-on-node-$((1+1))', pin)).code).toBe(0);
    await poll(async () => (await h.session(['peek', name, '20'], '', pin)).out.includes('nudged-on-node-2'), 'the nudge in peek', 150);
    // a human attaches with kubectl exec -it … tmux attach -t main (script(1) gives kubectl a pty)
    const attach = spawn(
      'script',
      [
        '-qfec',
        `${h.kubectl} --kubeconfig ${info.kubeconfig} -n ${h.namespace} exec -it ${pod} -c agent -- tmux attach -t main`,
        '/dev/null',
      ],
      { stdio: ['pipe', 'ignore', 'ignore'] },
    );
    try {
      await poll(async () => (await h.session(['is-attached', name], '', pin)).out === 'true', 'the attached client', 200);
      attach.stdin.write('echo typed-through-attach-$((6*7))\r');
      await poll(async () => (await h.session(['peek', name, '20'], '', pin)).out.includes('typed-through-attach-42'), 'typed', 150);
      attach.stdin.write('\x02d'); // C-b d: detach
      await poll(async () => (await h.session(['is-attached', name], '', pin)).out === 'false', 'the client to detach', 200);
    } finally {
      attach.kill('SIGKILL');
    }
    expect((await h.session(['stop', name], '', pin)).code).toBe(0);
    expect((await h.session(['is-running', name], '', pin)).out).toBe('false');
    expect((await h.k(['get', 'pod', pod, '--ignore-not-found', '-o', 'name'])).out).toBe('');
  });

  it('up repairs a killed node-2 component and leaves the others running', async () => {
    const before = await clusterStatus({ cwd: wt, env });
    const pidOf = (name: string): number | undefined => before.components.find((c) => c.name === name)?.pid;
    const victim = pidOf('kube-proxy@2');
    expect(victim).toBeGreaterThan(0);
    process.kill(victim ?? 0, 'SIGKILL');
    await until(
      'kube-proxy@2 dead in status',
      async () => (await clusterStatus({ cwd: wt, env })).components.find((c) => c.name === 'kube-proxy@2')?.alive === false,
      10_000,
    );
    await ensureCluster({ cwd: wt, env });
    // a kube-proxy just started may answer its health check unhealthy until its first full sync
    const after = await until(
      'every component healthy after the repair',
      async () => {
        const st = await clusterStatus({ cwd: wt, env });
        return st.healthy ? st : undefined;
      },
      30_000,
      500,
    );
    for (const c of after.components) {
      if (c.name === 'kube-proxy@2') expect(c.pid).not.toBe(victim);
      else expect(c.pid, c.name).toBe(pidOf(c.name));
    }
    // node 2 still routes Services
    const clusterIp = (await k(['-n', ns, 'get', 'svc', 'web1', '-o', 'jsonpath={.spec.clusterIP}'])).trim();
    expect(await until('the Service from node 2 after the repair', () => fetchFrom('c2', `http://${clusterIp}/`), 30_000, 500)).toContain(
      'hello-from-node-1',
    );
  });

  it("down removes both nodes' processes, netns, veths, routes, nft table and cgroups", async () => {
    const st = await clusterStatus({ cwd: wt, env });
    down = true;
    await h.teardown();
    await clusterDown({ cwd: wt, env });
    expect(await clusterLeftovers(st.name, st.slot ?? 0, st.stateDir)).toEqual([]);
  });
});
