// The exec beads protocol end to end: the real gc-beads-k8s script, our daemon, the runner pod
// with the real bd, and Dolt deployed from contrib/k8s — every op and field, the runner and Dolt
// going away under us, concurrent writers, and bad input.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WireBead as Bead } from '../../src/beads/wire.js';
import { BeadsHarness, until } from './beads-helpers.js';

const h = new BeadsHarness();

async function create(fields: object, extra: Record<string, string> = {}): Promise<Bead> {
  const r = await h.beads(['create'], JSON.stringify(fields), extra);
  expect(r, r.err).toMatchObject({ code: 0 });
  return JSON.parse(r.out) as Bead;
}

async function get(id: string, extra: Record<string, string> = {}): Promise<Bead> {
  const r = await h.beads(['get', id], '', extra);
  expect(r, r.err).toMatchObject({ code: 0 });
  return JSON.parse(r.out) as Bead;
}

async function list(argv: string[], extra: Record<string, string> = {}): Promise<Bead[]> {
  const r = await h.beads(argv, '', extra);
  expect(r, r.err).toMatchObject({ code: 0 });
  return JSON.parse(r.out) as Bead[];
}

beforeAll(async () => {
  await h.setup();
  await h.deployDolt();
});
afterAll(async () => {
  await h.teardown();
});

describe('lifecycle', () => {
  it('probe answers before anything exists; start brings up a hardened runner without a token', async () => {
    expect((await h.beads(['probe'])).code).toBe(0);
    const r = await h.beads(['start']);
    expect(r, r.err).toMatchObject({ code: 0 });
    const pod = JSON.parse((await h.k(['get', 'pod', 'gc-beads-runner', '-o', 'json'])).out) as {
      metadata: { labels: Record<string, string> };
      spec: {
        automountServiceAccountToken: boolean;
        securityContext: Record<string, unknown>;
        containers: {
          image: string;
          securityContext: Record<string, unknown>;
          resources: unknown;
          env: { name: string; value?: string }[];
        }[];
      };
    };
    expect(pod.metadata.labels).toMatchObject({ 'app.kubernetes.io/managed-by': 'gascity', 'gc/component': 'beads-runner' });
    expect(pod.spec.automountServiceAccountToken).toBe(false);
    expect(pod.spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } });
    const c = pod.spec.containers[0]!;
    expect(c.securityContext).toMatchObject({ allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    expect(c.resources).toEqual({ requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '512Mi' } });
    // The password is a secretKeyRef, never a value in the spec.
    expect(c.env.find((e) => e.name === 'BEADS_DOLT_PASSWORD')?.value).toBeUndefined();
    const id = await h.k(['exec', 'gc-beads-runner', '--', 'sh', '-c', 'id -u; ls /var/run/secrets/kubernetes.io 2>&1 || true']);
    expect(id.out).toMatch(/^1000\n.*No such file or directory/s);
  });

  it('init is idempotent and registers the store in the cluster', async () => {
    for (let i = 0; i < 2; i++) {
      const r = await h.beads(['init', h.city, 'gc'], '', { GC_STORE_ROOT: '' });
      expect(r, r.err).toMatchObject({ code: 0 });
    }
    const cm = await h.k(['get', 'configmap', 'gc-beads-stores', '-o', 'json']);
    expect(cm.out).toContain('\\"workdir\\":\\"/workspace\\"');
  });

  it('health checks the runner and Dolt; legacy names and unknown ops', async () => {
    const health = await h.beads(['health']);
    expect(health, health.err).toMatchObject({ code: 0 });
    expect(health.err).toMatch(/dolt .*(reachable from the runner|answers)/);
    expect((await h.beads(['ensure-ready'])).code).toBe(0);
    const cfg = await h.beads(['config-set', 'issue_prefix', 'gc']);
    expect(cfg, cfg.err).toMatchObject({ code: 0 });
    expect((await h.beads(['mol-cook'])).code).toBe(2);
    expect((await h.beads(['purge'])).code).toBe(2);
  });
});

