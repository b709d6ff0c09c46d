import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { deployBlocker, rolloutState } from '../../../src/cli/deploy.js';
import { documentOf, parseDeployArgs, renderDeploy } from '../../../src/cli/deploy-manifest.js';
import type { KubeObject } from '../../../src/kube/types.js';
import { FakeObjectServer } from '../../fakes/fake-objects.js';

const contrib = (f: string): string => readFileSync(new URL(`../../../contrib/k8s/${f}`, import.meta.url), 'utf8');
const template = documentOf(contrib('controller/deployment.yaml'), 'Deployment', 'gc-k8s');
const pdb = documentOf(contrib('pdb.yaml'), 'PodDisruptionBudget', 'gc-k8s');

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const podSpec = (d: KubeObject): Json => (d as Json)['spec']['template']['spec'] as Json;
const container = (d: KubeObject, name: string): Json => (podSpec(d)['containers'] as Json[]).find((c) => c['name'] === name) as Json;

describe('gc-k8s deploy arguments (checked before any request)', () => {
  it('takes every flag', () => {
    const c = parseDeployArgs('deploy', [
      '--namespace=city',
      '--image=reg.example/gc-k8s:1.2',
      '--controller-image',
      'reg.example/gc@sha256:abc',
      '--controller-command',
      'gc start --foreground',
      '--daemon-env',
      'GC_K8S_QPS=50',
      '--daemon-env=GC_K8S_DRAIN_TIMEOUT=30s',
      '--update',
      '--timeout',
      '120',
    ]);
    expect(c.kind).toBe('deploy');
    if (c.kind === 'help') throw new Error('unreachable');
    expect(c.options).toMatchObject({
      namespace: 'city',
      image: 'reg.example/gc-k8s:1.2',
      controllerImage: 'reg.example/gc@sha256:abc',
      controllerCommand: 'gc start --foreground',
      update: true,
      timeoutS: 120,
    });
    expect([...c.options.daemonEnv]).toEqual([
      ['GC_K8S_QPS', '50'],
      ['GC_K8S_DRAIN_TIMEOUT', '30s'],
    ]);
    expect(parseDeployArgs('deploy', ['status', '--namespace', 'gc']).kind).toBe('status');
    expect(parseDeployArgs('undeploy', ['--timeout', '30']).kind).toBe('undeploy');
  });

  it.each([
    [['--namespace', 'Bad_NS'], /--namespace/],
    [['--image', 'has space:1'], /--image: expected an image reference/],
    [['--controller-image', 'x;rm -rf'], /--controller-image/],
    [['--controller-command', '   '], /--controller-command/],
    [['--daemon-env', 'NOEQUALS'], /expected NAME=value/],
    [['--daemon-env', 'GC_K8S_SOCKET=/tmp/x'], /set by the manifest/],
    [['--daemon-env', 'GC_K8S_QPS=lots'], /invalid GC_K8S_QPS/],
    [['--daemon-env', 'GC_K8S_DRAIN_TIMEOUT=soon'], /invalid GC_K8S_DRAIN_TIMEOUT/],
    [['--timeout', '0'], /--timeout: expected whole seconds/],
    [['--timeout', '99999'], /--timeout/],
    [['--bogus'], /Unknown option/],
    [['status', '--image', 'x:1'], /--image is for deploy only/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseDeployArgs('deploy', argv)).toThrow(message);
  });

  it('undeploy takes no deploy flags', () => {
    expect(() => parseDeployArgs('undeploy', ['--update'])).toThrow(/--update is for deploy only/);
  });
});

