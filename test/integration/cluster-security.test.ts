// The local cluster's security posture, checked from the outside as an attacker would see it: a
// local unprivileged user, an anonymous client, an identity without RBAC, a pod. Each test fails on
// a cluster built without the hardening (plain-HTTP etcd, AlwaysAllow kubelet, anonymous API,
// admin credentials for CoreDNS and the provisioner, 0777 volumes, pods reaching host services).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterStatus, ensureCluster, type ClusterInfo, type ClusterStatus } from '@gc-k8s/local-cluster';
import { ensureBinaries, netPlan, type NetPlan } from '@gc-k8s/local-cluster';
import { worktreePaths } from '@gc-k8s/local-cluster';
import { cmdline } from '@gc-k8s/local-cluster';
import { silentReporter, streamReporter } from '@gc-k8s/local-cluster';
import {
  createLocalUser,
  kubectlFor,
  kubectlPath,
  run,
  tryRun,
  until,
  type Kubectl,
  type LocalUser,
  type RunResult,
} from './cluster-helpers.js';

const canRunLocal = process.platform === 'linux' && process.getuid?.() === 0;
const localEnv = { ...process.env, KUBECONFIG: '' };
const ns = `it-sec-${Date.now().toString(36)}`;
const tmp = mkdtempSync('/tmp/gck-sec-');
let info: ClusterInfo;
let status: ClusterStatus;
let plan: NetPlan;
let k: Kubectl;
let user: LocalUser;
let busybox: string;
let stateDir: string;

beforeAll(async () => {
  if (!canRunLocal) return;
  info = await ensureCluster({ backend: 'local', env: localEnv, images: ['busybox'], reporter: streamReporter(process.stderr, 'it-sec') });
  status = await clusterStatus({ env: localEnv });
  plan = netPlan(status.slot ?? -1);
  stateDir = worktreePaths(process.cwd()).stateDir;
  busybox = info.images.busybox ?? '';
  k = await kubectlFor(info.kubeconfig);
  await k(['create', 'namespace', ns]);
  await until('default service account', () => k.ok(['-n', ns, 'get', 'sa', 'default']), 30_000);
  user = await createLocalUser(`gcksec${String(process.pid % 100000)}`);
});

afterAll(async () => {
  if (!canRunLocal) return;
  await k(['delete', 'namespace', ns, '--wait=false']).catch(() => undefined);
  await user.remove();
  rmSync(tmp, { recursive: true, force: true });
});

/** The flags a running component was started with (`--a=b` and `--a b` forms). */
function flagsOf(component: string): Map<string, string> {
  const pid = status.components.find((c) => c.name === component)?.pid;
  const argv = (pid === undefined ? undefined : cmdline(pid))?.split(' ') ?? [];
  const flags = new Map<string, string>();
  argv.forEach((a, i) => {
    const m = /^--?([^=]+)(?:=(.*))?$/.exec(a);
    if (m?.[1] !== undefined) flags.set(m[1], m[2] ?? argv[i + 1] ?? '');
  });
  return flags;
}

function need(flags: Map<string, string>, name: string): string {
  const v = flags.get(name);
  if (v === undefined || v === '') throw new Error(`component flag --${name} is not set`);
  return v;
}

async function etcdctl(args: string[]): Promise<RunResult> {
  const dirs = await ensureBinaries(['etcd'], process.env, silentReporter, new AbortController().signal);
  const api = flagsOf('kube-apiserver');
  const tls = [`--cacert=${need(api, 'etcd-cafile')}`, `--cert=${need(api, 'etcd-certfile')}`, `--key=${need(api, 'etcd-keyfile')}`];
  return tryRun(join(dirs.etcd, 'etcdctl'), [`--endpoints=${need(api, 'etcd-servers')}`, ...tls, ...args]);
}

/** kubectl with a kubeconfig made from a client certificate, not throwing on non-zero exits. */
async function kubectlAs(name: string, creds: { ca: string; cert: string; key: string }, args: string[]): Promise<RunResult> {
  const file = join(tmp, `${name}.kubeconfig`);
  writeFileSync(
    file,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'c', cluster: { server: info.server, 'certificate-authority': creds.ca } }],
      users: [{ name, user: { 'client-certificate': creds.cert, 'client-key': creds.key } }],
      contexts: [{ name: 'c', context: { cluster: 'c', user: name } }],
      'current-context': 'c',
    }),
  );
  return tryRun(await kubectlPath(), ['--kubeconfig', file, ...args]);
}