describe('every op and field', () => {
  let parent: Bead;
  let full: Bead;

  it('create round-trips every field (assignee, from, priority, ref, type, needs, labels, metadata, parent)', async () => {
    parent = await create({ title: 'parent', type: 'molecule' });
    full = await create({
      title: '--looks like a flag',
      type: 'bug',
      priority: 1,
      labels: ['role:worker', 'has,comma'],
      parent_id: parent.id,
      ref: 'step-1',
      needs: ['gc-zzz'],
      description: 'multi\nline "quoted" $HOME',
      assignee: 'mayor',
      from: 'priya',
      metadata: { k: 'v', n: '42' },
    });
    const got = await get(full.id);
    expect(got).toEqual(full);
    expect(got).toMatchObject({
      title: '--looks like a flag',
      status: 'open',
      type: 'bug',
      priority: 1,
      assignee: 'mayor',
      from: 'priya',
      parent_id: parent.id,
      ref: 'step-1',
      needs: ['gc-zzz'],
      description: 'multi\nline "quoted" $HOME',
      metadata: { k: 'v', n: '42' },
    });
    expect([...got.labels].sort()).toEqual(['has,comma', 'role:worker']);
    expect(got).not.toHaveProperty('issue_type');
    expect(Date.parse(got.created_at)).not.toBeNaN();
  });

  it('create defaults type to task and status to open', async () => {
    const b = await create({ title: 'plain' });
    expect(b).toMatchObject({ type: 'task', status: 'open', assignee: '', from: '', parent_id: '', needs: [], labels: [] });
    expect(b.metadata).toBeUndefined();
  });

  it('update changes title, status, type, priority, assignee, description, labels, remove_labels, metadata (merge) and parent', async () => {
    const other = await create({ title: 'other parent' });
    const r = await h.beads(
      ['update', full.id],
      JSON.stringify({
        title: 'renamed',
        status: 'in_progress',
        type: 'feature',
        priority: 3,
        assignee: 'bob',
        description: 'new',
        labels: ['added'],
        remove_labels: ['role:worker'],
        metadata: { k2: 'v2', n: '' },
        parent_id: other.id,
      }),
    );
    expect(r, r.err).toMatchObject({ code: 0 });
    const got = await get(full.id);
    expect(got).toMatchObject({
      title: 'renamed',
      status: 'in_progress',
      type: 'feature',
      priority: 3,
      assignee: 'bob',
      description: 'new',
      parent_id: other.id,
      from: 'priya',
      ref: 'step-1',
    });
    expect([...got.labels].sort()).toEqual(['added', 'has,comma']);
    expect(got.metadata).toEqual({ k: 'v', k2: 'v2', n: '' });
    expect((await list(['children', parent.id])).map((b) => b.id)).toEqual([]);
    expect((await list(['children', other.id])).map((b) => b.id)).toEqual([full.id]);
    // An empty update changes nothing.
    expect((await h.beads(['update', full.id], '{}')).code).toBe(0);
    expect(await get(full.id)).toEqual(got);
  });

  it('set-metadata keeps the exact value, empty included', async () => {
    expect((await h.beads(['set-metadata', full.id, 'note'], 'x=1\ny "2"')).code).toBe(0);
    expect((await h.beads(['set-metadata', full.id, 'blank'], '')).code).toBe(0);
    const got = await get(full.id);
    expect(got.metadata?.['note']).toBe('x=1\ny "2"');
    expect(got.metadata?.['blank']).toBe('');
  });

  it('list, its flags, ready, children in creation order, list-by-label with a limit', async () => {
    const p = await create({ title: 'kids' });
    const kids = [];
    for (const t of ['k1', 'k2', 'k3']) kids.push(await create({ title: t, parent_id: p.id, labels: ['batch:kids'], assignee: 'ann' }));
    expect((await list(['children', p.id])).map((b) => b.title)).toEqual(['k1', 'k2', 'k3']);
    expect((await list(['list-by-label', 'batch:kids', '0'])).map((b) => b.title)).toEqual(['k1', 'k2', 'k3']);
    expect(await list(['list-by-label', 'batch:kids', '2'])).toHaveLength(2);
    expect((await list(['list', '--assignee=ann'])).map((b) => b.title)).toEqual(['k1', 'k2', 'k3']);
    expect((await list(['list', '--type=feature'])).map((b) => b.id)).toEqual([full.id]);
    expect((await list(['list', '--status=in_progress'])).map((b) => b.id)).toEqual([full.id]);
    expect(await list(['list', '--assignee=ann', '--limit=1'])).toHaveLength(1);
    const ready = await list(['ready']);
    expect(ready.every((b) => b.status === 'open')).toBe(true);
    expect(ready.map((b) => b.id)).not.toContain(full.id);
    expect((await h.beads(['close', kids[0]!.id])).code).toBe(0);
    expect((await h.beads(['close', kids[0]!.id])).code).toBe(0); // idempotent
    expect((await get(kids[0]!.id)).status).toBe('closed');
    expect((await list(['ready'])).map((b) => b.id)).not.toContain(kids[0]!.id);
    expect((await list(['list', '--status=closed'])).map((b) => b.id)).toEqual([kids[0]!.id]);
  });

  it('dep-add (idempotent, type update), dep-list down/up, dep-remove', async () => {
    const a = await create({ title: 'a' });
    const b = await create({ title: 'b' });
    const c = await create({ title: 'c' });
    for (let i = 0; i < 2; i++) expect((await h.beads(['dep-add', a.id, b.id, 'blocks'])).code).toBe(0);
    expect(await list(['dep-list', a.id, 'down'])).toEqual([{ issue_id: a.id, depends_on_id: b.id, type: 'blocks' }]);
    expect((await h.beads(['dep-add', a.id, b.id, 'tracks'])).code).toBe(0);
    expect(await list(['dep-list', a.id, 'down'])).toEqual([{ issue_id: a.id, depends_on_id: b.id, type: 'tracks' }]);
    expect(await list(['dep-list', b.id, 'up'])).toEqual([{ issue_id: a.id, depends_on_id: b.id, type: 'tracks' }]);
    expect((await h.beads(['dep-add', a.id, c.id, 'blocks'])).code).toBe(0);
    expect((await h.beads(['dep-remove', a.id, b.id])).code).toBe(0);
    expect(await list(['dep-list', a.id, 'down'])).toEqual([{ issue_id: a.id, depends_on_id: c.id, type: 'blocks' }]);
    expect((await h.beads(['dep-remove', a.id, b.id])).code).toBe(0); // removing nothing is fine
    expect(await list(['dep-list', 'gc-nope', 'down'])).toEqual([]);
  });

  it('delete removes a bead', async () => {
    const d = await create({ title: 'doomed' });
    expect((await h.beads(['delete', d.id])).code).toBe(0);
    const r = await h.beads(['get', d.id]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/not found/);
  });
});

