// Kept workspaces on the real local cluster (its provisioner makes real local PVs): what an agent
// writes survives its pod (deleted out of band, stopped and started, the daemon killed in
// between); staging writes a claim once; sessions never see each other's files (claim and shared
// modes); reclaim "delete"; claims that cannot bind; and `gc-k8s workspaces` list/delete/prune.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness, until } from './harness.js';

const h = new Harness();
const CLAIM = { GC_K8S_WORKSPACE: 'claim', GC_K8S_WORKSPACE_SIZE: '64Mi' };
const SHARED = { GC_K8S_WORKSPACE: 'shared', GC_K8S_WORKSPACE_CLAIM: 'team' };
const bash = JSON.stringify({ command: 'bash' });

const ok = (argv: string[], stdin = '', extra: Record<string, string> = CLAIM): Promise<string> => h.sessionOk(argv, stdin, extra);
/** a command in the session's agent container (gc 1.x's exec op) */
const inAgent = (name: string, cmd: string, extra: Record<string, string> = CLAIM) => ok(['exec', name], cmd, extra);
const claimUid = async (claim: string) => (await h.k(['get', 'pvc', claim, '-o', 'jsonpath={.metadata.uid}'])).out;
const claimExists = async (claim: string) => (await h.k(['get', 'pvc', claim, '--ignore-not-found', '-o', 'name'])).out.trim() !== '';
const cli = (argv: string[], extra: Record<string, string> = CLAIM) => h.script('gc-k8s', ['workspaces', ...argv], '', extra);

/** pgrep itself, not through sh: a shell running it has the pattern in its own command line */
function killDaemon(): void {
  const pid =
    spawnSync('pgrep', ['-f', `serve --socket ${h.socket}`], { encoding: 'utf8' })
      .stdout.trim()
      .split('\n')[0] ?? '';
  expect(pid).toMatch(/^\d+$/);
  process.kill(Number(pid), 'SIGKILL');
}

beforeAll(async () => {
  await h.setup();
  // the shared claim a platform team would provide (one node here, so ReadWriteOnce serves every session)
  const team = {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: 'team' },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '64Mi' } } },
  };
  const made = await h.run(h.kubectl, ['-n', h.namespace, 'create', '-f', '-'], JSON.stringify(team));
  expect(made, made.err).toMatchObject({ code: 0 });
});
afterAll(async () => {
  await h.teardown();
});

describe('a claim workspace', () => {
  it('keeps what the agent wrote across a pod deleted out of band, a stop and start, and a daemon killed in between', async () => {
    await ok(['start', 'keep'], bash);
    const uid = await claimUid('ws-keep');
    expect(uid).not.toBe('');
    // written by the non-root agent into its claim
    expect(await inAgent('keep', 'id -u; echo one > /workspace/note && cat /workspace/note')).toBe('1000\none\n');
    expect((await h.k(['delete', 'pod', 'keep', '--wait=true'])).code).toBe(0);
    await ok(['start', 'keep'], bash);
    expect(await inAgent('keep', 'cat /workspace/note')).toBe('one\n');
    await ok(['stop', 'keep']);
    expect(await claimUid('ws-keep')).toBe(uid); // stop keeps it
    killDaemon();
    await ok(['start', 'keep'], bash);
    expect(await inAgent('keep', 'cat /workspace/note')).toBe('one\n');
    expect(await claimUid('ws-keep')).toBe(uid);
  });

  it("is staged once: the agent's later change to a staged file survives the next start", async () => {
    const src = join(h.dir, 'seed.txt');
    writeFileSync(src, 'staged\n');
    const payload = JSON.stringify({ command: 'bash', copy_files: [{ src, rel_dst: 'seed.txt' }] });
    await ok(['start', 'staged'], payload);
    expect(await inAgent('staged', 'cat /workspace/seed.txt; echo changed > /workspace/seed.txt')).toBe('staged\n');
    await ok(['stop', 'staged']);
    await ok(['start', 'staged'], payload);
    expect(await inAgent('staged', 'cat /workspace/seed.txt')).toBe('changed\n');
    await ok(['stop', 'staged']);
  });

  it("two sessions never see each other's files", async () => {
    await ok(['start', 'iso-a'], bash);
    await ok(['start', 'iso-b'], bash);
    await inAgent('iso-a', 'echo a-secret > /workspace/mine');
    expect(
      await inAgent(
        'iso-b',
        'ls -A /workspace; find / \\( -path /proc -o -path /sys \\) -prune -o -name mine -print 2>/dev/null; echo done',
      ),
    ).toBe('done\n');
    await ok(['stop', 'iso-a']);
    await ok(['stop', 'iso-b']);
  });

  it('workspace_reclaim = "delete": stop leaves no claim', async () => {
    const reclaim = { ...CLAIM, GC_K8S_WORKSPACE_RECLAIM: 'delete' };
    await ok(['start', 'gone'], bash, reclaim);
    expect(await claimExists('ws-gone')).toBe(true);
    await ok(['stop', 'gone'], '', reclaim);
    await until(async () => !(await claimExists('ws-gone')), 'the claim is deleted');
  });

  it('a late-binding StorageClass (WaitForFirstConsumer) is provisioned for the node the pod lands on', async () => {
    const late = { ...CLAIM, GC_K8S_WORKSPACE_STORAGE_CLASS: 'standard-wffc' };
    await ok(['start', 'late'], bash, late);
    expect(await inAgent('late', 'echo ok > /workspace/f && cat /workspace/f', late)).toBe('ok\n');
    const node = (await h.k(['get', 'pod', 'late', '-o', 'jsonpath={.spec.nodeName}'])).out;
    const rows = JSON.parse((await cli(['list', '--json'], late)).out) as { claim: string; node: string; storageClass: string }[];
    expect(rows.find((r) => r.claim === 'ws-late')).toMatchObject({ node, storageClass: 'standard-wffc' });
    await ok(['stop', 'late'], '', late);
  });

  it('a claim that never binds (no such StorageClass) fails the start naming the class, leaving no claim and no pod', async () => {
    const r = await h.session(['start', 'nobind'], bash, { ...CLAIM, GC_K8S_WORKSPACE_STORAGE_CLASS: 'no-such-class' });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/workspace claim ws-nobind cannot be provisioned: ProvisioningFailed: .*"no-such-class" not found/);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    await until(async () => !(await claimExists('ws-nobind')), 'the claim is deleted');
    expect((await h.k(['get', 'pod', 'nobind', '--ignore-not-found', '-o', 'name'])).out).toBe('');
  });
});