async function kubectlWith(kubeconfig: string, args: string[]): Promise<RunResult> {
  return tryRun(await kubectlPath(), ['--kubeconfig', kubeconfig, ...args]);
}

/** A client certificate for `cn`, signed by the cluster CA: an authenticated identity without RBAC. */
async function signedClientCert(cn: string): Promise<{ cert: string; key: string; ca: string }> {
  const pki = join(stateDir, 'pki');
  const cert = join(tmp, `${cn}.crt`);
  const key = join(tmp, `${cn}.key`);
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    key,
    '-out',
    cert,
    '-days',
    '1',
    '-subj',
    `/CN=${cn}`,
    '-CA',
    join(pki, 'ca.crt'),
    '-CAkey',
    join(pki, 'ca.key'),
    '-addext',
    'extendedKeyUsage=clientAuth',
  ]);
  return { cert, key, ca: join(pki, 'ca.crt') };
}

async function podReady(name: string, manifest: string): Promise<void> {
  await k(['apply', '-f', '-'], manifest);
  try {
    await until(`${name} ready`, () => k.ok(['-n', ns, 'wait', '--for=condition=Ready', `pod/${name}`, '--timeout=2s']), 90_000);
  } catch (e) {
    // a CI run once timed out here with nothing to go on: say what the pod, its claims, the
    // node and the provisioner were doing
    const said = async (args: string[]): Promise<string> => k(args).catch((err: unknown) => String(err));
    const provisionerLog = (() => {
      try {
        return readFileSync(join(worktreePaths(process.cwd()).worktree, '.gc-k8s', 'logs', 'provisioner.log'), 'utf8')
          .split('\n')
          .slice(-15)
          .join('\n');
      } catch (err) {
        return String(err);
      }
    })();
    const facts = [
      await said(['-n', ns, 'get', 'pod,pvc', '-o', 'wide']),
      await said(['-n', ns, 'describe', 'pod', name]),
      await said(['get', 'pods', '-A', '--no-headers', '-o', 'custom-columns=NS:.metadata.namespace,PHASE:.status.phase']),
      `provisioner log (tail):\n${provisionerLog}`,
    ];
    throw new Error(`${(e as Error).message}\n${facts.join('\n')}`, { cause: e });
  }
}

/** What a TCP server at ip:port sends on connect ('' when unreachable). */
function readFrom(ip: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    const s = connect({ host: ip, port, timeout: 3000 });
    s.on('data', (d: Buffer) => (got += d.toString()));
    s.on('close', () => {
      resolve(got);
    });
    s.on('error', () => undefined);
    s.on('timeout', () => s.destroy());
  });
}

function listen(host: string, port: number, secret: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const srv = createServer((s) => s.end(`${secret}\n`));
    srv.once('error', reject);
    srv.listen({ host, port }, () => {
      resolve(srv);
    });
  });
}

