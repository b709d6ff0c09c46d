// `gc-k8s install` / `uninstall` on a real cluster: server-side apply of contrib/k8s into a fresh
// namespace (every object marked), a second install that changes nothing (same resourceVersions),
// --dry-run that creates nothing, --set values landing in the ResourceQuota, a refusal by RBAC in
// one line, and uninstall taking exactly what install made: the namespace when install made it,
// a namespace that was there before left (with its own labels only), and the shared cluster-scoped
// objects kept while another namespace has an install.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness, ROOT, until, type Run } from './harness.js';

const h = new Harness();
const fresh = `${h.namespace}-new`;
const dry = `${h.namespace}-dry`;
// made by the harness before install: install must leave it
const existing = h.namespace;
const MARK = 'app.kubernetes.io/managed-by=gc-k8s-install';
const NAMESPACED = 'serviceaccounts,roles,rolebindings,resourcequotas,limitranges,networkpolicies,poddisruptionbudgets';
const CLUSTER = 'priorityclasses,validatingadmissionpolicies,validatingadmissionpolicybindings';

const gck8s = (args: readonly string[], env: Record<string, string> = {}): Promise<Run> =>
  h.run(process.execPath, [join(ROOT, 'bin', 'gc-k8s.js'), ...args], '', h.env(env));

/** kubectl in no particular namespace */
const kc = (args: readonly string[]): Promise<Run> => h.run(h.kubectl, args, '', h.env());

/** name → resourceVersion of the marked objects of `namespace` and of the cluster */
async function versions(namespace: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const args of [
    ['-n', namespace, 'get', NAMESPACED, '-l', MARK],
    ['get', CLUSTER, '-l', MARK],
    ['get', 'namespace', namespace],
  ]) {
    const r = await kc([...args, '-o', 'jsonpath={range .items[*]}{.kind}/{.metadata.name}={.metadata.resourceVersion}{"\\n"}{end}']);
    expect(r.code, r.err).toBe(0);
    for (const line of r.out.split('\n').filter(Boolean)) {
      const [k, v] = line.split('=');
      out[k!] = v!;
    }
  }
  // a single object comes back as itself, not a list
  const ns = await kc(['get', 'namespace', namespace, '-o', 'jsonpath={.metadata.resourceVersion}']);
  out[`Namespace/${namespace}`] = ns.out;
  return out;
}

const marked = async (namespace: string): Promise<string[]> =>
  (await kc(['-n', namespace, 'get', NAMESPACED, '-l', MARK, '-o', 'name'])).out.split('\n').filter(Boolean);
const markedInCluster = async (): Promise<string[]> =>
  (await kc(['get', CLUSTER, '-l', MARK, '-o', 'name'])).out.split('\n').filter(Boolean);
/** installed namespaces other than this file's: they keep the shared objects */
const otherInstalls = async (): Promise<string[]> =>
  (await kc(['get', 'namespaces', '-l', MARK, '-o', 'name'])).out
    .split('\n')
    .filter(Boolean)
    .filter((n) => ![fresh, dry, existing].includes(n.replace('namespace/', '')));

beforeAll(async () => {
  await h.setup();
  expect((await h.k(['label', 'namespace', existing, 'team=platform'])).code).toBe(0);
});
afterAll(async () => {
  for (const ns of [fresh, existing, dry]) await gck8s(['uninstall', '--namespace', ns]);
  await kc(['delete', 'namespace', fresh, dry, '--ignore-not-found', '--wait=false']);
  await h.teardown();
});

