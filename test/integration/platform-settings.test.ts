// The settings users carry over from Gas City 1.x's native provider, on a real cluster: a pod
// lands where node_selector, tolerations and affinity say, with the PriorityClass and the
// service account the map names, the agent env and no CPU limit; a workspace claim outlives its
// pod; and a restart-time start tells a live compatible pod ("already exists") from a live
// incompatible one (named, left running) and replaces one that is not live.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { podNameFor } from '../../src/session/names.js';
import { Harness } from './harness.js';

const h = new Harness();
const priorityClass = `${h.namespace}-agents`;
const payload = (env: Record<string, string> = {}) => JSON.stringify({ command: 'bash', work_dir: '/tmp', env });

async function podJson(session: string): Promise<{
  metadata: { uid: string };
  spec: Record<string, unknown> & { containers: { resources: { limits: Record<string, string> } }[] };
}> {
  const r = await h.k(['get', 'pod', podNameFor(session), '-o', 'json']);
  expect(r.code, r.err).toBe(0);
  return JSON.parse(r.out) as never;
}

beforeAll(async () => {
  await h.setup();
  const pc = await h.run(
    h.kubectl,
    ['apply', '-f', '-'],
    JSON.stringify({ apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: priorityClass }, value: 4242 }),
  );
  expect(pc.code, pc.err).toBe(0);
  expect((await h.k(['create', 'serviceaccount', 'gct-polecat'])).code).toBe(0);
});
afterAll(async () => {
  await h.run(h.kubectl, ['delete', 'priorityclass', priorityClass, '--ignore-not-found']);
  await h.teardown();
});

describe('1.x native provider settings', () => {
  it('scheduling, identity, env and limits reach the pod the scheduler runs', async () => {
    const node = (await h.run(h.kubectl, ['get', 'nodes', '-o', 'jsonpath={.items[0].metadata.labels.kubernetes\\.io/hostname}'])).out;
    expect(node).not.toBe('');
    const settings = {
      GC_K8S_NODE_SELECTOR: JSON.stringify({ 'kubernetes.io/hostname': node }),
      GC_K8S_TOLERATIONS: JSON.stringify([{ key: 'gc-k8s.io/agents', operator: 'Exists', effect: 'NoSchedule' }]),
      GC_K8S_AFFINITY: JSON.stringify({
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node] }] }],
          },
        },
      }),
      GC_K8S_PRIORITY_CLASS_NAME: priorityClass,
      GC_K8S_SERVICE_ACCOUNT_MAP_JSON: JSON.stringify({ polecat: 'gct-polecat' }),
      GC_K8S_AGENT_ENV_JSON: JSON.stringify({ GC_TEST_PLATFORM: 'from-agent-env', TZ: 'UTC' }),
      GC_K8S_CPU_LIMIT: 'none',
    };
    const s = await h.session(['start', 'ps-placed'], payload({ GC_AGENT: 'rig-a/polecat', TZ: 'Europe/Paris' }), settings);
    expect(s.code, s.err).toBe(0);
    const pod = await podJson('ps-placed');
    expect(pod.spec).toMatchObject({
      nodeSelector: { 'kubernetes.io/hostname': node },
      priorityClassName: priorityClass,
      serviceAccountName: 'gct-polecat',
      automountServiceAccountToken: false,
    });
    expect(pod.spec['tolerations']).toContainEqual({ key: 'gc-k8s.io/agents', operator: 'Exists', effect: 'NoSchedule' });
    expect(pod.spec['priority']).toBe(4242); // resolved from the PriorityClass by admission
    expect(pod.spec.containers[0]!.resources.limits).not.toHaveProperty('cpu');
    const env = await h.session(['exec', 'ps-placed'], 'echo "$GC_TEST_PLATFORM $TZ"', settings);
    expect(env).toMatchObject({ code: 0, out: 'from-agent-env Europe/Paris\n' });
    expect((await h.session(['stop', 'ps-placed'], '', settings)).code).toBe(0);
  });

  it('a priority class that does not exist fails the start naming it, and leaves no pod', async () => {
    const r = await h.session(['start', 'ps-nopc'], payload(), { GC_K8S_PRIORITY_CLASS_NAME: `${h.namespace}-missing` });
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${h.namespace}-missing`);
    expect((await h.k(['get', 'pods', '-o', 'name'])).out).not.toContain(podNameFor('ps-nopc'));
  });

  it('a workspace claim is mounted at /workspace and outlives the pod', async () => {
    const claim = {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'city-ws' },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '64Mi' } } },
    };
    expect((await h.run(h.kubectl, ['-n', h.namespace, 'apply', '-f', '-'], JSON.stringify(claim))).code).toBe(0);
    const ws = { GC_K8S_WORKSPACE_PVC: 'city-ws' };
    expect((await h.session(['start', 'ps-ws'], payload(), ws)).code).toBe(0);
    const write = await h.session(['exec', 'ps-ws'], 'echo kept > /workspace/note && cat /workspace/note', ws);
    expect(write, write.err).toMatchObject({ code: 0, out: 'kept\n' });
    expect((await h.session(['stop', 'ps-ws'], '', ws)).code).toBe(0);
    expect((await h.session(['start', 'ps-ws'], payload(), ws)).code).toBe(0);
    expect(await h.session(['exec', 'ps-ws'], 'cat /workspace/note', ws)).toMatchObject({ code: 0, out: 'kept\n' });
    expect((await h.session(['stop', 'ps-ws'], '', ws)).code).toBe(0);
  });
});

describe('starting a session that is already there (gc restarted in preserve mode)', () => {
  it('live and compatible: "already exists"; live with other settings: named, left running; not live: replaced', async () => {
    expect((await h.session(['start', 'ps-compat'], payload())).code).toBe(0);
    const first = await podJson('ps-compat');

    const same = await h.session(['start', 'ps-compat'], payload());
    expect(same.code).toBe(1);
    expect(same.err).toMatch(/already exists/);

    const other = await h.session(['start', 'ps-compat'], payload(), { GC_K8S_MEM_LIMIT: '300Mi' });
    expect(other.code).toBe(1);
    expect(other.err).toContain('made with other settings (resources: cpu 20m/1, memory 32Mi/256Mi → cpu 20m/1, memory 32Mi/300Mi)');
    expect(other.err).not.toMatch(/already exists/);
    expect((await podJson('ps-compat')).metadata.uid).toBe(first.metadata.uid);
    expect((await h.session(['is-running', 'ps-compat'])).out).toBe('true');

    // the agent gone: the pod is not live, so the start with the new settings replaces it
    await h.session(['exec', 'ps-compat'], 'tmux kill-server'); // its channel may end with the container
    for (let i = 0; i < 100 && (await h.session(['is-running', 'ps-compat'])).out !== 'false'; i++)
      await new Promise((r) => setTimeout(r, 100));
    expect((await h.session(['is-running', 'ps-compat'])).out).toBe('false');
    const replaced = await h.session(['start', 'ps-compat'], payload(), { GC_K8S_MEM_LIMIT: '300Mi' });
    expect(replaced.code, replaced.err).toBe(0);
    const second = await podJson('ps-compat');
    expect(second.metadata.uid).not.toBe(first.metadata.uid);
    expect(second.spec.containers[0]!.resources.limits).toMatchObject({ memory: '300Mi' });
    expect((await h.session(['stop', 'ps-compat'])).code).toBe(0);
  });
});