describe('Gas City 1.x ops and fields', () => {
  // gc-bd-serve answers plain writes in-process; bd per call is the other way every write can go
  for (const [how, extra] of [
    ['gc-bd-serve', {}],
    ['bd per call', { GC_K8S_BEADS_FAST_WRITES: 'false' }],
  ] as const) {
    it(`create takes ephemeral, no_history and defer_until; update carries type; close is forced; reopen (${how})`, async () => {
      const b = await create({ title: `1.x ${how}`, ephemeral: true, defer_until: '2099-02-03T04:05:06Z' }, extra);
      expect(b).toMatchObject({ ephemeral: true, defer_until: '2099-02-03T04:05:06Z', status: 'open' });
      expect(Date.parse(b.updated_at ?? '')).not.toBeNaN();
      expect(await get(b.id, extra)).toEqual(b);
      const kept = await create({ title: `no history ${how}`, no_history: true }, extra);
      expect(await get(kept.id, extra)).toMatchObject({ no_history: true });
      // bd's own rule, passed through as a failure that names it
      const both = await h.beads(['create'], JSON.stringify({ title: 'both', ephemeral: true, no_history: true }), extra);
      expect(both.code).toBe(1);
      expect(both.err).toMatch(/--ephemeral and --no-history are mutually exclusive/);
      const plain = await create({ title: `plain ${how}` }, extra);
      expect(plain).not.toHaveProperty('ephemeral');
      expect((await h.beads(['update', plain.id], '{"type":"bug"}', extra)).code).toBe(0);
      expect(await get(plain.id, extra)).toMatchObject({ type: 'bug' });
      // always forced (the argv is checked in the unit tests): bd refuses an unforced close of another actor's bead
      expect((await h.beads(['close', plain.id], '', extra)).code).toBe(0);
      expect(await get(plain.id, extra)).toMatchObject({ status: 'closed' });
      for (let i = 0; i < 2; i++) {
        const r = await h.beads(['reopen', plain.id], '', extra);
        expect(r, r.err).toMatchObject({ code: 0 });
        expect(await get(plain.id, extra)).toMatchObject({ status: 'open' });
      }
      const missing = await h.beads(['reopen', 'gc-nonexistent-7'], '', extra);
      expect(missing.code).toBe(1);
      expect(missing.err).toMatch(/not found/);
    });
  }

  it('ready --include-ephemeral; an argument ready or list does not take exits 1 naming it, never 2', async () => {
    const wisp = await create({ title: 'ready wisp', ephemeral: true });
    expect((await list(['ready'])).map((b) => b.id)).not.toContain(wisp.id);
    expect((await list(['ready', '--include-ephemeral'])).map((b) => b.id)).toContain(wisp.id);
    const bad = await h.beads(['ready', '--unknown-flag']);
    expect(bad).toMatchObject({ code: 1, out: '' });
    expect(bad.err).toContain('ready: unsupported argument: --unknown-flag');
    const badList = await h.beads(['list', '--sort=priority']);
    expect(badList.code).toBe(1);
    expect(badList.err).toContain('list: unsupported argument: --sort=priority');
  });

  it('a half-set GC_DOLT_HOST/GC_DOLT_PORT pair is refused before anything runs', async () => {
    for (const env of [{ GC_DOLT_HOST: 'dolt.elsewhere' }, { GC_DOLT_PORT: '3307' }]) {
      const r = await h.beads(['init', h.city, 'gc'], '', env);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/requires both GC_DOLT_HOST and GC_DOLT_PORT \(only GC_DOLT_(HOST|PORT) is set\)/);
    }
  });
});

