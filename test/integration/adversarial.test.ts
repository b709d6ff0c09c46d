// The hostile and unlucky cases a review found, re-run against the real cluster through the real
// scripts: tmux command injection, tricky meta values, oversized input, arguments that do not
// parse, a wrong image, a session named like another's hashed pod, symlinks out of a copied tree,
// a huge peek, and a daemon killed in the middle of a start.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { podNameFor } from '../../src/session/names.js';
import { Harness } from './harness.js';

const h = new Harness();
const name = 'adv';
const payload = (extra: object = {}) => JSON.stringify({ command: 'bash', work_dir: '/tmp', ...extra });
const inPod = async (session: string, script: string) =>
  (await h.k(['exec', podNameFor(session), '-c', 'agent', '--', 'sh', '-c', script])).out;

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`gave up waiting for ${what}`);
}

const daemonPids = (): number[] =>
  spawnSync('pgrep', ['-f', `serve --socket ${h.socket}`], { encoding: 'utf8' })
    .stdout.trim()
    .split(/\s+/)
    .filter(Boolean)
    .map(Number);

beforeAll(async () => {
  await h.setup();
  expect((await h.session(['start', name], payload())).code).toBe(0);
});
afterAll(async () => {
  await h.teardown();
});

describe('user data never becomes a tmux or shell command', () => {
  it("send-keys ';' run-shell … types keys and runs nothing; ';' kill-server does not end the session", async () => {
    expect((await h.session(['send-keys', name, 'echo', 'Space', 'typed', ';', 'run-shell', 'touch /tmp/pwned'])).code).toBe(0);
    expect((await h.session(['send-keys', name, ';', 'kill-server'])).code).toBe(0);
    expect((await h.session(['send-keys', name, 'abc;', '-X', 'cancel'])).code).toBe(0);
    expect(await inPod(name, 'test -e /tmp/pwned && echo PWNED || echo clean')).toBe('clean\n');
    expect((await h.session(['is-running', name])).out).toBe('true');
    expect((await h.session(['send-keys', name, 'C-u'])).code).toBe(0); // clear the typed line
  });

  it('meta values and keys ending in ; round-trip exactly', async () => {
    for (const value of ['abc;', ';', 'a\\;', '-u', '--', 'x y;']) {
      expect((await h.session(['set-meta', name, 'K'], value)).code).toBe(0);
      expect((await h.session(['get-meta', name, 'K'])).out).toBe(value);
    }
    expect((await h.session(['set-meta', name, 'KEY;'], 'v')).code).toBe(0);
    expect((await h.session(['get-meta', name, 'KEY;'])).out).toBe('v');
  });
});

describe('oversized and malformed input', () => {
  it('a 17 KB meta value is refused with the limit named, and neither stderr nor the daemon log echoes it', async () => {
    const value = `${'v'.repeat(17_000)}SENTINEL-META`;
    const r = await h.session(['set-meta', name, 'BIG'], value);
    expect(r.code).toBe(1);
    expect(r.err).toBe('set-meta: input is 17013 bytes; set-meta accepts at most 16000 bytes\n');
    expect(readFileSync(join(h.dir, 'daemon.log'), 'utf8')).not.toContain('SENTINEL-META');
  });

  it('a 32 MiB nudge is refused before it is sent, and other calls are not slowed by it', async () => {
    const huge = 'x'.repeat(32 * 1024 * 1024);
    const [big, probe] = await Promise.all([h.session(['nudge', name], huge), h.session(['is-running', name])]);
    expect(big).toMatchObject({ code: 1, err: 'nudge: input is 33554432 bytes; nudge accepts at most 4 MiB\n' });
    expect(probe.out).toBe('true');
  });

  it('arguments that do not parse fail before any I/O, naming the cause', async () => {
    const broken = { KUBECONFIG: join(h.dir, 'no-such-kubeconfig'), GC_K8S_SOCKET: join(h.dir, 'broken.sock') };
    expect(await h.session(['set-meta', name], '', broken)).toMatchObject({ code: 1, err: 'set-meta: missing meta key\n' });
    expect(await h.script('gc-events-k8s', ['watch', 'abc'], '', broken)).toMatchObject({
      code: 1,
      err: 'watch: afterSeq must be a non-negative integer, got "abc"\n',
    });
    expect(await h.script('gc-beads-k8s', ['update'], '', broken)).toMatchObject({ code: 1, err: 'update: missing bead id\n' });
    await h.script('gc-k8s', ['stop-daemon'], '', broken);
  });

  it("peek of a huge N returns the whole history (kept past tmux's 2000 lines), never less than peek 1", async () => {
    expect(await h.session(['nudge', name], 'seq 1 5000')).toMatchObject({ code: 0 });
    await until(async () => (await h.session(['peek', name, '3'])).out.includes('\n5000\n'), 'seq output');
    const all = (await h.session(['peek', name, '99999999999999999999'])).out;
    expect(all).toContain('\n1\n');
    expect(all.split('\n').length).toBeGreaterThan(5000);
    expect((await h.session(['peek', name, '1'])).out.length).toBeLessThan(all.length);
  });
});

