// The daemon works with nothing but contrib/k8s/rbac.yaml: a kubeconfig holding only the gc-k8s
// service account's token runs a whole session and the event store, and is refused the rest.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness, ROOT } from './harness.js';

const h = new Harness();
let saKubeconfig = '';

beforeAll(async () => {
  await h.setup();
  const rbac = readFileSync(join(ROOT, 'contrib/k8s/rbac.yaml'), 'utf8').replace('namespace: gc', `namespace: ${h.namespace}`);
  writeFileSync(join(h.dir, 'rbac.yaml'), rbac);
  const applied = await h.k(['apply', '-f', join(h.dir, 'rbac.yaml')]);
  if (applied.code !== 0) throw new Error(applied.err);
  const token = (await h.k(['create', 'token', 'gc-k8s', '--duration=1h'])).out.trim();
  const server = (await h.k(['config', 'view', '--minify', '--raw', '-o', 'jsonpath={.clusters[0].cluster.server}'])).out;
  const ca = (await h.k(['config', 'view', '--minify', '--raw', '-o', 'jsonpath={.clusters[0].cluster.certificate-authority-data}'])).out;
  saKubeconfig = join(h.dir, 'sa.kubeconfig');
  writeFileSync(
    saKubeconfig,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'c', cluster: { server, 'certificate-authority-data': ca } }],
      users: [{ name: 'gc-k8s', user: { token } }],
      contexts: [{ name: 'gc-k8s', context: { cluster: 'c', user: 'gc-k8s', namespace: h.namespace } }],
      'current-context': 'gc-k8s',
    }),
  );
});
afterAll(async () => {
  await h.teardown();
});

describe('least-privilege RBAC', () => {
  it('runs a session and the event store with only the gc-k8s Role', async () => {
    const env = { KUBECONFIG: saKubeconfig, GC_K8S_SOCKET: join(h.dir, 'sa.sock') };
    const start = await h.session(['start', 'rbac-agent'], JSON.stringify({ command: 'bash' }), env);
    expect(start, start.err).toMatchObject({ code: 0 });
    expect((await h.session(['nudge', 'rbac-agent'], 'echo rbac-ok', env)).code).toBe(0);
    let seen = '';
    for (let i = 0; i < 50 && !seen.includes('rbac-ok\n'); i++) seen = (await h.session(['peek', 'rbac-agent', '10'], '', env)).out;
    expect(seen).toContain('rbac-ok');
    expect((await h.script('gc-events-k8s', ['record'], JSON.stringify({ type: 'rbac.test', actor: 'gc' }), env)).code).toBe(0);
    expect(JSON.parse((await h.script('gc-events-k8s', ['list'], '', env)).out)).toHaveLength(1);
    expect((await h.session(['stop', 'rbac-agent'], '', env)).code).toBe(0);
    await h.script('gc-k8s', ['stop-daemon'], '', env);
  });

  it('grants nothing beyond that', async () => {
    const as = `--as=system:serviceaccount:${h.namespace}:gc-k8s`;
    const can = async (...args: string[]) => (await h.k(['auth', 'can-i', as, ...args])).out.trim();
    expect(await can('create', 'pods/exec')).toBe('yes');
    expect(await can('get', 'pods/exec')).toBe('yes');
    // One named Secret (the Dolt password bd uses), nothing else of that kind.
    expect(await can('get', 'secrets')).toBe('no');
    expect(await can('get', 'secrets/gc-dolt-credentials')).toBe('yes');
    expect(await can('get', 'secrets/other')).toBe('no');
    expect(await can('list', 'secrets')).toBe('no');
    expect(await can('get', 'services')).toBe('yes');
    expect(await can('list', 'services')).toBe('no');
    expect(await can('create', 'pods', '-n', 'default')).toBe('no');
    expect(await can('patch', 'pods')).toBe('yes'); // a start records its progress in annotations
    expect(await can('update', 'pods')).toBe('no');
    expect(await can('patch', 'pods/status')).toBe('no');
    expect(await can('create', 'rolebindings')).toBe('no');
    const agent = `--as=system:serviceaccount:${h.namespace}:gc-agent`;
    expect((await h.k(['auth', 'can-i', agent, 'get', 'pods'])).out.trim()).toBe('no');
  });
});
