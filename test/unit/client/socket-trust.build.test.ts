// The scripts send their environment (GC_DOLT_PASSWORD among it) to whatever answers on the
// daemon's socket. A socket another local user could have put there is refused before anything
// is sent, by both clients; the native one also refuses a peer running as another user.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runExecProvider } from '../../../src/client/exec-provider.js';
import { runDaemon } from '../../../src/daemon/compose.js';
import { silentLogger } from '../../../src/log/logger.js';
import { socketPath } from '../../../src/protocol/socket-path.js';

const ROOT = new URL('../../..', import.meta.url).pathname;
const OTHER = 54321; // a uid that is not ours (tests run as root, which may chown)
let dir: string;
let client: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gck8s-trust-'));
  chmodSync(dir, 0o755);
  client = join(dir, 'gc-k8s-client');
  const sources = readdirSync(join(ROOT, 'native'))
    .filter((f) => f.endsWith('.c'))
    .map((f) => join(ROOT, 'native', f));
  const cc = spawnSync(process.env['CC'] ?? 'cc', ['-O2', '-std=c11', '-o', client, ...sources], { encoding: 'utf8' });
  if (cc.status !== 0) throw new Error(`the native client needs a C compiler: ${cc.stderr}`);
  chmodSync(client, 0o755);
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A listener that records whether anything was sent to it. */
async function listener(path: string): Promise<{ server: Server; received: () => string }> {
  let got = '';
  const server = createServer((s) => s.on('data', (d) => (got += d.toString())));
  await new Promise<void>((r) => server.listen(path, r));
  return { server, received: () => got };
}

async function nodeClient(env: Record<string, string>): Promise<{ code: number; err: string }> {
  const stderr = new PassThrough();
  let err = '';
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await runExecProvider('session', {
    argv: ['set-meta', 's', 'K'],
    env: { GC_K8S_NO_AUTOSTART: '1', GC_DOLT_PASSWORD: 'hunter2', ...env },
    cwd: dir,
    stdin: Readable.from(['v']),
    stdout: new PassThrough(),
    stderr,
  });
  return { code, err };
}

function nativeClient(env: Record<string, string>, asUid?: number): Promise<{ code: number | null; err: string }> {
  const cmd = asUid === undefined ? [client] : ['setpriv', `--reuid=${asUid}`, `--regid=${asUid}`, '--clear-groups', client];
  return new Promise((resolve) => {
    const child = spawn(cmd[0]!, [...cmd.slice(1), 'session', 'set-meta', 's', 'K'], {
      env: { PATH: process.env['PATH'] ?? '', GC_DOLT_PASSWORD: 'hunter2', ...env },
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => {
      resolve({ code, err });
    });
    child.stdin.on('error', () => undefined); // refused before it reads stdin
    child.stdin.end('v');
  });
}

describe('socket trust', () => {
  it('a socket that belongs to another user is refused by both clients, and nothing is sent', async () => {
    const d = join(dir, 'sticky');
    mkdirSync(d);
    chmodSync(d, 0o1777); // like /tmp: anyone may create, nobody may replace another's file
    const path = join(d, 'fake.sock');
    const fake = await listener(path);
    chownSync(path, OTHER, OTHER);
    try {
      const node = await nodeClient({ GC_K8S_SOCKET: path });
      expect(node.code).toBe(1);
      expect(node.err).toMatch(/refusing the gc-k8s socket .*fake\.sock: it belongs to uid 54321, not you \(uid 0\)/);
      const native = await nativeClient({ GC_K8S_SOCKET: path });
      expect(native.code).toBe(1);
      expect(native.err).toMatch(/refusing the gc-k8s socket .*fake\.sock: it belongs to uid 54321, not you \(uid 0\)/);
      expect(fake.received()).toBe('');
    } finally {
      fake.server.close();
    }
  });

  it('a socket in a directory others can write to (and not sticky) is refused', async () => {
    const d = join(dir, 'open');
    mkdirSync(d);
    chmodSync(d, 0o777);
    const path = join(d, 'd.sock');
    const fake = await listener(path);
    try {
      expect((await nodeClient({ GC_K8S_SOCKET: path })).err).toMatch(/its directory .*open is writable by others \(mode 777\)/);
      expect((await nativeClient({ GC_K8S_SOCKET: path })).err).toMatch(/its directory .*open is writable by others \(mode 777\)/);
      expect(fake.received()).toBe('');
    } finally {
      fake.server.close();
    }
  });

  it('the native client refuses a peer running as another user even when the file checks pass (SO_PEERCRED)', async () => {
    // the client runs as OTHER; the directory and the socket file are OTHER's; the listener is root
    const d = join(dir, 'peer');
    mkdirSync(d, { mode: 0o700 });
    chownSync(d, OTHER, OTHER);
    const path = join(d, 'p.sock');
    const fake = await listener(path);
    chownSync(path, OTHER, OTHER);
    try {
      const r = await nativeClient({ GC_K8S_SOCKET: path, HOME: d }, OTHER);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/refusing the gc-k8s socket: the process answering on it runs as uid 0, not you \(uid 54321\)/);
      expect(fake.received()).toBe('');
    } finally {
      fake.server.close();
    }
  });

  it('an overlong socket path is an error naming the limit, not a silent truncation', async () => {
    const long = join(dir, 'x'.repeat(120), 'd.sock');
    expect((await nodeClient({ GC_K8S_SOCKET: long })).err).toMatch(/socket path is \d+ bytes; Unix sockets take at most 107/);
    expect((await nativeClient({ GC_K8S_SOCKET: long })).err).toMatch(/socket path is \d+ bytes; Unix sockets take at most 107/);
  });

  it('without HOME or XDG_RUNTIME_DIR the socket lives in a private per-user directory, never a shared one', () => {
    expect(socketPath({})).toMatch(/^\/tmp\/gc-k8s-0\/daemon-[0-9a-f]{10}\.sock$/);
  });

  it('the daemon makes its own state directory private whoever created it, and refuses one of another user', async () => {
    const state = join(dir, 'state');
    mkdirSync(state, { mode: 0o755 });
    chmodSync(state, 0o755);
    const d = await runDaemon({
      socket: join(state, 'd.sock'),
      log: silentLogger(),
      version: 't',
      clusterClient: () => Promise.reject(new Error('unused')),
      privateSocketDir: true,
      citiesFile: '',
    });
    d.shutdown('test');
    await d.closed;
    expect(statSync(state).mode & 0o777).toBe(0o700);
    const theirs = join(dir, 'theirs');
    mkdirSync(theirs, { mode: 0o755 });
    chownSync(theirs, OTHER, OTHER);
    await expect(
      runDaemon({
        socket: join(theirs, 'd.sock'),
        log: silentLogger(),
        version: 't',
        clusterClient: () => Promise.reject(new Error('unused')),
        citiesFile: '',
      }),
    ).rejects.toThrow(/cannot serve .*theirs\/d\.sock: its directory .* belongs to uid 54321/);
  });
});