describe('starts that used to go wrong', () => {
  it('a wrong image fails at the first pull error with its cause, and leaves no pod', async () => {
    const r = await h.session(['start', 'adv-badimage'], payload(), {
      GC_K8S_IMAGE: 'registry.invalid/no/such-image:1',
      GC_K8S_IMAGE_PULL_POLICY: 'Always',
    });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/ErrImagePull/);
    expect(r.err).not.toMatch(/ImagePullBackOff \(Back-off/);
    expect((await h.k(['get', 'pod', podNameFor('adv-badimage')])).code).not.toBe(0);
  });

  it("a session named like another session's hashed pod starts beside it", async () => {
    expect((await h.session(['start', 'lk/b'], payload())).code).toBe(0);
    const lookalike = podNameFor('lk/b');
    const r = await h.session(['start', lookalike], payload());
    expect(r, r.err).toMatchObject({ code: 0 });
    expect((await h.session(['list-running', 'lk'])).out).toBe(`${lookalike}\nlk/b\n`);
    for (const s of ['lk/b', lookalike]) expect((await h.session(['stop', s])).code).toBe(0);
  });

  it('copy-to copies symlinks as links: nothing outside the source reaches the pod, a self loop is one link', async () => {
    const src = join(h.dir, 'tree');
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, 'file.txt'), 'inside');
    const secrets = join(h.dir, 'secrets');
    mkdirSync(secrets, { recursive: true });
    writeFileSync(join(secrets, 'id_rsa'), 'PRIVATE-KEY-MATERIAL');
    symlinkSync(secrets, join(src, 'ssh'));
    symlinkSync('.', join(src, 'self'));
    expect((await h.session(['copy-to', name, src, 'tree'])).code).toBe(0);
    expect(
      await inPod(name, 'cat /workspace/tree/file.txt; readlink /workspace/tree/self; grep -r PRIVATE-KEY /workspace 2>/dev/null | wc -l'),
    ).toBe('inside.\n0\n');
  });

  it('kill -9 of the daemon in the middle of a start: the client retries with the same request, a new daemon finishes it, the nudge arrives once', async () => {
    const started = h.session(['start', 'adv-crash'], payload({ pre_start: ['sleep 4'], nudge: 'echo nudged-$((6*7))' }), {
      GC_K8S_CLIENT: 'node',
    });
    await until(async () => (await h.k(['get', 'pod', podNameFor('adv-crash')])).code === 0, 'the pod to exist');
    for (const pid of daemonPids()) process.kill(pid, 'SIGKILL');
    const r = await started;
    expect(r, r.err).toMatchObject({ code: 0 });
    expect(r.err).toMatch(/the daemon went away during start; retrying/);
    await until(async () => (await h.session(['peek', 'adv-crash', '5'])).out.includes('nudged-42'), 'the nudge');
    expect((await h.session(['peek', 'adv-crash', '0'])).out.match(/nudged-42/g)).toHaveLength(1); // typed once (the typed line shows $((6*7)))
    const annotations = JSON.parse(
      (await h.k(['get', 'pod', podNameFor('adv-crash'), '-o', 'jsonpath={.metadata.annotations}'])).out,
    ) as Record<string, string>;
    expect(annotations['gc-k8s.io/start-pending']).toBeUndefined();
  });

  it('a start whose daemon died, retried by gc as a new call, replaces the unfinished pod instead of answering "already exists"', async () => {
    const started = h.session(['start', 'adv-orphan'], payload({ pre_start: ['sleep 6'] }), {
      GC_K8S_CLIENT: 'node',
      GC_K8S_NO_AUTOSTART: '1',
    });
    await until(async () => (await h.k(['get', 'pod', podNameFor('adv-orphan')])).code === 0, 'the pod to exist');
    for (const pid of daemonPids()) process.kill(pid, 'SIGKILL');
    expect((await started).code).toBe(1); // no daemon to retry with: gc sees a failed start
    const retry = await h.session(['start', 'adv-orphan'], payload());
    expect(retry, retry.err).toMatchObject({ code: 0 });
    expect((await h.session(['is-running', 'adv-orphan'])).out).toBe('true');
  });

  it('a pod of a start nobody finishes is swept away by the next daemon', async () => {
    const env = { GC_K8S_CLIENT: 'node', GC_K8S_NO_AUTOSTART: '1' };
    const started = h.session(['start', 'adv-abandoned'], payload({ pre_start: ['sleep 600'] }), env);
    await until(async () => (await h.k(['get', 'pod', podNameFor('adv-abandoned')])).code === 0, 'the pod to exist');
    for (const pid of daemonPids()) process.kill(pid, 'SIGKILL');
    expect((await started).code).toBe(1);
    // a new daemon that considers starts abandoned after 10 s sweeps it (no gc retry ever comes)
    expect((await h.session(['is-running', 'adv-abandoned'], '', { GC_K8S_ABANDONED_START_AGE: '10s' })).out).toBe('false');
    for (let i = 0; i < 60 && (await h.k(['get', 'pod', podNameFor('adv-abandoned')])).code === 0; i++)
      await new Promise((r) => setTimeout(r, 1000));
    expect((await h.k(['get', 'pod', podNameFor('adv-abandoned')])).code).not.toBe(0);
    expect(readFileSync(join(h.dir, 'daemon.log'), 'utf8')).toMatch(/removing the pod of a start nobody finished/);
  });
});