describe('gc-k8s install', () => {
  it('installs into a fresh namespace: every object created and marked, the namespace as made by install', async () => {
    const r = await gck8s(['install', '--namespace', fresh]);
    expect(r.code, r.err).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines[0]).toBe(`created namespace/${fresh}`);
    // the shared cluster-scoped objects are unchanged if another namespace outside this file has an install
    const shared = / (priorityclass|validatingadmissionpolicy|validatingadmissionpolicybinding)\//;
    const others = (await otherInstalls()).length > 0;
    const expected = (l: string): boolean =>
      /^created [a-z]+\/[a-z0-9-]+$/.test(l) || (others && shared.test(l) && l.startsWith('unchanged '));
    expect(lines.every(expected), r.out).toBe(true);
    for (const made of ['serviceaccount/gc-agent', 'resourcequota/gc-agents', 'limitrange/gc-agents', 'poddisruptionbudget/gc-dolt']) {
      expect(lines).toContain(`created ${made}`);
    }
    expect(lines).toContain(`${others ? 'unchanged' : 'created'} priorityclass/gc-low`);
    expect(lines).toContain(`${others ? 'unchanged' : 'created'} validatingadmissionpolicy/gc-k8s-daemon-pods`);
    expect(lines.some((l) => l.startsWith('created networkpolicy/'))).toBe(true);
    // what the lines say is there, marked, in the namespace (and the shared objects in the cluster)
    const namespaced = lines.filter(
      (l) => !/ (namespace|priorityclass|validatingadmissionpolicy|validatingadmissionpolicybinding)\//.test(l),
    );
    expect((await marked(fresh)).length).toBe(namespaced.length);
    expect((await markedInCluster()).length).toBe(11);
    const ns = JSON.parse((await kc(['get', 'namespace', fresh, '-o', 'json'])).out) as {
      metadata: { labels: Record<string, string>; annotations: Record<string, string> };
    };
    expect(ns.metadata.labels).toMatchObject({
      'app.kubernetes.io/managed-by': 'gc-k8s-install',
      'pod-security.kubernetes.io/enforce': 'restricted',
    });
    expect(ns.metadata.annotations['gc-k8s.io/install-created']).toBe('true');
    const binding = JSON.parse((await kc(['-n', fresh, 'get', 'rolebinding', 'gc-k8s', '-o', 'json'])).out) as { subjects: unknown[] };
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'gc-k8s', namespace: fresh }]);
  });

  it('installs again as a true no-op: every line unchanged, every resourceVersion the same', async () => {
    const before = await versions(fresh);
    const r = await gck8s(['install', '--namespace', fresh]);
    expect(r.code, r.err).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(
      lines.filter((l) => !l.startsWith('unchanged ')),
      r.out,
    ).toEqual([]);
    expect(lines.length).toBe(Object.keys(before).length);
    expect(await versions(fresh)).toEqual(before);
  });

  it('--dry-run into another fresh namespace creates nothing', async () => {
    const r = await gck8s(['install', '--namespace', dry, '--dry-run']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(new RegExp(`^created namespace/${dry}$`, 'm'));
    expect(r.out).toMatch(/^dry run: nothing was written$/m);
    // the shared objects are there already (from the first test): the dry run compares them
    expect(r.out).toMatch(/^unchanged priorityclass\/gc-high$/m);
    const ns = await kc(['get', 'namespace', dry]);
    expect(ns.code).not.toBe(0);
    expect(ns.err).toMatch(/NotFound|not found/);
  });

  it('--set values land in the ResourceQuota, naming what changed; --dry-run of a change writes nothing', async () => {
    const before = await versions(fresh);
    const preview = await gck8s(['install', '--namespace', fresh, '--dry-run', '--set', 'quota.pods=7']);
    expect(preview.code, preview.err).toBe(0);
    expect(preview.out).toMatch(/^changed resourcequota\/gc-agents: spec\.hard\.pods$/m);
    expect(await versions(fresh)).toEqual(before);

    const r = await gck8s([
      'install',
      '--namespace',
      fresh,
      '--set',
      'quota.pods=7',
      '--set',
      'quota.requests.cpu=3',
      '--set',
      'limits.container.max.cpu=3',
    ]);
    expect(r.code, r.err).toBe(0);
    expect(r.out.split('\n').filter((l) => l.startsWith('changed '))).toEqual([
      'changed resourcequota/gc-agents: spec.hard.pods, spec.hard["requests.cpu"]',
      'changed limitrange/gc-agents: spec.limits[0].max.cpu',
    ]);
    const hard = JSON.parse((await kc(['-n', fresh, 'get', 'resourcequota', 'gc-agents', '-o', 'jsonpath={.spec.hard}'])).out) as Record<
      string,
      string
    >;
    expect(hard).toMatchObject({ pods: '7', 'requests.cpu': '3', 'limits.memory': '96Gi' });
  });

  it('fails in one line naming the object and the field another manager set, until --force-conflicts takes it over', async () => {
    expect(
      (await h.run(h.kubectl, ['-n', fresh, 'patch', 'resourcequota', 'gc-agents', '--type=merge', '-p', '{"spec":{"hard":{"pods":"5"}}}']))
        .code,
    ).toBe(0);
    const r = await gck8s(['install', '--namespace', fresh, '--set', 'quota.pods=7']);
    expect(r.code).toBe(1);
    expect(r.err.trim()).toMatch(
      new RegExp(
        `^gc-k8s install: dry-run applying resourcequota ${fresh}/gc-agents: Apply failed with 1 conflict: conflict with "kubectl-patch".*\\.spec\\.hard\\.pods.*--force-conflicts takes them over\\)$`,
      ),
    );
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect((await kc(['-n', fresh, 'get', 'resourcequota', 'gc-agents', '-o', 'jsonpath={.spec.hard.pods}'])).out).toBe('5');

    const forced = await gck8s(['install', '--namespace', fresh, '--set', 'quota.pods=7', '--force-conflicts']);
    expect(forced.code, forced.err).toBe(0);
    // (with the figures the previous test set, which this install does not give, going back to the file's)
    expect(forced.out).toMatch(/^changed resourcequota\/gc-agents: .*spec\.hard\.pods/m);
    expect((await kc(['-n', fresh, 'get', 'resourcequota', 'gc-agents', '-o', 'jsonpath={.spec.hard.pods}'])).out).toBe('7');
  });

  it('refuses a bad --set value in one line with exit 2, before any request', async () => {
    // (a kubeconfig that does not exist: a request would fail differently)
    const r = await gck8s(['install', '--namespace', fresh, '--set', 'quota.requests.cpu=2 cores'], { KUBECONFIG: '/nonexistent' });
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      'gc-k8s install: --set quota.requests.cpu="2 cores": expected a Kubernetes quantity like 500m, 2, 1Gi; got "2 cores"\n',
    );
  });

  it("fails in one line naming the object when RBAC refuses (as the daemon's own account)", async () => {
    const token = (await kc(['-n', fresh, 'create', 'token', 'gc-k8s', '--duration=10m'])).out.trim();
    const server = (await kc(['config', 'view', '--minify', '--raw', '-o', 'jsonpath={.clusters[0].cluster.server}'])).out;
    const ca = (await kc(['config', 'view', '--minify', '--raw', '-o', 'jsonpath={.clusters[0].cluster.certificate-authority-data}'])).out;
    const kubeconfig = join(h.dir, 'sa.kubeconfig');
    writeFileSync(
      kubeconfig,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'c', cluster: { server, 'certificate-authority-data': ca } }],
        users: [{ name: 'u', user: { token } }],
        contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
        'current-context': 'x',
      }),
    );
    const r = await gck8s(['install', '--namespace', fresh], { KUBECONFIG: kubeconfig });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      new RegExp(
        `^gc-k8s install: getting namespace ${fresh}: namespaces "${fresh}" is forbidden: User "system:serviceaccount:${fresh}:gc-k8s" cannot get`,
      ),
    );
    expect(r.err.trim().split('\n')).toHaveLength(1);
  });
});