describe('bad input', () => {
  it('malformed JSON exits 1 and writes nothing', async () => {
    const before = (await list(['list'])).length;
    for (const bad of ['{not json', '[]', '{"title": 5}', '{"title": ""}', '']) {
      const r = await h.beads(['create'], bad);
      expect(r.code, bad).toBe(1);
    }
    const u = await h.beads(['update', 'gc-whatever'], '{"status": "bogus"}');
    expect(u.code).toBe(1);
    expect((await list(['list'])).length).toBe(before);
  });

  it('unknown ids use the not-found wording gc maps', async () => {
    for (const argv of [
      ['get', 'nonexistent-999'],
      ['update', 'nonexistent-999'],
      ['close', 'nonexistent-999'],
      ['set-metadata', 'nonexistent-999', 'k'],
    ]) {
      const r = await h.beads(argv, argv[0] === 'update' ? '{"description":"x"}' : 'v');
      expect(r.code, argv.join(' ')).toBe(1);
      expect(r.err.toLowerCase(), argv.join(' ')).toMatch(/not found|no issue found/);
    }
  });

  it('a store root outside the city root is refused clearly', async () => {
    const r = await h.beads(['list'], '', { GC_STORE_ROOT: '/somewhere/else' });
    expect(r.code).toBe(1);
    expect(r.err).toContain(`store root /somewhere/else is outside city root ${h.city}`);
  });
});

