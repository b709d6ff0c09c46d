// contrib/k8s/network-policy.yaml, enforced by a real NetworkPolicy implementation (kube-router
// on the local cluster), seen from inside real pods: a gc-k8s session, the beads runner the daemon
// makes and the Dolt of contrib/k8s. Every refusal has a control: the same address is reachable
// from a pod no policy selects (or from the target itself), so what refuses is the policy.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { BeadsHarness } from './beads-helpers.js';
import { ROOT, until } from './harness.js';
import { internetStandIn, type Internet } from './internet.js';

const h = new BeadsHarness();
let internet: Internet | undefined;
const addr: Record<string, { host: string; port: number }> = {};

async function podOf(session: string): Promise<string> {
  const r = await h.k(['get', 'pods', '-l', `gc-session=${session}`, '-o', 'jsonpath={.items[0].metadata.name}']);
  expect(r, r.err).toMatchObject({ code: 0 });
  return r.out.trim();
}

/** Whether `pod` opens a TCP connection to host:port within 3 s (bash's /dev/tcp; argv, no shell text). */
async function reaches(pod: string, to: { host: string; port: number }): Promise<boolean> {
  const r = await h.k(['exec', pod, '--', 'timeout', '3', 'bash', '-c', 'exec 3<>"/dev/tcp/$0/$1"', to.host, String(to.port)]);
  return r.code === 0;
}

/**
 * Whether `pod` reaches host:port in any of three tries: a connection the policy allows can still
 * lose its first SYNs on a loaded machine (the policy engine's first verdict, conntrack), and a
 * retry cannot turn a refusal into a success. Refusals are asserted with `reaches` alone.
 */
async function reachesAllowed(pod: string, to: { host: string; port: number }): Promise<boolean> {
  for (let i = 0; i < 3; i++) if (await reaches(pod, to)) return true;
  return false;
}

const probe = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'probe', labels: { app: 'np-probe' } },
  spec: {
    automountServiceAccountToken: false,
    securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } },
    containers: [
      {
        name: 'probe',
        image: process.env['GC_K8S_TEST_AGENT_IMAGE'] ?? '',
        imagePullPolicy: 'IfNotPresent',
        command: ['sleep', '3600'],
        securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
      },
    ],
  },
};

let agent = '';
let listener = '';
const RUNNER = 'gc-beads-runner';

beforeAll(async () => {
  await h.setup();
  internet = await internetStandIn(process.env['GC_K8S_TEST_BACKEND']);
  addr['internet'] = { host: internet.host, port: internet.port };
  const applied = await h.k(['apply', '-f', join(ROOT, 'contrib/k8s/network-policy.yaml')]);
  expect(applied, applied.err).toMatchObject({ code: 0 });
  await h.deployDolt();
  // the daemon makes the runner; init runs bd in it against Dolt
  const init = await h.beads(['init', h.city, 'gc']);
  expect(init, init.err).toMatchObject({ code: 0 });
  await h.sessionOk(['start', 'agent'], JSON.stringify({ command: 'sleep 3600' }));
  await h.sessionOk(
    ['start', 'listener'],
    JSON.stringify({ command: 'git daemon --reuseaddr --base-path=/tmp --listen=0.0.0.0 --port=9418' }),
  );
  const made = await h.kIn(['apply', '-f', '-'], JSON.stringify(probe));
  expect(made, made.err).toMatchObject({ code: 0 });
  const ready = await h.k(['wait', '--for=condition=Ready', 'pod/probe', '--timeout=90s']);
  expect(ready, ready.err).toMatchObject({ code: 0 });
  agent = await podOf('agent');
  listener = await podOf('listener');
  const get = async (args: string[]): Promise<string> => {
    const r = await h.run(h.kubectl, args);
    expect(r, r.err).toMatchObject({ code: 0 });
    return r.out.trim();
  };
  addr['apiService'] = {
    host: await get(['-n', 'default', 'get', 'service', 'kubernetes', '-o', 'jsonpath={.spec.clusterIP}']),
    port: 443,
  };
  const ep = (
    await get([
      '-n',
      'default',
      'get',
      'endpointslices',
      '-l',
      'kubernetes.io/service-name=kubernetes',
      '-o',
      'jsonpath={.items[0].endpoints[0].addresses[0]} {.items[0].ports[0].port}',
    ])
  ).split(' ');
  addr['apiServer'] = { host: ep[0]!, port: Number(ep[1]) };
  const nodeIp = await get(['get', 'nodes', '-o', 'jsonpath={.items[0].status.addresses[?(@.type=="InternalIP")].address}']);
  addr['kubelet'] = { host: nodeIp.split(' ')[0]!, port: 10250 };
  addr['doltService'] = { host: `dolt.${h.namespace}.svc.cluster.local`, port: 3307 };
  addr['doltPod'] = { host: await get(['-n', h.namespace, 'get', 'pod', 'dolt-0', '-o', 'jsonpath={.status.podIP}']), port: 3307 };
  addr['listener'] = { host: await get(['-n', h.namespace, 'get', 'pod', listener, '-o', 'jsonpath={.status.podIP}']), port: 9418 };
  // the listener is up (its own loopback is no pod traffic)
  await until(() => reaches(listener, { host: '127.0.0.1', port: 9418 }), 'git daemon listening in the listener session', 100);
}, 600_000);

