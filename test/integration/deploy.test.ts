// The in-cluster deployment (issue #17, Deliver 1) on a real cluster: `gc-k8s install`, then
// `gc-k8s deploy` of contrib/k8s/controller with the gc-k8s image as daemon and as stand-in
// controller; Gas City's session, events and beads conformance ports run THROUGH the controller
// container (IN_CLUSTER mode, in-cluster.ts) against the sidecar daemon with its own service
// account; a second daemon on the same Lease refuses with NOT_LEADER; `kubectl rollout restart`
// never has two acting daemons; a daemon killed mid-start leaves no orphan; undeploy leaves the
// sessions. Bad input first: a namespace without the Role, a second deploy.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness, ROOT, type Run } from './harness.js';
import { grantDaemon, IN_CLUSTER_ENV } from './in-cluster.js';

const ns = `gcd-${randomBytes(3).toString('hex')}`;
const empty = `gcd-${randomBytes(3).toString('hex')}-none`;
/** the harness only for kubectl and running gc-k8s (its own namespace is where sessions go) */
const h = new Harness();
let image = '';
const figures: Record<string, number> = {};

async function gcK8sImage(): Promise<string> {
  const given = process.env['GC_K8S_TEST_GC_K8S_IMAGE'];
  if (given !== undefined && given !== '') return given;
  const { ensureImage } = await import('@gc-k8s/local-cluster');
  return ensureImage('gc-k8s', { cwd: ROOT });
}

const gck8s = (args: readonly string[]): Promise<Run> => h.script('gc-k8s', args);
/** kubectl; what an exec'd command wrote to stderr, without kubectl's own "command terminated" line */
const k = async (args: readonly string[], input = ''): Promise<Run> => {
  const r = await h.run(h.kubectl, args, input);
  return { ...r, err: r.err.replace(/^command terminated with exit code \d+\n?/m, '') };
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, seconds: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await sleep(500);
  }
}

/** The running, ready pods of the Deployment (not terminating). */
async function readyPods(): Promise<string[]> {
  const r = await k(['-n', ns, 'get', 'pods', '-l', 'app.kubernetes.io/name=gc-k8s,app.kubernetes.io/component=controller', '-o', 'json']);
  const pods = (
    JSON.parse(r.out || '{"items":[]}') as {
      items: { metadata: { name: string; deletionTimestamp?: string }; status: { conditions?: { type: string; status: string }[] } }[];
    }
  ).items;
  return pods
    .filter(
      (p) => p.metadata.deletionTimestamp === undefined && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
    )
    .map((p) => p.metadata.name);
}

async function leaseHolder(): Promise<string> {
  return (await k(['-n', ns, 'get', 'lease', 'gc-k8s', '-o', 'jsonpath={.spec.holderIdentity}'])).out;
}

/** The running pods of the Deployment (not terminating), ready or not. */
async function runningPods(): Promise<string[]> {
  const r = await k(['-n', ns, 'get', 'pods', '-l', 'app.kubernetes.io/name=gc-k8s,app.kubernetes.io/component=controller', '-o', 'json']);
  const pods = (
    JSON.parse(r.out || '{"items":[]}') as {
      items: { metadata: { name: string; deletionTimestamp?: string }; status: { phase?: string } }[];
    }
  ).items;
  return pods.filter((p) => p.metadata.deletionTimestamp === undefined && p.status.phase === 'Running').map((p) => p.metadata.name);
}

/** A provider script in the controller container of `pod` (the sessions go to the harness's namespace). */
function inController(pod: string, script: string, argv: readonly string[], stdin = ''): Promise<Run> {
  const env = [
    `GC_K8S_NAMESPACE=${h.namespace}`,
    `GC_K8S_IMAGE=${process.env['GC_K8S_TEST_AGENT_IMAGE'] ?? ''}`,
    'GC_K8S_CPU_REQUEST=20m',
    'GC_K8S_MEM_REQUEST=32Mi',
  ];
  return k(['-n', ns, 'exec', '-i', pod, '-c', 'controller', '--', 'env', ...env, `/usr/local/bin/${script}`, ...argv], stdin);
}

beforeAll(async () => {
  image = await gcK8sImage();
  for (const name of [ns, empty]) expect((await k(['create', 'namespace', name])).code).toBe(0);
  const install = await gck8s(['install', '--namespace', ns]);
  expect(install, install.err).toMatchObject({ code: 0 });
  // the sessions of the kill and two-daemon tests live in the harness's namespace, granted to the daemon
  await h.setup();
  grantDaemon(h.kubectl, h.namespace, h.env(), ns);
});

