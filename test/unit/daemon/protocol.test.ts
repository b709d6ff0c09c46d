// The daemon and the exec-provider client, in process, over a real Unix socket.
import { chmodSync, mkdirSync, statSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { PassThrough, Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runExecProvider } from '../../../src/client/exec-provider.js';
import { runDaemon, type RunningDaemon } from '../../../src/daemon/compose.js';
import { silentLogger } from '../../../src/log/logger.js';
import { FakeCluster } from '../../fakes/fake-cluster.js';

let dir: string;
let socket: string;
let daemon: RunningDaemon;
let fake: FakeCluster;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gck8s-proto-'));
  socket = join(dir, 'run', 'd.sock');
  fake = new FakeCluster();
  daemon = await runDaemon({
    socket,
    log: silentLogger(),
    version: 'test',
    clusterClient: () => Promise.resolve({ forNamespace: () => fake, close: () => Promise.resolve() }),
  });
});

afterEach(async () => {
  daemon.shutdown('test end');
  await daemon.closed;
  rmSync(dir, { recursive: true, force: true });
});

async function script(provider: 'session' | 'events' | 'beads', argv: string[], stdin = '', env: Record<string, string> = {}) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await runExecProvider(provider, {
    argv,
    env: { GC_K8S_SOCKET: socket, GC_K8S_NO_AUTOSTART: '1', GC_K8S_IMAGE: 'gc-agent:test', GC_K8S_SETTLE: '0', HOME: dir, ...env },
    cwd: dir,
    stdin: Readable.from([stdin]),
    stdout,
    stderr,
  });
  return { code, out, err };
}