afterAll(async () => {
  internet?.close();
  await h.teardown();
});

describe('NetworkPolicies of contrib/k8s, enforced', () => {
  it('the controls: a pod no policy selects reaches the internet, the API server, the node and Services', async () => {
    for (const to of ['internet', 'apiService', 'apiServer', 'kubelet'] as const) {
      expect(await reachesAllowed('probe', addr[to]!), `probe → ${to} ${addr[to]!.host}:${addr[to]!.port}`).toBe(true);
    }
  });

  it('an agent resolves names and reaches the internet, and nothing inside the cluster', async () => {
    const dns = await h.k(['exec', agent, '--', 'getent', 'hosts', `dolt.${h.namespace}.svc.cluster.local`]);
    expect(dns, dns.err).toMatchObject({ code: 0 });
    expect(await reachesAllowed(agent, addr['internet']!)).toBe(true);
    for (const to of ['apiService', 'apiServer', 'kubelet', 'doltService', 'doltPod', 'listener'] as const) {
      expect(await reaches(agent, addr[to]!), `agent → ${to} ${addr[to]!.host}:${addr[to]!.port}`).toBe(false);
    }
  });

  it('nothing reaches an agent: not another pod of the namespace', async () => {
    expect(await reaches('probe', addr['listener']!)).toBe(false);
  });

  it('the beads runner reaches Dolt and nothing else', async () => {
    expect(await reachesAllowed(RUNNER, addr['doltService']!)).toBe(true);
    expect(await reachesAllowed(RUNNER, addr['doltPod']!)).toBe(true);
    for (const to of ['internet', 'apiService', 'apiServer', 'kubelet', 'listener'] as const) {
      expect(await reaches(RUNNER, addr[to]!), `runner → ${to} ${addr[to]!.host}:${addr[to]!.port}`).toBe(false);
    }
    // and bd in it still works against Dolt
    const made = await h.beads(['create'], JSON.stringify({ title: 'behind a policy' }));
    expect(made, made.err).toMatchObject({ code: 0 });
    const id = (JSON.parse(made.out) as { id: string }).id;
    const got = await h.beads(['get', id]);
    expect(got, got.err).toMatchObject({ code: 0 });
    expect(got.out).toContain('behind a policy');
  });

  it('Dolt accepts the runner only: not another pod of the namespace', async () => {
    expect(await reaches('probe', addr['doltPod']!)).toBe(false);
    expect(await reaches('probe', addr['doltService']!)).toBe(false);
  });
});