afterAll(async () => {
  await gck8s(['undeploy', '--namespace', ns, '--timeout', '60']);
  await gck8s(['uninstall', '--namespace', ns]);
  for (const name of [ns, empty]) await k(['delete', 'namespace', name, '--wait=false']);
  await h.teardown();
  process.stderr.write(`deploy figures: ${JSON.stringify(figures)}\n`);
});

describe('gc-k8s deploy', () => {
  it('refuses a namespace without the daemon Role, naming gc-k8s install, and creates nothing', async () => {
    const r = await gck8s(['deploy', '--namespace', empty, '--image', image]);
    expect(r.code).toBe(1);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/no gc-k8s Role .*gc-k8s install --namespace/);
    const left = await k(['-n', empty, 'get', 'deployments,poddisruptionbudgets,leases', '-o', 'name']);
    expect(left.out.trim()).toBe('');
  });

  it('deploys: the rollout is followed to Ready, with progress lines', async () => {
    const begin = Date.now();
    const r = await gck8s([
      'deploy',
      '--namespace',
      ns,
      '--image',
      image,
      '--daemon-env',
      'GC_K8S_ABANDONED_START_AGE=10s',
      '--daemon-env',
      'GC_K8S_DRAIN_TIMEOUT=3s',
      '--timeout',
      '300',
    ]);
    figures['deployToReadySeconds'] = (Date.now() - begin) / 1000;
    expect(r, r.err).toMatchObject({ code: 0 });
    expect(r.out).toMatch(/created deployment .*\/gc-k8s/);
    expect(r.out).toMatch(/rollout: /);
    expect(r.out).toMatch(/ready: deployment/);
    const [pod] = await readyPods();
    expect(pod).toBeDefined();
    // the leader is the one daemon, named by its pod
    expect(await until('a leader', 30, async () => ((await leaseHolder()).startsWith(`${pod}_`) ? true : undefined))).toBe(true);
    const status = await gck8s(['deploy', 'status', '--namespace', ns]);
    expect(status, status.err).toMatchObject({ code: 0 });
    expect(status.out).toMatch(/^ready: yes/m);
    expect(status.out).toMatch(new RegExp(`^leader: ${pod}_`, 'm'));
    expect(status.out).toContain(`image: daemon ${image}, controller ${image}`);
  });

  it('a second deploy while one exists: one line suggesting --update, nothing changed', async () => {
    const before = (await k(['-n', ns, 'get', 'deployment', 'gc-k8s', '-o', 'jsonpath={.metadata.resourceVersion}'])).out;
    const r = await gck8s(['deploy', '--namespace', ns, '--image', image, '--controller-command', 'sleep 1']);
    expect(r.code).toBe(1);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/already exists: `gc-k8s deploy --update`/);
    expect((await k(['-n', ns, 'get', 'deployment', 'gc-k8s', '-o', 'jsonpath={.metadata.resourceVersion}'])).out).toBe(before);
  });

  it('the controller container has no service-account token; the daemon has one', async () => {
    const [pod] = await readyPods();
    const controller = await k(['-n', ns, 'exec', pod!, '-c', 'controller', '--', 'ls', '/var/run/secrets/kubernetes.io/serviceaccount']);
    expect(controller.code).not.toBe(0);
    const daemon = await k(['-n', ns, 'exec', pod!, '-c', 'daemon', '--', 'ls', '/var/run/secrets/kubernetes.io/serviceaccount']);
    expect(daemon.out).toContain('token');
  });

  it('runs the session, events and beads conformance ports through the controller container: no failure, no skip', async () => {
    const [pod] = await readyPods();
    const out = mkdtempSync(join(tmpdir(), 'gck8s-deploy-'));
    try {
      const report = join(out, 'report.json');
      const begin = Date.now();
      const code = await new Promise<number>((resolve) => {
        const child = spawn(
          process.execPath,
          [
            join(ROOT, 'node_modules/vitest/vitest.mjs'),
            'run',
            '--project',
            'integration',
            'test/integration/session-conformance.test.ts',
            'test/integration/events-conformance.test.ts',
            'test/integration/beads-conformance.test.ts',
            '--reporter=dot',
            '--reporter=json',
            `--outputFile.json=${report}`,
          ],
          { cwd: ROOT, env: { ...process.env, [IN_CLUSTER_ENV]: `${ns}/${pod!}` }, stdio: ['ignore', 'inherit', 'inherit'] },
        );
        child.on('exit', (c) => {
          resolve(c ?? 1);
        });
      });
      figures['conformanceSeconds'] = (Date.now() - begin) / 1000;
      const r = JSON.parse(readFileSync(report, 'utf8')) as {
        numPassedTests: number;
        numFailedTests: number;
        numPendingTests: number;
        numTodoTests: number;
        numTotalTests: number;
      };
      figures['conformancePassed'] = r.numPassedTests;
      expect({ failed: r.numFailedTests, skipped: r.numPendingTests + r.numTodoTests, exit: code }).toEqual({
        failed: 0,
        skipped: 0,
        exit: 0,
      });
      expect(r.numPassedTests).toBe(r.numTotalTests);
      expect(r.numPassedTests).toBeGreaterThan(100);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 1_200_000);

  it('two daemons on one Lease: exactly one acts; the other refuses every session op with NOT_LEADER and is not ready', async () => {
    const [pod] = await runningPods();
    const leader = await leaseHolder();
    // a second daemon in the daemon container: the same service account and Lease, its own socket
    const second = spawn(
      h.kubectl,
      [
        '-n',
        ns,
        'exec',
        pod!,
        '-c',
        'daemon',
        '--',
        'env',
        'GC_K8S_SOCKET=/tmp/second/daemon.sock',
        'GC_K8S_METRICS_ADDR=127.0.0.1:9465',
        'GC_K8S_LEADER_LEASE=gc-k8s',
        `GC_K8S_LEADER_NAMESPACE=${ns}`,
        'gc-k8s',
        'serve',
      ],
      { env: h.env(), stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const viaSecond = (args: readonly string[]): Promise<Run> =>
      k([
        '-n',
        ns,
        'exec',
        '-i',
        pod!,
        '-c',
        'daemon',
        '--',
        'env',
        'GC_K8S_SOCKET=/tmp/second/daemon.sock',
        'GC_K8S_NO_AUTOSTART=1',
        `GC_K8S_NAMESPACE=${h.namespace}`,
        ...args,
      ]);
    let log = '';
    second.stderr.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
    try {
      let last: Run | undefined;
      const refused = await until('the second daemon to answer', 60, async () => {
        last = await viaSecond(['gc-session-k8s', 'list-running', '']);
        // once it has read the Lease (a read can fail on a loaded machine; the answer says so)
        return /not the leader/.test(last.err) && !/has not seen yet/.test(last.err) ? last : undefined;
      }).catch(async (err: unknown) => {
        const leaderLog = (await k(['-n', ns, 'logs', pod!, '-c', 'daemon', '--tail=400'])).out
          .split('\n')
          .filter((l) => /leader|lease|shutting/.test(l))
          .slice(-8)
          .join('\n');
        throw new Error(
          `${String(err)}; last answer ${JSON.stringify(last)}; lease holder then ${leader}, now ${await leaseHolder()}; second daemon's log: ${log.slice(-1500)}; first daemon's log: ${leaderLog}`,
        );
      });
      expect(refused.code).toBe(1);
      expect(refused.err.trim().split('\n')).toHaveLength(1);
      expect(refused.err).toContain(`held by ${leader}`);
      const start = await viaSecond(['gc-session-k8s', 'start', 'dual-1']);
      expect(start.code).toBe(1);
      expect(start.err).toMatch(/not the leader/);
      const ready = await k([
        '-n',
        ns,
        'exec',
        pod!,
        '-c',
        'daemon',
        '--',
        'node',
        '-e',
        "fetch('http://127.0.0.1:9465/readyz').then(async (r) => console.log(r.status, await r.text()))",
      ]);
      expect(ready.out).toMatch(/^503 .*leader: not the leader/s);
      // the leader goes on acting, and is still the one holding the Lease
      const s = await inController(pod!, 'gc-session-k8s', ['start', 'dual-1'], JSON.stringify({ command: 'sleep 300', work_dir: '/tmp' }));
      expect(s, s.err).toMatchObject({ code: 0 });
      expect((await inController(pod!, 'gc-session-k8s', ['is-running', 'dual-1'])).out.trim()).toBe('true');
      expect(await leaseHolder()).toBe(leader);
      expect((await h.k(['get', 'pods', '-l', 'app=gc-agent', '-o', 'name'])).out.trim().split('\n')).toHaveLength(1);
    } finally {
      await k([
        '-n',
        ns,
        'exec',
        pod!,
        '-c',
        'daemon',
        '--',
        'env',
        'GC_K8S_SOCKET=/tmp/second/daemon.sock',
        'GC_K8S_NO_AUTOSTART=1',
        'gc-k8s',
        'stop-daemon',
      ]);
      second.kill();
    }
  });

  it('kubectl rollout restart: never two ready daemons, and the new one leads and acts', async () => {
    const [old] = await readyPods();
    expect((await k(['-n', ns, 'rollout', 'restart', 'deployment/gc-k8s'])).code).toBe(0);
    let most = 0;
    const fresh = await until('the restarted pod to be ready and lead', 180, async () => {
      const pods = await readyPods();
      most = Math.max(most, pods.length);
      const [pod] = pods;
      return pod !== undefined && pod !== old && (await leaseHolder()).startsWith(`${pod}_`) ? pod : undefined;
    });
    expect(most).toBeLessThanOrEqual(1);
    const r = await inController(fresh, 'gc-session-k8s', ['is-running', 'dual-1']);
    expect(r, r.err).toMatchObject({ code: 0 });
    expect(r.out.trim()).toBe('true');
  });

  it('the daemon killed mid-start: after recovery no orphan pod (the start is finished or removed)', async () => {
    const [pod] = await readyPods();
    const starting = inController(
      pod!,
      'gc-session-k8s',
      ['start', 'killed-1'],
      JSON.stringify({ command: 'sleep 300', work_dir: '/tmp' }),
    );
    // the start's pod exists: kill the daemon's pod now (1 s grace: less than the drain)
    await until('the start to make its pod', 60, async () =>
      (await h.k(['get', 'pod', '-l', 'app=gc-agent', '-o', 'name'])).out.includes('killed-1') ? true : undefined,
    );
    expect((await k(['-n', ns, 'delete', 'pod', pod!, '--grace-period=1', '--wait=false'])).code).toBe(0);
    const interrupted = await starting;
    const fresh = await until('a new daemon to lead', 180, async () => {
      const [p] = await readyPods();
      return p !== undefined && p !== pod && (await leaseHolder()).startsWith(`${p}_`) ? p : undefined;
    });
    // gc's supervisor calls again after a restart: the namespace is the daemon's again
    expect((await inController(fresh, 'gc-session-k8s', ['list-running', ''])).code).toBe(0);
    // the start its predecessor left: removed by the sweeper, or a live session gc can use and stop
    const outcome = await until('the interrupted start to be finished or removed', 120, async () => {
      if (!(await h.k(['get', 'pods', '-l', 'app=gc-agent', '-o', 'name'])).out.includes('pod/killed-1')) return 'removed';
      const r = await inController(fresh, 'gc-session-k8s', ['is-running', 'killed-1']);
      return r.out.trim() === 'true' ? 'running' : undefined;
    });
    process.stderr.write(`deploy: the start interrupted by the daemon's death was ${outcome}\n`);
    // no other pod of an unfinished start is left either
    const pods = JSON.parse((await h.k(['get', 'pods', '-l', 'app=gc-agent', '-o', 'json'])).out) as {
      items: { metadata: { name: string; annotations?: Record<string, string>; deletionTimestamp?: string } }[];
    };
    const pending = pods.items.filter(
      (p) =>
        p.metadata.name !== 'killed-1' &&
        p.metadata.deletionTimestamp === undefined &&
        p.metadata.annotations?.['gc-k8s.io/start-pending'] !== undefined,
    );
    expect(pending.map((p) => p.metadata.name)).toEqual([]);
    figures['killedStartExit'] = interrupted.code;
    expect((await inController(fresh, 'gc-session-k8s', ['stop', 'killed-1'])).code).toBe(0);
  });

  it('undeploy removes what deploy made; sessions stay', async () => {
    const begin = Date.now();
    const r = await gck8s(['undeploy', '--namespace', ns, '--timeout', '120']);
    figures['undeploySeconds'] = (Date.now() - begin) / 1000;
    expect(r, r.err).toMatchObject({ code: 0 });
    expect(r.out).toMatch(/deleted deployment/);
    expect((await k(['-n', ns, 'get', 'deployments,leases', '-o', 'name'])).out.trim()).toBe('');
    expect((await h.k(['get', 'pods', '-l', 'app=gc-agent', '-o', 'name'])).out).toContain('dual-1');
    const status = await gck8s(['deploy', 'status', '--namespace', ns]);
    expect(status.code).toBe(1);
    expect(status.out).toMatch(/deployed: no/);
  });
});