describe('a shared workspace', () => {
  it('gives each session its own subdirectory of the shared claim, writable by the non-root agent and kept across starts', async () => {
    await ok(['start', 'sh-a'], bash, SHARED);
    await ok(['start', 'sh-b'], bash, SHARED);
    expect(await inAgent('sh-a', 'id -u; echo a > /workspace/a; ls -A /workspace', SHARED)).toBe('1000\na\n');
    expect(await inAgent('sh-b', 'echo b > /workspace/b; ls -A /workspace', SHARED)).toBe('b\n');
    await ok(['stop', 'sh-a'], '', SHARED);
    await ok(['start', 'sh-a'], bash, SHARED);
    expect(await inAgent('sh-a', 'cat /workspace/a', SHARED)).toBe('a\n');
    await ok(['stop', 'sh-a'], '', SHARED);
    await ok(['stop', 'sh-b'], '', SHARED);
    expect(await claimExists('team')).toBe(true); // the shared claim is never ours to delete
  });

  it('a shared claim that does not exist is a clear error, and nothing is made', async () => {
    const r = await h.session(['start', 'sh-none'], bash, { ...SHARED, GC_K8S_WORKSPACE_CLAIM: 'nope' });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/the shared workspace claim "nope" does not exist in namespace gct-/);
    expect((await h.k(['get', 'pod', 'sh-none', '--ignore-not-found', '-o', 'name'])).out).toBe('');
  });
});

describe('gc-k8s workspaces', () => {
  it('lists kept workspaces with their session and user; delete refuses a mounted one; prune removes only unused ones', async () => {
    await ok(['start', 'keep'], bash).catch(() => undefined); // running from the first test
    const list = await cli(['list', '--json']);
    expect(list, list.err).toMatchObject({ code: 0 });
    const rows = JSON.parse(list.out) as { session: string; claim: string; size: string; usedBy: string[]; node: string }[];
    expect(rows.find((r) => r.session === 'keep')).toMatchObject({ claim: 'ws-keep', size: '64Mi', usedBy: ['keep'] });
    expect(rows.find((r) => r.session === 'staged')).toMatchObject({ claim: 'ws-staged', usedBy: [] });
    expect(rows.some((r) => r.claim === 'team')).toBe(false); // not ours
    const human = await cli(['list']);
    expect(human.out).toMatch(/^SESSION\s+CLAIM\s+SIZE/);

    const refused = await cli(['delete', 'keep']);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/the workspace of session "keep" is mounted by pod keep: stop the session first/);
    expect(await claimExists('ws-keep')).toBe(true);

    // prune: "staged" and "iso-a" unused for long (their last use set back), "keep" too but mounted
    for (const c of ['ws-staged', 'ws-iso-a', 'ws-keep'])
      expect((await h.k(['annotate', '--overwrite', 'pvc', c, 'gc-k8s.io/last-used=2020-01-01T00:00:00Z'])).code).toBe(0);
    const pruned = await cli(['prune', '--unused-for', '24h', '--json']);
    expect(pruned, pruned.err).toMatchObject({ code: 0 });
    expect((JSON.parse(pruned.out) as { deleted: { claim: string }[] }).deleted.map((d) => d.claim).sort()).toEqual([
      'ws-iso-a',
      'ws-staged',
    ]);
    await until(async () => !(await claimExists('ws-staged')), 'pruned claim deleted');
    expect(await claimExists('ws-iso-b')).toBe(true); // used recently
    expect(await claimExists('ws-keep')).toBe(true); // mounted

    await ok(['stop', 'keep']);
    const deleted = await cli(['delete', 'keep']);
    expect(deleted, deleted.err).toMatchObject({ code: 0 });
    await until(async () => !(await claimExists('ws-keep')), 'deleted claim gone');
  });

  it('bad input changes nothing: unknown subcommand, bad duration, unknown session', async () => {
    expect((await cli(['frobnicate'])).code).toBe(2);
    const dur = await cli(['prune', '--unused-for', 'soon']);
    expect(dur.code).toBe(1);
    expect(dur.err).toMatch(/--unused-for: expected a duration/);
    const none = await cli(['delete', 'no-such-session']);
    expect(none.code).toBe(1);
    expect(none.err).toMatch(/session "no-such-session" has no kept workspace/);
    expect(await claimExists('ws-iso-b')).toBe(true);
  });
});
