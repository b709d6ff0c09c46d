// The install adapter: server-side apply on the wire (PATCH, the apply media type, fieldManager,
// force and dryRun in the query), the kind table's paths, and YAML read as written.
import { afterEach, describe, expect, it } from 'vitest';
import { kindInfo } from '../../../src/k8s/objects.js';
import { parseYamlDocuments } from '../../../src/k8s/yaml.js';
import type { KubeObject } from '../../../src/kube/types.js';
import { statusBody } from '../../helpers/mock-apiserver.js';
import { deadline, startHarness, type Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const quota: KubeObject = {
  apiVersion: 'v1',
  kind: 'ResourceQuota',
  metadata: { name: 'gc-agents', namespace: 'team' },
  spec: { hard: { pods: '3' } },
};
const priorityClass: KubeObject = { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'gc-high' }, value: 5 };

describe('ObjectApi', () => {
  it('applies server-side: PATCH with the apply media type, the field manager, dryRun and force when asked', async () => {
    h = await startHarness();
    h.server.intercept(
      (r) => r.method === 'PATCH',
      (r) => ({ status: 200, body: { ...r.body, apiVersion: 'v1', kind: 'ResourceQuota', metadata: { ...r.body!.metadata, uid: 'u1' } } }),
      2,
    );
    const dry = await h.client.objects.apply(quota, { ...deadline(), fieldManager: 'gc-k8s-install', dryRun: true });
    expect(dry.metadata['uid']).toBe('u1');
    await h.client.objects.apply(quota, { ...deadline(), fieldManager: 'gc-k8s-install', force: true });
    const [first, second] = h.server.requests.filter((r) => r.method === 'PATCH');
    expect(first!.path).toBe('/api/v1/namespaces/team/resourcequotas/gc-agents');
    expect(first!.headers['content-type']).toBe('application/apply-patch+yaml');
    expect(Object.fromEntries(first!.query)).toEqual({ fieldManager: 'gc-k8s-install', dryRun: 'All' });
    expect(Object.fromEntries(second!.query)).toEqual({ fieldManager: 'gc-k8s-install', force: 'true' });
    expect(first!.body).toEqual(quota);
  });

  it('reaches a cluster-scoped kind of an API group, and names it in errors', async () => {
    h = await startHarness();
    h.server.intercept((r) => r.path === '/apis/scheduling.k8s.io/v1/priorityclasses/gc-high', {
      status: 409,
      body: statusBody(409, 'Conflict', 'Apply failed with 1 conflict: conflict with "kubectl-edit": .value'),
    });
    await expect(h.client.objects.apply(priorityClass, { ...deadline(), fieldManager: 'm' })).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringMatching(/^applying priorityclass gc-high: Apply failed with 1 conflict/) as unknown,
    });
    h.server.intercept((r) => r.method === 'GET' && r.path.endsWith('/priorityclasses/gc-high'), {
      status: 404,
      body: statusBody(404, 'NotFound', 'gone'),
    });
    expect(
      await h.client.objects.get({ apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', name: 'gc-high' }, deadline()),
    ).toBeUndefined();
  });

  it('lists namespaces by label, each item given its apiVersion and kind', async () => {
    h = await startHarness();
    h.server.intercept((r) => r.method === 'GET' && r.path === '/api/v1/namespaces', {
      status: 200,
      body: { metadata: { resourceVersion: '1' }, items: [{ metadata: { name: 'a' } }, { metadata: { name: 'b' } }] },
    });
    const listed = await h.client.objects.list({ apiVersion: 'v1', kind: 'Namespace' }, 'x=y', deadline());
    expect(listed.map((n) => `${n.kind}/${n.metadata.name}`)).toEqual(['Namespace/a', 'Namespace/b']);
    expect(h.server.requests.at(-1)!.query.get('labelSelector')).toBe('x=y');
  });

  it('refuses a kind outside the table, and a namespaced object without a namespace, before any request', async () => {
    h = await startHarness();
    const before = h.server.requests.length;
    await expect(
      h.client.objects.get({ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'x', namespace: 'n' }, deadline()),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(h.client.objects.delete({ apiVersion: 'v1', kind: 'LimitRange', name: 'x' }, deadline())).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
    expect(h.server.requests.length).toBe(before);
    expect(kindInfo('policy/v1', 'PodDisruptionBudget')).toEqual({ plural: 'poddisruptionbudgets', namespaced: true });
    expect(kindInfo('apps/v1', 'Deployment')).toEqual({ plural: 'deployments', namespaced: true });
    expect(kindInfo('v1', 'Secret')).toBeUndefined();
  });
});

describe('parseYamlDocuments', () => {
  it('keeps every field as written (client-node models would rename `default` and drop unknown fields)', () => {
    const docs = parseYamlDocuments(
      'kind: LimitRange\napiVersion: v1\nmetadata: {name: x}\nspec:\n  limits:\n    - type: Container\n      default: {cpu: "1"}\n      futureField: 3\n',
    );
    expect(docs).toEqual([
      {
        kind: 'LimitRange',
        apiVersion: 'v1',
        metadata: { name: 'x' },
        spec: { limits: [{ type: 'Container', default: { cpu: '1' }, futureField: 3 }] },
      },
    ]);
  });

  it('reads every document, leaving out empty ones, with nested lists and maps intact', () => {
    const docs = parseYamlDocuments('# c\na: [1, {b: 2}]\n---\n---\n# only a comment\n---\nc: {d: [e]}\n---\n');
    expect(docs).toEqual([{ a: [1, { b: 2 }] }, { c: { d: ['e'] } }]);
  });

  it('says where text is not YAML', () => {
    expect(() => parseYamlDocuments('a: [1,\nb: }')).toThrow(/^not valid YAML: missed comma between flow collection entries \(\d+:\d+\)$/);
  });
});