describe.skipIf(!canRunLocal)('local cluster security', () => {
  it('etcd refuses a local user without a client certificate (no plain HTTP, TLS handshake refused)', async () => {
    const port = status.ports?.etcd ?? 0;
    const range = ['-X', 'POST', '-d', '{"key":"AA==","range_end":"AA=="}'];
    const plain = await user.run('curl', ['-sS', '-f', '--max-time', '5', ...range, `http://127.0.0.1:${String(port)}/v3/kv/range`]);
    expect(plain.code, `plain HTTP read answered: ${plain.stdout.slice(0, 120)}`).not.toBe(0);
    const put = await user.run('curl', [
      '-sS',
      '-f',
      '--max-time',
      '5',
      '-X',
      'POST',
      '-d',
      '{"key":"Zm9v","value":"YmFy"}',
      `http://127.0.0.1:${String(port)}/v3/kv/put`,
    ]);
    expect(put.code, `plain HTTP write answered: ${put.stdout.slice(0, 120)}`).not.toBe(0);
    for (const path of ['/health', '/v3/kv/range']) {
      const tls = await user.run('curl', ['-sS', '-k', '--max-time', '5', ...range, `https://127.0.0.1:${String(port)}${path}`]);
      expect(tls.code, `TLS without a client certificate answered: ${tls.stdout.slice(0, 120)}`).not.toBe(0);
    }
    // the refusal is etcd's TLS handshake itself (client-cert-auth), not a later HTTP error
    const hello = await user.run('sh', [
      '-c',
      `printf 'GET /health HTTP/1.0\\r\\n\\r\\n' | timeout 5 openssl s_client -connect 127.0.0.1:${String(port)} -quiet 2>&1`,
    ]);
    expect(hello.stdout).toMatch(/alert certificate required/);
    expect(hello.stdout).not.toContain('"health"');
    // the API server's own etcd client certificate is accepted (and only root can read its key)
    expect((await etcdctl(['endpoint', 'health'])).code).toBe(0);
    const api = flagsOf('kube-apiserver');
    expect(statSync(need(api, 'etcd-keyfile')).mode & 0o077).toBe(0);
    expect(need(api, 'etcd-servers')).toMatch(/^https:/);
  });

  it('stores Secrets encrypted in etcd (k8s:enc:…), with the key file readable by root only', async () => {
    await k(['-n', ns, 'create', 'secret', 'generic', 'enc-probe', '--from-literal=password=plain-text-canary']);
    const r = await etcdctl(['get', `/registry/secrets/${ns}/enc-probe`, '-w', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const kv = (JSON.parse(r.stdout) as { kvs?: { value: string }[] }).kvs?.[0];
    const raw = Buffer.from(kv?.value ?? '', 'base64').toString('latin1');
    expect(raw.startsWith('k8s:enc:')).toBe(true);
    expect(raw).not.toContain('plain-text-canary');
    const config = need(flagsOf('kube-apiserver'), 'encryption-provider-config');
    expect(statSync(config).mode & 0o077).toBe(0);
    expect((await user.run('cat', [config])).code).not.toBe(0);
    // and the API still returns the plain value
    const back = (await k(['-n', ns, 'get', 'secret', 'enc-probe', '-o', 'jsonpath={.data.password}'])).trim();
    expect(Buffer.from(back, 'base64').toString()).toBe('plain-text-canary');
  });

  it('answers anonymous requests only on /livez, /readyz and /healthz', async () => {
    const code = async (path: string): Promise<string> =>
      (await user.run('curl', ['-sk', '--max-time', '5', '-o', '/dev/null', '-w', '%{http_code}', `${info.server ?? ''}${path}`])).stdout;
    for (const path of ['/livez', '/readyz', '/healthz']) expect(await code(path), path).toBe('200');
    for (const path of ['/version', '/api', '/apis', '/api/v1/namespaces/default/secrets', '/openapi/v2', '/livez/etcd']) {
      expect(await code(path), path).toBe('401');
    }
  });

  it('kubelet: 401 without credentials, 403 for identities without RBAC; kubectl logs and exec still work', async () => {
    const url = `https://${plan.nodeIp}:10250/pods`;
    const code = (r: RunResult): string => r.stdout.trim();
    const curl = ['-sk', '--max-time', '5', '-o', '/dev/null', '-w', '%{http_code}'];
    expect(code(await user.run('curl', [...curl, url]))).toBe('401');
    const nobody = await signedClientCert('gc-k8s-test-nobody');
    expect(code(await tryRun('curl', [...curl, '--cert', nobody.cert, '--key', nobody.key, url]))).toBe('403');
    await k(['-n', ns, 'create', 'serviceaccount', 'nobody']);
    const token = (await k(['-n', ns, 'create', 'token', 'nobody', '--duration=10m'])).trim();
    expect(code(await tryRun('curl', [...curl, '-H', `Authorization: Bearer ${token}`, url]))).toBe('403');
    await podReady(
      'chatty',
      `apiVersion: v1
kind: Pod
metadata: {name: chatty, namespace: ${ns}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: c, image: ${busybox}, imagePullPolicy: IfNotPresent, command: [sh, -c, 'echo log-line-42 && exec sleep 3600']}
`,
    );
    expect(await k(['-n', ns, 'logs', 'chatty'])).toContain('log-line-42');
    expect((await k(['-n', ns, 'exec', 'chatty', '--', 'sh', '-c', 'echo exec-$((6*7))'])).trim()).toBe('exec-42');
  });

  it('a pod reaches neither TCP services on host addresses nor 127.0.0.1 services of the node, but still the API server', async () => {
    const port = 31000 + (process.pid % 900);
    const extraIp = `10.253.${String(plan.slot)}.1`;
    const host = await listen('0.0.0.0', port, 'host-secret');
    let nodeLocal: ChildProcess | undefined;
    try {
      // a second host address, not on the cluster's veth: the rule must cover every host address
      await tryRun('ip', ['addr', 'del', `${extraIp}/32`, 'dev', 'lo']);
      await run('ip', ['addr', 'add', `${extraIp}/32`, 'dev', 'lo']);
      nodeLocal = spawn(
        'nsenter',
        [
          `--net=${plan.netnsPath}`,
          process.execPath,
          '-e',
          `require('net').createServer((s) => s.end('node-local-secret\\n')).listen(${String(port + 1)}, '127.0.0.1')`,
        ],
        { stdio: 'ignore' },
      );
      await podReady(
        'prober',
        `apiVersion: v1
kind: Pod
metadata: {name: prober, namespace: ${ns}}
spec:
  terminationGracePeriodSeconds: 1
  # on node 1, whose netns, bridge gateway and veth plan describes (a cluster may have several nodes)
  nodeSelector: {kubernetes.io/hostname: ${info.nodeName ?? ''}}
  containers:
  - name: c
    image: ${busybox}
    imagePullPolicy: IfNotPresent
    command: [sleep, '3600']
    securityContext: {privileged: true}
`,
      );
      const inPod = async (script: string): Promise<string> => (await k(['-n', ns, 'exec', 'prober', '--', 'sh', '-c', script])).trim();
      // the host itself reaches both listeners
      for (const ip of [plan.hostIp, extraIp]) expect(await readFrom(ip, port)).toContain('host-secret');
      for (const ip of [plan.hostIp, extraIp]) {
        expect(await inPod(`echo | nc -w 3 ${ip} ${String(port)}; true`), `${ip}:${String(port)}`).not.toContain('host-secret');
      }
      // CVE-2020-8558: route 127.0.0.1 through the bridge; the node (route_localnet=1) must drop it
      const route =
        await inPod(`sysctl -qw net.ipv4.conf.all.route_localnet=1 net.ipv4.conf.eth0.route_localnet=1 net.ipv4.conf.eth0.accept_local=1
        ip route del local 127.0.0.1 dev lo table local; ip route add 127.0.0.1/32 via ${plan.podGateway} dev eth0; ip route get 127.0.0.1`);
      expect(route).toContain(`via ${plan.podGateway}`);
      expect(await inPod(`echo | nc -w 3 127.0.0.1 ${String(port + 1)}; true`)).not.toContain('node-local-secret');
      // what pods do need: the API server through its ClusterIP (DNATed to the host address)
      expect(await inPod(`echo | nc -w 3 ${plan.kubernetesServiceIp} 443 >/dev/null; echo rc=$?`)).toBe('rc=0');
    } finally {
      host.close();
      nodeLocal?.kill();
      await tryRun('ip', ['addr', 'del', `${extraIp}/32`, 'dev', 'lo']);
      await k(['-n', ns, 'delete', 'pod', 'prober', '--wait=false']).catch(() => undefined);
    }
  });

  it('CoreDNS and the provisioner have their own identities, outside system:masters and least-privileged', async () => {
    const corefile = readFileSync(need(flagsOf('coredns'), 'conf'), 'utf8');
    const kubeconfig = /^\s*kubeconfig\s+(\S+)/m.exec(corefile)?.[1] ?? '';
    const dns = (args: string[]): Promise<RunResult> => kubectlWith(kubeconfig, args);
    const dnsUser = JSON.parse((await dns(['auth', 'whoami', '-o', 'json'])).stdout) as {
      status: { userInfo: { username: string; groups?: string[] } };
    };
    expect(dnsUser.status.userInfo.groups ?? []).not.toContain('system:masters');
    for (const what of ['endpointslices.discovery.k8s.io', 'services', 'pods', 'namespaces']) {
      for (const verb of ['list', 'watch'])
        expect((await dns(['auth', 'can-i', verb, what, '-A'])).stdout.trim(), `${verb} ${what}`).toBe('yes');
    }
    for (const [verb, what] of [
      ['create', 'secrets'],
      ['get', 'secrets'],
      ['create', 'pods'],
      ['delete', 'services'],
      ['get', 'nodes'],
    ] as const) {
      expect((await dns(['auth', 'can-i', verb, what, '-A'])).stdout.trim(), `coredns ${verb} ${what}`).toBe('no');
    }
    const p = flagsOf('provisioner');
    const creds = { ca: need(p, 'ca'), cert: need(p, 'cert'), key: need(p, 'key') };
    const prov = (args: string[]): Promise<RunResult> => kubectlAs('provisioner', creds, args);
    const provUser = JSON.parse((await prov(['auth', 'whoami', '-o', 'json'])).stdout) as {
      status: { userInfo: { username: string; groups?: string[] } };
    };
    expect(provUser.status.userInfo.groups ?? []).not.toContain('system:masters');
    expect(provUser.status.userInfo.username).not.toBe(dnsUser.status.userInfo.username);
    for (const [verb, what] of [
      ['list', 'persistentvolumeclaims'],
      ['list', 'persistentvolumes'],
      ['create', 'persistentvolumes'],
      ['delete', 'persistentvolumes'],
    ] as const) {
      expect((await prov(['auth', 'can-i', verb, what, '-A'])).stdout.trim(), `provisioner ${verb} ${what}`).toBe('yes');
    }
    for (const [verb, what] of [
      ['create', 'secrets'],
      ['get', 'secrets'],
      ['create', 'pods'],
      ['update', 'persistentvolumeclaims'],
      ['get', 'nodes'],
    ] as const) {
      expect((await prov(['auth', 'can-i', verb, what, '-A'])).stdout.trim(), `provisioner ${verb} ${what}`).toBe('no');
    }
  });

  it('a provisioned volume is not world-writable, and a non-root pod (uid 1000, fsGroup 1000) writes into its claim', async () => {
    await k(
      ['apply', '-f', '-'],
      `apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: work, namespace: ${ns}}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
`,
    );
    await podReady(
      'writer',
      `apiVersion: v1
kind: Pod
metadata: {name: writer, namespace: ${ns}}
spec:
  terminationGracePeriodSeconds: 1
  securityContext: {runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000}
  containers:
  - name: c
    image: ${busybox}
    imagePullPolicy: IfNotPresent
    command: [sh, -c, 'echo written-by-1000 > /data/f && mkdir /data/sub && exec sleep 3600']
    readinessProbe: {exec: {command: [cat, /data/f]}, periodSeconds: 1}
    volumeMounts: [{name: w, mountPath: /data}]
  volumes: [{name: w, persistentVolumeClaim: {claimName: work}}]
`,
    );
    const pv = (await k(['-n', ns, 'get', 'pvc', 'work', '-o', 'jsonpath={.spec.volumeName}'])).trim();
    const dir = (await k(['get', 'pv', pv, '-o', 'jsonpath={.spec.local.path}{.spec.hostPath.path}'])).trim();
    expect(dir.startsWith(stateDir)).toBe(true);
    expect(statSync(dir).mode & 0o007, `mode ${(statSync(dir).mode & 0o7777).toString(8)} of ${dir}`).toBe(0);
    expect(readFileSync(join(dir, 'f'), 'utf8').trim()).toBe('written-by-1000');
    expect((await user.run('touch', [join(dir, 'intruder')])).code).not.toBe(0);
    expect((await user.run('ls', [dir])).code).not.toBe(0);
  });

  it('up refuses a running cluster made before the hardening and says to run down (status says so too)', async () => {
    const file = join(stateDir, 'state.json');
    const current = readFileSync(file, 'utf8');
    try {
      writeFileSync(file, JSON.stringify({ ...(JSON.parse(current) as object), version: 1 }));
      await expect(ensureCluster({ backend: 'local', env: localEnv })).rejects.toThrow(
        /older gc-k8s .* run `gc-k8s cluster down` and then `gc-k8s cluster up`/,
      );
      expect((await clusterStatus({ env: localEnv })).message).toMatch(/older gc-k8s/);
    } finally {
      writeFileSync(file, current);
    }
    expect((await ensureCluster({ backend: 'local', env: localEnv })).server).toBe(info.server);
  });
});