describe('gc-k8s uninstall', () => {
  it('leaves a namespace that existed before install, with its own labels, and keeps the shared objects another install uses', async () => {
    const installed = await gck8s(['install', '--namespace', existing]);
    expect(installed.code, installed.err).toBe(0);
    expect(installed.out).toMatch(
      new RegExp(`^changed namespace/${existing}: metadata\\.labels\\["app\\.kubernetes\\.io/managed-by"\\]`, 'm'),
    );
    expect((await marked(existing)).length).toBeGreaterThan(0);

    const r = await gck8s(['uninstall', '--namespace', existing]);
    expect(r.code, r.err).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines.find((l) => l.startsWith('kept priorityclass/gc-high: still installed in namespace '))).toContain(fresh);
    expect(lines).toContain('deleted resourcequota/gc-agents');
    expect(lines.at(-1)).toBe(`released namespace/${existing}: it existed before install, so it stays; install's labels are removed`);
    expect(await marked(existing)).toEqual([]);
    const labels = JSON.parse((await kc(['get', 'namespace', existing, '-o', 'jsonpath={.metadata.labels}'])).out) as Record<
      string,
      string
    >;
    expect(labels).toEqual({ 'kubernetes.io/metadata.name': existing, team: 'platform' });
    expect((await markedInCluster()).length).toBe(11);
  });

  it('--dry-run says what it would delete and deletes nothing', async () => {
    const before = await versions(fresh);
    const r = await gck8s(['uninstall', '--namespace', fresh, '--dry-run']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^would delete resourcequota\/gc-agents$/m);
    expect(r.out).toMatch(new RegExp(`^would delete namespace/${fresh}$`, 'm'));
    expect(r.out).toMatch(/^dry run: nothing was deleted$/m);
    expect(await versions(fresh)).toEqual(before);
  });

  it('removes everything install made: nothing marked is left, and the namespace it made goes', async () => {
    const others = await otherInstalls();
    const r = await gck8s(['uninstall', '--namespace', fresh]);
    expect(r.code, r.err).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines.at(-1)).toBe(`deleted namespace/${fresh}`);
    expect(
      lines.filter((l) => !l.startsWith('deleted ') && !(others.length > 0 && l.startsWith('kept '))),
      r.out,
    ).toEqual([]);
    expect(await marked(fresh)).toEqual([]);
    // the shared objects go with the last install (unless another namespace outside this file has one)
    expect((await markedInCluster()).length).toBe(others.length > 0 ? 11 : 0);
    await until(async () => (await kc(['get', 'namespace', fresh])).code !== 0, `namespace ${fresh} to go`, 1200);
  });
});