describe('the deploy manifest', () => {
  it('contrib/k8s/controller/deployment.yaml: Recreate, one replica, token only in the daemon, probes, shared socket', () => {
    const spec = (template as Json)['spec'] as Json;
    expect(spec['replicas']).toBe(1);
    expect(spec['strategy']).toEqual({ type: 'Recreate' });
    const pod = podSpec(template);
    expect(pod['automountServiceAccountToken']).toBe(false);
    expect(pod['serviceAccountName']).toBe('gc-k8s');
    expect(pod['securityContext']).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } });
    const controller = container(template, 'controller');
    const daemon = container(template, 'daemon');
    const mounts = (c: Json): string[] => (c['volumeMounts'] as Json[]).map((m) => `${m['name'] as string}:${m['mountPath'] as string}`);
    expect(mounts(controller)).not.toContain('daemon-token:/var/run/secrets/kubernetes.io/serviceaccount');
    expect(mounts(daemon)).toContain('daemon-token:/var/run/secrets/kubernetes.io/serviceaccount');
    const env = (c: Json): Record<string, unknown> =>
      Object.fromEntries((c['env'] as Json[]).map((e): [string, unknown] => [e['name'] as string, e['value'] as unknown]));
    expect(env(controller)).toMatchObject({ GC_K8S_SOCKET: '/run/gc-k8s/daemon/daemon.sock', GC_K8S_NO_AUTOSTART: '1' });
    expect(env(daemon)).toMatchObject({
      GC_K8S_SOCKET: '/run/gc-k8s/daemon/daemon.sock',
      GC_K8S_LEADER_LEASE: 'gc-k8s',
      GC_K8S_DRAIN_TIMEOUT: '20s',
    });
    expect(daemon['livenessProbe']).toMatchObject({ httpGet: { path: '/healthz', port: 'metrics' } });
    expect(daemon['readinessProbe']).toMatchObject({ httpGet: { path: '/readyz', port: 'metrics' } });
    // the grace period leaves room for the drain (20 s) and the cancelled ops' rollback
    expect(pod['terminationGracePeriodSeconds']).toBeGreaterThan(20);
    for (const c of [controller, daemon])
      expect(c['securityContext']).toMatchObject({ allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    // pdb.yaml's budget selects the pod
    const selector = ((pdb as Json)['spec'] as Json)['selector']['matchLabels'] as Record<string, string>;
    const labels = ((spec['template'] as Json)['metadata'] as Json)['labels'] as Record<string, string>;
    for (const [k, v] of Object.entries(selector)) expect(labels[k]).toBe(v);
  });

  it('renders images, the controller command and daemon env into the namespace, marked as deploy’s, without touching the template', () => {
    const before = JSON.stringify(template);
    const [d, b] = renderDeploy(template, pdb, {
      namespace: 'city',
      image: 'reg/gc-k8s:2',
      controllerImage: 'reg/gc:1',
      controllerCommand: 'gc start --foreground',
      daemonEnv: new Map([
        ['GC_K8S_DRAIN_TIMEOUT', '5s'],
        ['GC_K8S_QPS', '10'],
      ]),
    }) as [KubeObject, KubeObject];
    expect(JSON.stringify(template)).toBe(before);
    expect(d.metadata).toMatchObject({ namespace: 'city', labels: { 'app.kubernetes.io/managed-by': 'gc-k8s-deploy' } });
    expect(b.metadata).toMatchObject({ namespace: 'city', name: 'gc-k8s', labels: { 'app.kubernetes.io/managed-by': 'gc-k8s-deploy' } });
    expect(container(d, 'daemon')['image']).toBe('reg/gc-k8s:2');
    expect(container(d, 'controller')).toMatchObject({ image: 'reg/gc:1', command: ['/bin/sh', '-c', 'gc start --foreground'] });
    const env = container(d, 'daemon')['env'] as Json[];
    expect(env.filter((e) => e['name'] === 'GC_K8S_DRAIN_TIMEOUT')).toEqual([{ name: 'GC_K8S_DRAIN_TIMEOUT', value: '5s' }]);
    expect(env).toContainEqual({ name: 'GC_K8S_QPS', value: '10' });
  });
});

describe('deploy checks the namespace before writing', () => {
  const role = (withLeases: boolean): KubeObject => ({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name: 'gc-k8s', namespace: 'gc' },
    rules: [
      { apiGroups: [''], resources: ['pods'] },
      ...(withLeases ? [{ apiGroups: ['coordination.k8s.io'], resources: ['leases'] }] : []),
    ],
  });
  const account: KubeObject = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'gc-k8s', namespace: 'gc' } };
  const call = () => ({ signal: AbortSignal.timeout(5_000) });

  it('no Role: names gc-k8s install; an old Role without leases: install again; a Deployment there: --update', async () => {
    const objects = new FakeObjectServer();
    expect(await deployBlocker(objects, 'gc', false, call)).toMatch(/no gc-k8s Role .*gc-k8s install --namespace gc/);
    objects.seed(account);
    objects.seed(role(false));
    expect(await deployBlocker(objects, 'gc', false, call)).toMatch(/predates leader election/);
    objects.seed(role(true));
    expect(await deployBlocker(objects, 'gc', false, call)).toBeUndefined();
    objects.seed({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'gc-k8s', namespace: 'gc', labels: { 'app.kubernetes.io/managed-by': 'gc-k8s-deploy' } },
    });
    expect(await deployBlocker(objects, 'gc', false, call)).toMatch(/already exists: `gc-k8s deploy --update`/);
    expect(await deployBlocker(objects, 'gc', true, call)).toBeUndefined();
    expect(objects.writes()).toEqual([]);
  });
});

describe('rolloutState', () => {
  const deployment = (status: Json, generation = 2): KubeObject => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'gc-k8s', generation },
    spec: { replicas: 1 },
    status,
  });
  it('done only when the new generation is observed and its one replica is ready', () => {
    expect(rolloutState(deployment({ observedGeneration: 1, updatedReplicas: 1, readyReplicas: 1, replicas: 1 }), []).done).toBe(false);
    expect(rolloutState(deployment({ observedGeneration: 2, updatedReplicas: 1, readyReplicas: 1, replicas: 2 }), []).done).toBe(false);
    expect(rolloutState(deployment({ observedGeneration: 2, updatedReplicas: 1, readyReplicas: 1, replicas: 1 }), []).done).toBe(true);
  });
  it('says why a pod is not ready', () => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'gc-k8s-abc' },
      status: {
        phase: 'Pending',
        containerStatuses: [
          { name: 'daemon', state: { waiting: { reason: 'ImagePullBackOff', message: 'pull access denied' } } },
          { name: 'controller', ready: false, state: { running: {} } },
        ],
      },
    } as KubeObject;
    expect(rolloutState(deployment({ observedGeneration: 2 }), [pod]).line).toBe(
      '0/1 ready, 0 updated (gc-k8s-abc: daemon ImagePullBackOff: pull access denied, controller not ready)',
    );
  });
});