describe('failures underneath', () => {
  it('a deleted runner is recreated by the next op that needs bd, every store re-initialized from the cluster', async () => {
    const rigRoot = join(h.city, 'rigs', 'alpha');
    mkdirSync(rigRoot, { recursive: true });
    const rig = { GC_STORE_ROOT: rigRoot, GC_STORE_SCOPE: 'rig', GC_BEADS_PREFIX: 'ra' };
    const inRig = await create({ title: 'in the rig' }, rig);
    const inCity = await create({ title: 'in the city' });
    const uid = (await h.k(['get', 'pod', 'gc-beads-runner', '-o', 'jsonpath={.metadata.uid}'])).out;
    expect((await h.k(['delete', 'pod', 'gc-beads-runner', '--wait=true'])).code).toBe(0);
    // A read answers either way: from Dolt directly, or through a new runner.
    expect(await get(inCity.id)).toMatchObject({ title: 'in the city' });
    const u = await h.beads(['update', inCity.id], '{"description":"after the runner went away"}');
    expect(u.code, u.err).toBe(0);
    const newUid = (await h.k(['get', 'pod', 'gc-beads-runner', '-o', 'jsonpath={.metadata.uid}'])).out;
    expect(newUid).not.toBe('');
    expect(newUid).not.toBe(uid);
    expect(await get(inCity.id)).toMatchObject({ description: 'after the runner went away' });
    expect(await get(inRig.id, rig)).toMatchObject({ title: 'in the rig' });
    // The rig store came back although nobody ran init for it on the new runner.
    await until(
      async () => (await h.k(['exec', 'gc-beads-runner', '--', 'ls', '/workspace/rigs/alpha/.beads/metadata.json'])).code === 0,
      'the rig store re-initialized',
    );
  });

  it('reads go to Dolt directly when the daemon reaches it: they answer without the runner', async () => {
    const parent = await create({ title: 'direct parent', labels: ['direct'] });
    const child = await create({ title: 'direct child', parent_id: parent.id });
    const health = await h.beads(['health']);
    expect(health.code, health.err).toBe(0);
    // The local cluster routes ClusterIPs to the host; where the daemon cannot reach Dolt this fails.
    expect(/dolt \S+ answers/.test(health.err), `the daemon does not reach Dolt directly here: ${health.err}`).toBe(true);
    expect((await h.k(['delete', 'pod', 'gc-beads-runner', '--wait=true'])).code).toBe(0);
    expect(await get(child.id)).toMatchObject({ title: 'direct child', parent_id: parent.id });
    expect((await list(['children', parent.id])).map((b) => b.id)).toEqual([child.id]);
    expect((await list(['list-by-label', 'direct'])).map((b) => b.id)).toEqual([parent.id]);
    expect((await list(['ready'])).map((b) => b.id)).toEqual(expect.arrayContaining([parent.id, child.id]));
    expect((await list(['list'])).map((b) => b.id)).toEqual(expect.arrayContaining([parent.id, child.id]));
    const runner = await h.k(['get', 'pod', 'gc-beads-runner', '-o', 'name']);
    expect(runner.code === 0, 'the runner was brought back by a read').toBe(false);
  });

  it('the Dolt pod deleted: the StatefulSet brings it back with its PVC, data intact', async () => {
    const before = await create({ title: 'survives dolt restart', metadata: { keep: 'me' } });
    expect((await h.k(['delete', 'pod', 'dolt-0', '--wait=true'])).code).toBe(0);
    await h.doltReady();
    let got: Bead | undefined;
    await until(
      async () => {
        const r = await h.beads(['get', before.id]);
        if (r.code === 0) got = JSON.parse(r.out) as Bead;
        return r.code === 0;
      },
      'get after dolt restart',
      100,
    );
    expect(got).toEqual(before);
  });

  it('8 concurrent writers: no lost update', async () => {
    const target = await create({ title: 'contended' });
    const writers = Array.from({ length: 8 }, (_, i) => i);
    const results = await Promise.all(writers.map((i) => h.beads(['set-metadata', target.id, `w${i}`], `v${i}`)));
    expect(results.map((r) => r.code)).toEqual(writers.map(() => 0));
    const created = await Promise.all(
      writers.map((i) => h.beads(['create'], JSON.stringify({ title: `par-${i}`, labels: ['batch:par'] }))),
    );
    expect(created.map((r) => r.code)).toEqual(writers.map(() => 0));
    const meta = (await get(target.id)).metadata ?? {};
    for (const i of writers) expect(meta[`w${i}`]).toBe(`v${i}`);
    expect((await list(['list-by-label', 'batch:par', '0'])).map((b) => b.title).sort()).toEqual(writers.map((i) => `par-${i}`));
  });

  it('Dolt unreachable: health fails with the cause, ops fail fast, recover brings things back', async () => {
    const kept = await create({ title: 'made before dolt goes down' });
    expect((await h.k(['scale', 'statefulset/dolt', '--replicas=0'])).code).toBe(0);
    await until(async () => (await h.k(['get', 'pod', 'dolt-0'])).code !== 0, 'dolt-0 gone');
    const health = await h.beads(['health']);
    expect(health.code).toBe(1);
    expect(health.err).toMatch(/unhealthy: .*dolt/i);
    const op = await h.beads(['list'], '', { GC_K8S_OP_TIMEOUT: '20s' });
    expect(op.code).toBe(1);
    expect(op.err).toMatch(/bd list|dolt|connect|deadline/i);
    // writes too (gc-bd-serve hands them to bd, whose error names the cause), and nothing is made
    const write = await h.beads(['create'], '{"title":"while dolt is down"}');
    expect(write.code).toBe(1);
    expect(write.err).toMatch(/bd create: .*(dolt|connect|refused)/i);
    const upd = await h.beads(['update', kept.id], '{"title":"while dolt is down"}');
    expect(upd.code).toBe(1);
    expect(upd.err).toMatch(/bd (update|show): .*(dolt|connect|refused)/i);
    expect((await h.k(['scale', 'statefulset/dolt', '--replicas=1'])).code).toBe(0);
    await until(async () => (await h.k(['get', 'pod', 'dolt-0'])).code === 0, 'dolt-0 back');
    await h.doltReady();
    const rec = await h.beads(['recover']);
    expect(rec, rec.err).toMatchObject({ code: 0 });
    const after = await list(['list']);
    expect(after.map((b) => b.title)).not.toContain('while dolt is down');
  });

  it('stop deletes the runner; the next op brings it back', async () => {
    expect((await h.beads(['stop'])).code).toBe(0);
    expect((await h.k(['get', 'pod', 'gc-beads-runner'])).code).not.toBe(0);
    const health = await h.beads(['health']);
    expect(health.code).toBe(1);
    expect(health.err).toMatch(/runner .* does not exist/);
    expect((await h.beads(['list'])).code).toBe(0);
  });
});