describe('exec session protocol through the daemon', () => {
  it('answers the 1.x handshake in the client (no daemon needed) and refuses arguments', async () => {
    expect(await script('session', ['protocol'], '', { GC_K8S_SOCKET: join(dir, 'nobody-here.sock') })).toEqual({
      code: 0,
      out: '{"version":0,"capabilities":["proc.exec","proc.provision","report-activity","report-attachment"]}\n',
      err: '',
    });
    expect(await script('session', ['protocol', 'x'])).toMatchObject({ code: 1, err: 'gc-session-k8s protocol: takes no arguments\n' });
  });

  it('serves the socket to its owner only', () => {
    expect(statSync(socket).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'run')).mode & 0o777).toBe(0o700);
  });

  it('leaves an existing directory it was given alone (the socket file is what is private)', async () => {
    const shared = join(dir, 'shared');
    mkdirSync(shared, { mode: 0o755 });
    chmodSync(shared, 0o1777);
    const other = await runDaemon({
      socket: join(shared, 'x.sock'),
      log: silentLogger(),
      version: 'test',
      clusterClient: () => Promise.reject(new Error('unused')),
    });
    try {
      expect(statSync(shared).mode & 0o7777).toBe(0o1777);
      expect(statSync(join(shared, 'x.sock')).mode & 0o777).toBe(0o600);
    } finally {
      other.shutdown('test');
      await other.closed;
    }
  });

  it('runs a session end to end: start, is-running, nudge, peek, meta, list-running, stop', async () => {
    expect(await script('session', ['start', 'mayor'], JSON.stringify({ command: 'agent' }))).toMatchObject({ code: 0 });
    expect(await script('session', ['is-running', 'mayor'])).toMatchObject({ code: 0, out: 'true' });
    expect(await script('session', ['nudge', 'mayor'], 'hello')).toMatchObject({ code: 0 });
    expect((await script('session', ['peek', 'mayor', '10'])).out).toMatch(/^hello\n?$/);
    expect((await script('session', ['set-meta', 'mayor', 'K'], 'v=1\nx')).code).toBe(0);
    expect(await script('session', ['get-meta', 'mayor', 'K'])).toMatchObject({ code: 0, out: 'v=1\nx' });
    expect(await script('session', ['list-running', 'ma'])).toMatchObject({ code: 0, out: 'mayor\n' });
    expect(await script('session', ['process-alive', 'mayor'], '')).toMatchObject({ code: 0, out: 'true' });
    expect(await script('session', ['stop', 'mayor'])).toMatchObject({ code: 0 });
    expect(await script('session', ['is-running', 'mayor'])).toMatchObject({ code: 0, out: 'false' });
  });

  it('answers a duplicate start with the "already exists" wording on stderr, exit 1', async () => {
    await script('session', ['start', 'x'], '{}');
    const r = await script('session', ['start', 'x'], '{}');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/already exists/);
  });

  it('exits 2 for unknown ops (gc treats that as success) and 1 with one line for missing arguments', async () => {
    expect((await script('session', ['check-image', 'img'])).code).toBe(2);
    expect((await script('session', ['no-such-op'])).code).toBe(2);
    const missing = await script('session', ['peek']);
    expect(missing.code).toBe(1);
    expect(missing.err).toBe('peek: missing session name\n');
    expect((await script('session', ['get-meta', 'x'])).err).toBe('get-meta: missing meta key\n');
  });

  it('rejects invalid start JSON with exit 1 and creates nothing', async () => {
    const r = await script('session', ['start', 'y'], '{"env": ');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^start: invalid JSON on stdin/);
    expect(fake.calls).toEqual([]);
  });

  it('fails start clearly when no image is configured', async () => {
    const r = await script('session', ['start', 'z'], '{}', { GC_K8S_IMAGE: '' });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/GC_K8S_IMAGE is required/);
  });

  it('reports an invalid configuration value naming the variable', async () => {
    const r = await script('session', ['is-running', 'z'], '', { GC_K8S_CPU_LIMIT: 'many' });
    expect(r).toMatchObject({ code: 1 });
    expect(r.err).toMatch(/invalid GC_K8S_CPU_LIMIT/);
  });

  it('handles names with slashes, dots, unicode and 200 characters', async () => {
    for (const name of ['rig/coder.v2', 'ünï-🙂', 'n'.repeat(200)]) {
      expect((await script('session', ['start', name], '{}')).code).toBe(0);
      expect((await script('session', ['is-running', name])).out).toBe('true');
    }
    expect((await script('session', ['list-running', ''])).out.split('\n').filter(Boolean)).toHaveLength(3);
  });

  it('keeps a request id handed over by the native client (GC_K8S_RID) and does not forward it as env', async () => {
    const sock = join(dir, 'rid.sock');
    const seen: { rid?: string; env?: Record<string, string> }[] = [];
    const srv = createServer((c) => {
      let buf = '';
      c.on('data', (d: Buffer) => {
        buf += d.toString();
        if (!buf.includes('\n')) return;
        seen.push(JSON.parse(buf) as (typeof seen)[number]);
        c.end('{"t":"end","exit":0}\n');
      });
    });
    await new Promise<void>((resolve) => srv.listen(sock, resolve));
    try {
      expect(await script('events', ['record'], '{"type":"t"}', { GC_K8S_SOCKET: sock, GC_K8S_RID: 'rid-from-native' })).toMatchObject({
        code: 0,
      });
      expect(await script('events', ['record'], '{"type":"t"}', { GC_K8S_SOCKET: sock })).toMatchObject({ code: 0 });
      expect(seen[0]!.rid).toBe('rid-from-native');
      expect(seen[0]!.env).not.toHaveProperty('GC_K8S_RID');
      expect(seen[1]!.rid).toMatch(/^[0-9a-f-]{36}$/);
    } finally {
      srv.close();
    }
  });

  it('says clearly when the daemon is unreachable', async () => {
    const r = await script('session', ['is-running', 'x'], '', { GC_K8S_SOCKET: join(dir, 'nope.sock') });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^gc-session-k8s is-running: cannot reach the gc-k8s daemon at .*nope\.sock: ENOENT\n$/);
  });
});
