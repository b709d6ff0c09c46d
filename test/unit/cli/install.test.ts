// gc-k8s install / uninstall without a cluster: rendering (namespace, --set, the mark), the diff
// paths, and the apply/delete plan against an in-memory server-side apply (test/fakes).
import { existsSync, readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { INSTALL_FILES, MANIFEST_DIR } from '../../../src/cli/install-files.js';
import {
  CREATED_ANNOTATION,
  MARK_LABEL,
  MARK_VALUE,
  SETTINGS,
  changedPaths,
  checkNamespace,
  parseSets,
  renderInstall,
} from '../../../src/cli/install-render.js';
import { install, runInstall, runUninstall, uninstall } from '../../../src/cli/install.js';
import { GcK8sError } from '../../../src/errors.js';
import { kindInfo } from '../../../src/k8s/objects.js';
import type { ObjectApi } from '../../../src/kube/ports.js';
import type { KubeObject } from '../../../src/kube/types.js';
import { FakeObjectServer } from '../../fakes/fake-objects.js';

// network-policy.yaml is written in another branch: until it is in the tree, this stands in for it
// here (install itself requires the real file)
const NETWORK_POLICY_STAND_IN = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: gc-agents, labels: { app.kubernetes.io/part-of: gas-city } }
spec: { podSelector: { matchLabels: { app: gc-agent } }, policyTypes: [Ingress], ingress: [] }
`;
const read = (file: string): string => {
  const url = new URL(file, MANIFEST_DIR);
  return file === 'network-policy.yaml' && !existsSync(url) ? NETWORK_POLICY_STAND_IN : readFileSync(url, 'utf8');
};
const render = (namespace = 'team-a', sets: Map<string, string | number> = new Map()): KubeObject[] =>
  renderInstall(INSTALL_FILES, read, { namespace, sets });
const find = (objects: readonly KubeObject[], kind: string, name: string): KubeObject => {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  if (o === undefined) throw new Error(`no ${kind}/${name}`);
  return o;
};
const signal = (): AbortSignal => AbortSignal.timeout(5_000);

function io(env: NodeJS.ProcessEnv = {}) {
  let out = '';
  let err = '';
  const sink = (add: (s: string) => void) =>
    new Writable({
      write(chunk: Buffer, _enc, done) {
        add(chunk.toString());
        done();
      },
    });
  return {
    io: { env, cwd: '/nonexistent', stdout: sink((s) => (out += s)), stderr: sink((s) => (err += s)) },
    out: () => out,
    err: () => err,
  };
}

describe('rendering', () => {
  it('places every namespaced object in the namespace, names the Namespace so, points RoleBinding subjects at it, and marks all', () => {
    const objects = render('team-a');
    expect(objects[0]).toMatchObject({ kind: 'Namespace', metadata: { name: 'team-a' } });
    for (const o of objects) {
      expect(o.metadata.labels?.[MARK_LABEL], `${o.kind}/${o.metadata.name}`).toBe(MARK_VALUE);
      const info = kindInfo(o.apiVersion, o.kind);
      expect(info, o.kind).toBeDefined();
      expect(o.metadata.namespace).toBe(info?.namespaced === true ? 'team-a' : undefined);
    }
    expect(find(objects, 'RoleBinding', 'gc-k8s')['subjects']).toEqual([{ kind: 'ServiceAccount', name: 'gc-k8s', namespace: 'team-a' }]);
    // the manifests' own labels are kept beside the mark
    expect(find(objects, 'Namespace', 'team-a').metadata.labels).toMatchObject({ 'pod-security.kubernetes.io/enforce': 'restricted' });
    expect(objects.map((o) => o.kind)).toEqual(
      expect.arrayContaining(['ResourceQuota', 'LimitRange', 'PriorityClass', 'PodDisruptionBudget', 'NetworkPolicy']),
    );
    // the agents' account stays, without a token
    expect(find(objects, 'ServiceAccount', 'gc-agent')['automountServiceAccountToken']).toBe(false);
  });

  it("reads the LimitRange as written (default and defaultRequest, not the client models' _default)", () => {
    const limits = find(render(), 'LimitRange', 'gc-agents')['spec'] as { limits: Record<string, unknown>[] };
    expect(limits.limits[0]).toMatchObject({
      type: 'Container',
      default: { cpu: '2', memory: '4Gi' },
      defaultRequest: { cpu: '500m', memory: '1Gi' },
    });
    expect(JSON.stringify(limits)).not.toContain('_default');
  });

  it('writes --set values where the table says, every key reaching its object', () => {
    const all = new Map<string, string | number>(Object.keys(SETTINGS).map((k) => [k, k.startsWith('priority.') ? 77 : '3']));
    all.set('quota.pods', '7');
    all.set('limits.pvc.max.storage', '9Gi');
    const objects = render('ns', all);
    expect((find(objects, 'ResourceQuota', 'gc-agents')['spec'] as { hard: Record<string, string> }).hard).toEqual({
      'requests.cpu': '3',
      'requests.memory': '3',
      'limits.cpu': '3',
      'limits.memory': '3',
      pods: '7',
      persistentvolumeclaims: '3',
      'requests.storage': '3',
    });
    const limits = (find(objects, 'LimitRange', 'gc-agents')['spec'] as { limits: Record<string, unknown>[] }).limits;
    expect(limits[1]).toEqual({ type: 'PersistentVolumeClaim', min: { storage: '3' }, max: { storage: '9Gi' } });
    expect(find(objects, 'PriorityClass', 'gc-low')['value']).toBe(77);
    // the files themselves are untouched by a render
    expect(find(render(), 'PriorityClass', 'gc-low')['value']).toBe(1000);
  });

  it('refuses a file with a kind install does not apply, or an object without a name, naming file and document', () => {
    const bad = (text: string) => () => renderInstall(['x.yaml'], () => text, { namespace: 'n', sets: new Map() });
    expect(
      bad('apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\napiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: d}\n'),
    ).toThrow(/^x\.yaml, document 2: "apps\/v1\/StatefulSet" is not a kind install applies/);
    expect(bad('apiVersion: v1\nkind: Namespace\nmetadata: {labels: {}}\n')).toThrow(/x\.yaml, document 1: .*metadata\.name are required/);
    expect(bad('- a\n')).toThrow(/x\.yaml, document 1: not a Kubernetes object/);
  });
});

describe('--set and --namespace', () => {
  it('accepts quantities, counts and priorities', () => {
    expect([
      ...parseSets(['quota.requests.cpu=1500m', 'quota.pods=12', 'priority.high=200000', 'limits.container.max.memory=16Gi']),
    ]).toEqual([
      ['quota.requests.cpu', '1500m'],
      ['quota.pods', '12'],
      ['priority.high', 200000],
      ['limits.container.max.memory', '16Gi'],
    ]);
  });

  it.each([
    ['quota.requests.cpu=2 cores', /^--set quota\.requests\.cpu="2 cores": expected a Kubernetes quantity/],
    ['quota.pods=1.5', /^--set quota\.pods="1\.5": expected an integer/],
    ['priority.low=2000000000', /^--set priority\.low="2000000000": expected an integer from .* to 1000000000/],
    ['quota.cpu=1', /^--set "quota\.cpu": not a key install knows/],
    ['quota.pods', /^--set "quota\.pods": expected key=value/],
    ['=3', /^--set "=3": expected key=value/],
  ])('refuses %s naming the key and value', (arg, message) => {
    expect(() => parseSets([arg])).toThrow(message);
    try {
      parseSets([arg]);
    } catch (err) {
      expect(err).toMatchObject({ code: 'BAD_REQUEST' });
    }
  });

  it('quotes a long value cut short', () => {
    expect(() => parseSets([`quota.pods=${'9'.repeat(5000)}x`])).toThrow(/… \(5001 characters\)/);
  });

  it('takes a DNS label for a namespace', () => {
    expect(checkNamespace('team-a')).toBe('team-a');
    expect(() => checkNamespace('Team_A')).toThrow(/^--namespace: expected a lowercase DNS label/);
    expect(() => checkNamespace('')).toThrow(/^--namespace: expected a namespace name/);
  });
});

describe('changedPaths', () => {
  it('names the fields that differ, leaving out status and what the server keeps in metadata', () => {
    const before = {
      metadata: {
        name: 'q',
        resourceVersion: '1',
        uid: 'a',
        generation: 1,
        creationTimestamp: 't',
        managedFields: [1],
        labels: { a: 'b' },
      },
      spec: { hard: { pods: '3', 'requests.cpu': '1' }, limits: [{ max: { cpu: '1' } }, { max: { cpu: '2' } }] },
      status: { used: { pods: '1' } },
    };
    const after = {
      metadata: {
        name: 'q',
        resourceVersion: '2',
        uid: 'a',
        generation: 2,
        creationTimestamp: 't',
        managedFields: [2],
        labels: { a: 'b', 'app.kubernetes.io/x': 'y' },
      },
      spec: { hard: { pods: '4', 'requests.cpu': '1' }, limits: [{ max: { cpu: '1' } }, { max: { cpu: '3' } }] },
      status: { used: { pods: '2' } },
    };
    expect(changedPaths(before, after)).toEqual(['metadata.labels["app.kubernetes.io/x"]', 'spec.hard.pods', 'spec.limits[1].max.cpu']);
    expect(changedPaths(before, before)).toEqual([]);
  });

  it('counts a list whose length changed as one path, and a removed field as changed', () => {
    expect(changedPaths({ spec: { a: [1, 2], b: 1 } }, { spec: { a: [1] } })).toEqual(['spec.a', 'spec.b']);
  });
});

describe('install', () => {
  const lines = () => {
    const all: string[] = [];
    return { all, write: (l: string) => all.push(l) };
  };

  it('creates everything, marking the Namespace as made by install; a second install is unchanged and writes nothing', async () => {
    const server = new FakeObjectServer();
    const objects = render('team-a');
    const first = lines();
    await install(server, objects, { dryRun: false, force: false, signal: signal() }, first.write);
    expect(first.all).toEqual(objects.map((o) => `created ${o.kind.toLowerCase()}/${o.metadata.name}`));
    expect(server.peek({ kind: 'Namespace', name: 'team-a' })?.metadata.annotations).toEqual({ [CREATED_ANNOTATION]: 'true' });
    expect(server.writes()).toHaveLength(objects.length);
    const versions = objects.map(
      (o) => server.peek({ kind: o.kind, name: o.metadata.name, namespace: o.metadata.namespace ?? '' })?.metadata['resourceVersion'],
    );

    server.calls.length = 0;
    const second = lines();
    await install(server, render('team-a'), { dryRun: false, force: false, signal: signal() }, second.write);
    expect(second.all.every((l) => l.startsWith('unchanged '))).toBe(true);
    expect(second.all).toHaveLength(objects.length);
    expect(server.writes()).toEqual([]);
    expect(
      objects.map(
        (o) => server.peek({ kind: o.kind, name: o.metadata.name, namespace: o.metadata.namespace ?? '' })?.metadata['resourceVersion'],
      ),
    ).toEqual(versions);
  });

  it('applies only what changed, naming the fields', async () => {
    const server = new FakeObjectServer();
    await install(server, render('team-a'), { dryRun: false, force: false, signal: signal() }, () => undefined);
    server.calls.length = 0;
    const out = lines();
    await install(server, render('team-a', parseSets(['quota.pods=7'])), { dryRun: false, force: false, signal: signal() }, out.write);
    expect(out.all.filter((l) => !l.startsWith('unchanged'))).toEqual(['changed resourcequota/gc-agents: spec.hard.pods']);
    expect(server.writes()).toEqual([{ op: 'apply', key: 'ResourceQuota/team-a/gc-agents' }]);
    expect(server.peek({ kind: 'ResourceQuota', name: 'gc-agents', namespace: 'team-a' })?.['spec']).toMatchObject({ hard: { pods: '7' } });
  });

  it('with --dry-run writes nothing; in a namespace that does not exist yet it cannot dry-run the objects in it, and says so', async () => {
    const server = new FakeObjectServer();
    const out = lines();
    await install(server, render('team-b'), { dryRun: true, force: false, signal: signal() }, out.write);
    expect(server.writes()).toEqual([]);
    expect(server.peek({ kind: 'Namespace', name: 'team-b' })).toBeUndefined();
    expect(out.all.at(-1)).toMatch(/^note: namespace team-b does not exist yet/);
    // the cluster-scoped ones and the Namespace were dry-run; nothing namespaced was
    const dryRuns = server.calls.filter((c) => c.op === 'apply').map((c) => c.key);
    expect(dryRuns).toContain('Namespace//team-b');
    expect(dryRuns).toContain('PriorityClass//gc-high');
    expect(dryRuns.some((k) => k.includes('/team-b/'))).toBe(false);
  });

  it('fails on a field another manager set, naming it, unless --force-conflicts; a namespace that existed is not marked as made', async () => {
    const server = new FakeObjectServer();
    server.seed({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'team-c', labels: { 'pod-security.kubernetes.io/enforce': 'baseline' } },
    });
    await expect(
      install(server, render('team-c'), { dryRun: false, force: false, signal: signal() }, () => undefined),
    ).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringMatching(
        /metadata\.labels\.pod-security\.kubernetes\.io\/enforce.*--force-conflicts takes them over/,
      ) as unknown,
    });
    expect(server.writes()).toEqual([]);
    const out = lines();
    await install(server, render('team-c'), { dryRun: false, force: true, signal: signal() }, out.write);
    expect(out.all[0]).toMatch(/^changed namespace\/team-c: metadata\.labels\["app\.kubernetes\.io\/managed-by"\], /);
    const ns = server.peek({ kind: 'Namespace', name: 'team-c' });
    expect(ns?.metadata.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted');
    expect(ns?.metadata.annotations?.[CREATED_ANNOTATION]).toBeUndefined();
  });

  it("says how to change a PriorityClass's value, which the server refuses to change", async () => {
    const server = new FakeObjectServer();
    const refusing: ObjectApi = {
      get: (ref, o) => server.get(ref, o),
      delete: (ref, o) => server.delete(ref, o),
      list: (kind, selector, o) => server.list(kind, selector, o),
      apply: (manifest, o) =>
        manifest.kind === 'PriorityClass'
          ? Promise.reject(new GcK8sError('INVALID', 'applying priorityclass gc-high: value: Forbidden: may not be changed in an update.'))
          : server.apply(manifest, o),
    };
    await expect(install(refusing, render('team-a'), { dryRun: false, force: false, signal: signal() }, () => undefined)).rejects.toThrow(
      /^applying priorityclass gc-high: value: Forbidden: .*\(a PriorityClass's value never changes: give the --set priority\.\* it was made with, or delete the class and install again\)$/,
    );
  });

  it('refuses a namespace being deleted before applying anything', async () => {
    const server = new FakeObjectServer();
    server.seed({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'gone', deletionTimestamp: '2026-01-01T00:00:00Z' } });
    await expect(install(server, render('gone'), { dryRun: false, force: false, signal: signal() }, () => undefined)).rejects.toThrow(
      /namespace gone is being deleted/,
    );
    expect(server.calls.filter((c) => c.op === 'apply')).toEqual([]);
  });
});

describe('uninstall', () => {
  const run = async (server: FakeObjectServer, namespace: string, dryRun = false): Promise<string[]> => {
    const out: string[] = [];
    await uninstall(server, render(namespace), { dryRun, namespace, signal: signal() }, (l) => out.push(l));
    return out;
  };
  const installed = async (server: FakeObjectServer, namespace: string): Promise<void> =>
    install(server, render(namespace), { dryRun: false, force: false, signal: signal() }, () => undefined);

  it('deletes everything install made, in reverse order, the Namespace last', async () => {
    const server = new FakeObjectServer();
    await installed(server, 'team-a');
    const objects = render('team-a');
    const out = await run(server, 'team-a');
    expect(out).toEqual([...objects].reverse().map((o) => `deleted ${o.kind.toLowerCase()}/${o.metadata.name}`));
    for (const o of objects)
      expect(server.peek({ kind: o.kind, name: o.metadata.name, namespace: o.metadata.namespace ?? '' })).toBeUndefined();
  });

  it('with --dry-run says what it would delete and deletes nothing', async () => {
    const server = new FakeObjectServer();
    await installed(server, 'team-a');
    server.calls.length = 0;
    const out = await run(server, 'team-a', true);
    expect(out.every((l) => l.startsWith('would delete '))).toBe(true);
    expect(out.at(-1)).toBe('would delete namespace/team-a');
    expect(server.writes()).toEqual([]);
  });

  it('keeps the cluster-scoped objects while another namespace has an install', async () => {
    const server = new FakeObjectServer();
    await installed(server, 'team-a');
    await installed(server, 'team-b');
    const out = await run(server, 'team-a');
    expect(out).toContain('kept priorityclass/gc-high: still installed in namespace team-b');
    expect(out).toContain('kept validatingadmissionpolicy/gc-k8s-daemon-pods: still installed in namespace team-b');
    expect(server.peek({ kind: 'PriorityClass', name: 'gc-high' })).toBeDefined();
    expect(server.peek({ kind: 'ResourceQuota', name: 'gc-agents', namespace: 'team-a' })).toBeUndefined();
    // the last one out takes them
    expect(await run(server, 'team-b')).toContain('deleted priorityclass/gc-high');
    expect(server.peek({ kind: 'PriorityClass', name: 'gc-high' })).toBeUndefined();
  });

  it('leaves a namespace that existed before install, giving back the labels install gave it, and objects it did not make', async () => {
    const server = new FakeObjectServer();
    server.seed({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'mine', labels: { team: 'x' } } });
    server.seed({
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: 'gc-dolt', namespace: 'mine' },
      spec: { minAvailable: 1, selector: { matchLabels: { app: 'dolt' } } },
    });
    // a PDB of its own name with the same fields: install adopts its fields, but the object is the user's
    await installed(server, 'mine');
    server.seed({
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: 'gc-dolt', namespace: 'mine' },
      spec: { minAvailable: 1 },
    });
    const out = await run(server, 'mine');
    expect(out).toContain('kept poddisruptionbudget/gc-dolt: not applied by gc-k8s install');
    expect(out.at(-1)).toBe("released namespace/mine: it existed before install, so it stays; install's labels are removed");
    expect(server.peek({ kind: 'Namespace', name: 'mine' })?.metadata.labels).toEqual({ team: 'x' });
    expect(server.peek({ kind: 'PodDisruptionBudget', name: 'gc-dolt', namespace: 'mine' })).toBeDefined();
  });
});

describe('the commands', () => {
  it.each([
    [
      ['install', '--set', 'quota.requests.cpu=2 cores'],
      /^gc-k8s install: --set quota\.requests\.cpu="2 cores": expected a Kubernetes quantity/,
    ],
    [['install', '--set', 'bogus=1'], /^gc-k8s install: --set "bogus": not a key install knows/],
    [['install', '--frobnicate'], /^gc-k8s install: Unknown option '--frobnicate'/],
    [['install', 'extra'], /^gc-k8s install: Unexpected argument 'extra'/],
    [['install', '--namespace', 'Not_A_Label'], /^gc-k8s install: --namespace: expected a lowercase DNS label/],
    [['uninstall', '--set', 'quota.pods=1'], /^gc-k8s uninstall: --set is for install only/],
  ])('%j: one line, exit 2, before any request', async (argv, message) => {
    // a kubeconfig that does not exist: any attempt to reach a cluster would fail otherwise
    const t = io({ KUBECONFIG: '/nonexistent/kubeconfig', GC_K8S_NAMESPACE: 'gc' });
    const [command, ...rest] = argv as [string, ...string[]];
    const code = await (command === 'install' ? runInstall : runUninstall)(rest, t.io);
    expect(code).toBe(2);
    expect(t.err()).toMatch(message);
    expect(t.err().trim().split('\n')).toHaveLength(1);
    expect(t.out()).toBe('');
  });

  it('--help lists the --set keys', async () => {
    const t = io();
    expect(await runInstall(['--help'], t.io)).toBe(0);
    for (const key of Object.keys(SETTINGS)) expect(t.out()).toContain(key);
    expect(t.out()).toMatch(/^ {2}quota\.pods +32 +ResourceQuota gc-agents: spec\.hard\.pods$/m);
    expect(t.out()).toMatch(
      /^ {2}limits\.container\.defaultRequest\.cpu +500m +LimitRange gc-agents: spec\.limits\.Container\.defaultRequest\.cpu$/m,
    );
    expect(t.out()).toMatch(/^ {2}priority\.low +1000 +PriorityClass gc-low: value$/m);
    expect(t.out()).not.toMatch(/ \? /);
  });
});
