// The native fast-path client (native/*.c), compiled here and run as gc runs the scripts: against
// a scripted daemon for the wire details, and against the real daemon (on a fake cluster) for
// the round trip. Its Node fallback is replaced by a recorder that prints what it was handed.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RETRY_SAFE, STDIN_OPS } from '../../../src/client/exec-provider.js';
import { handshakeJson, OPS } from '../../../src/protocol/ops/index.js';
import { socketPath } from '../../../src/protocol/socket-path.js';
import { runDaemon } from '../../../src/daemon/compose.js';
import { silentLogger } from '../../../src/log/logger.js';
import { FakeCluster } from '../../fakes/fake-cluster.js';

const ROOT = new URL('../../..', import.meta.url).pathname;
let dir: string;
let client: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gck8s-native-'));
  client = join(dir, 'dist', 'native', 'gc-k8s-client');
  mkdirSync(join(dir, 'dist', 'native'), { recursive: true });
  mkdirSync(join(dir, 'bin'));
  const sources = readdirSync(join(ROOT, 'native'))
    .filter((f) => f.endsWith('.c'))
    .map((f) => join(ROOT, 'native', f));
  const cc = spawnSync(
    process.env['CC'] ?? 'cc',
    ['-O2', '-std=c11', '-Wall', '-Wextra', '-Werror', '-Wshadow', '-Wconversion', '-o', client, ...sources],
    { encoding: 'utf8' },
  );
  if (cc.error !== undefined || cc.status !== 0)
    throw new Error(`the native client needs a C compiler (apt install gcc): ${cc.error?.message ?? cc.stderr}`);
  // the "Node client" the native one falls back to: records argv, stdin and the handed-over rid
  writeFileSync(
    join(dir, 'bin', 'gc-provider-k8s.js'),
    `let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{process.stdout.write(JSON.stringify({fallback:process.argv[2],argv:process.argv.slice(3),stdin:s,rid:process.env.GC_K8S_RID??null}));process.exit(7);});`,
  );
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  out: string;
  err: string;
}

function run(args: string[], env: Record<string, string>, stdin: string | Buffer = ''): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(client, args, { env: { PATH: process.env['PATH'] ?? '', ...env }, cwd: dir });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => {
      resolve({ code, out, err });
    });
    child.stdin.on('error', () => undefined); // a client that never reads stdin
    child.stdin.end(stdin);
  });
}

/** A daemon that records each request line and answers with `reply` (or drops the connection). */
let server: Server | undefined;
const requests: Record<string, unknown>[] = [];
function scripted(socket: string, reply: (req: Record<string, unknown>, conn: Socket) => void): Promise<void> {
  mkdirSync(join(socket, '..'), { recursive: true });
  server = createServer((conn) => {
    let buf = '';
    conn.on('data', (d) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      const req = JSON.parse(buf.slice(0, nl)) as Record<string, unknown>;
      requests.push(req);
      reply(req, conn);
    });
  });
  return new Promise((resolve) => server!.listen(socket, resolve));
}
afterEach(async () => {
  requests.length = 0;
  const open = server;
  if (open !== undefined)
    await new Promise<void>((resolve) =>
      open.close(() => {
        resolve();
      }),
    );
  server = undefined;
});

const frames = (...f: object[]) => f.map((x) => `${JSON.stringify(x)}\n`).join('');

describe('native client', () => {
  it('has the op table of src/protocol/ops.ts: stdin ops with their limits, retry-safe ops', () => {
    const tables = JSON.parse(spawnSync(client, ['--tables'], { encoding: 'utf8' }).stdout) as Record<
      string,
      { stdin: Record<string, number>; retrySafe: string[] }
    >;
    for (const p of ['session', 'events', 'beads'] as const) {
      const limits = Object.fromEntries(
        Object.entries(OPS[p])
          .filter(([, spec]) => spec.stdin !== undefined)
          .map(([op, spec]) => [op, spec.stdin]),
      );
      expect(tables[p]!.stdin).toEqual(limits);
      expect(new Set(Object.keys(tables[p]!.stdin))).toEqual(STDIN_OPS[p]);
      expect(new Set(tables[p]!.retrySafe)).toEqual(RETRY_SAFE[p]);
    }
  });

  it("answers gc 1.x's handshake itself, as the Node client does, without a daemon", async () => {
    const r = await run(['session', 'protocol'], { GC_K8S_SOCKET: join(dir, 'nobody-here.sock') });
    expect(r).toEqual({ code: 0, out: handshakeJson(), err: '' });
    expect(JSON.parse(r.out)).toEqual({
      version: 0,
      capabilities: ['proc.exec', 'proc.provision', 'report-activity', 'report-attachment'],
    });
    expect(await run(['session', 'protocol', 'extra'], {})).toMatchObject({
      code: 1,
      err: 'gc-session-k8s protocol: takes no arguments\n',
    });
  });

  it('refuses stdin over the op limit before sending anything, with the limit named (as the Node client does)', async () => {
    const socket = join(dir, 'limits.sock');
    let connections = 0;
    let received = '';
    const server = createServer((s) => {
      connections++;
      s.on('data', (d) => (received += d.toString()));
    });
    await new Promise<void>((r) => server.listen(socket, r));
    try {
      const huge = Buffer.alloc(5 * 1024 * 1024 + 5, 0x78);
      const r = await run(['session', 'nudge', 's'], { GC_K8S_SOCKET: socket }, huge);
      expect(r).toMatchObject({ code: 1, err: 'nudge: input is 5242885 bytes; nudge accepts at most 4 MiB\n' });
      const r2 = await run(['session', 'set-meta', 's', 'K'], { GC_K8S_SOCKET: socket }, Buffer.alloc(200_000, 0x79));
      expect(r2).toMatchObject({ code: 1, err: 'set-meta: input is more than 160000 bytes; set-meta accepts at most 16000 bytes\n' });
      expect(received).toBe(''); // connected (the daemon answers), but nothing was sent
      expect(connections).toBe(2);
    } finally {
      server.close();
    }
  });

  it.each([
    ['XDG_RUNTIME_DIR', { XDG_RUNTIME_DIR: 'RUN/./x//y/../z/', KUBECONFIG: '/k/config' }],
    ['HOME', { HOME: 'RUN/home', KUBECONFIG: '/ü/ñ.yaml:/other' }],
    ['no KUBECONFIG', { HOME: 'RUN/h2' }],
  ])('names the daemon socket exactly as the Node client does (%s)', async (_what, given) => {
    const env = Object.fromEntries(Object.entries(given).map(([k, v]) => [k, v.replace('RUN', dir)]));
    await scripted(socketPath(env), (_req, conn) => conn.end(frames({ t: 'out', data: 'false' }, { t: 'end', exit: 0 })));
    expect(await run(['session', 'is-running', 'x'], env)).toEqual({ code: 0, out: 'false', err: '' });
  });

  it('sends the request the Node client sends: op, args, forwarded env only, cwd, a v4 rid, stdin repaired as Node decodes it', async () => {
    const socket = join(dir, 'req.sock');
    await scripted(socket, (_req, conn) => conn.end(frames({ t: 'end', exit: 0 })));
    // invalid UTF-8 of every kind: stray continuation, truncated 3-byte, surrogate encoding, overlong, emoji
    const stdin = Buffer.from([
      0x61, 0xff, 0xe2, 0x82, 0x41, 0xed, 0xa0, 0x80, 0xc0, 0xaf, 0xf0, 0x9f, 0x98, 0x80, 0x0a, 0x22, 0x5c, 0x01, 0xf4, 0x90,
    ]);
    const env = { GC_K8S_SOCKET: socket, GC_CITY: '/c "q"', BEADS_DIR: 'b', KUBECONFIG: 'k', HOME: '/h', SECRET: 'no', GCX: 'no' };
    expect(await run(['session', 'nudge', 'sess/ü.1', 'extra arg'], env, stdin)).toEqual({ code: 0, out: '', err: '' });
    const req = requests[0]!;
    expect(req).toMatchObject({
      v: 1,
      provider: 'session',
      op: 'nudge',
      args: ['sess/ü.1', 'extra arg'],
      cwd: dir,
      stdin: stdin.toString('utf8'),
    });
    expect(req['env']).toEqual({ GC_K8S_SOCKET: socket, GC_CITY: '/c "q"', BEADS_DIR: 'b', KUBECONFIG: 'k', HOME: '/h' });
    expect(req['rid']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    // ops without a payload never read stdin (it may be a terminal) and send none
    await run(['session', 'peek', 'x', '5'], env, 'ignored');
    expect(requests[1]).not.toHaveProperty('stdin');
  });

  it('relays out and err frames byte for byte, then the end message on stderr and its exit code', async () => {
    const socket = join(dir, 'frames.sock');
    await scripted(socket, (_req, conn) => {
      // split writes across frame boundaries, escapes, a surrogate pair and a lone surrogate
      const text = frames(
        { t: 'out', data: 'a\n"é"\t\u0001😀' },
        { t: 'err', data: 'warn\n' },
        { t: 'out', data: 'x\ud800y' },
        { t: 'end', exit: 1, code: 'BAD_REQUEST', message: 'start: bad name' },
      );
      conn.write(text.slice(0, 7));
      setTimeout(() => conn.end(text.slice(7)), 20);
    });
    expect(await run(['session', 'peek', 'x'], { GC_K8S_SOCKET: socket })).toEqual({
      code: 1,
      out: 'a\n"é"\t\u0001😀x\ufffdy',
      err: 'warn\nstart: bad name\n',
    });
  });

  it('hands the call to the Node client when no daemon answers, with stdin untouched', async () => {
    const r = await run(['session', 'start', 'x'], { GC_K8S_SOCKET: join(dir, 'nobody.sock') }, '{"command":"bash"}');
    expect(r.code).toBe(7);
    expect(JSON.parse(r.out)).toEqual({ fallback: 'session', argv: ['start', 'x'], stdin: '{"command":"bash"}', rid: null });
  });

  it('leaves attach, watch and GC_K8S_CLIENT=node to the Node client', async () => {
    const socket = join(dir, 'never.sock');
    await scripted(socket, (_req, conn) => conn.end(frames({ t: 'end', exit: 0 })));
    expect(JSON.parse((await run(['session', 'attach', 's'], { GC_K8S_SOCKET: socket })).out)).toMatchObject({ argv: ['attach', 's'] });
    expect(JSON.parse((await run(['events', 'watch', '3'], { GC_K8S_SOCKET: socket })).out)).toMatchObject({
      fallback: 'events',
      argv: ['watch', '3'],
    });
    expect(JSON.parse((await run(['beads', 'get', 'b-1'], { GC_K8S_SOCKET: socket, GC_K8S_CLIENT: 'node' })).out)).toMatchObject({
      fallback: 'beads',
    });
    expect(requests).toEqual([]);
  });

  it('a daemon that dies mid-call: a retry-safe op goes to the Node client with the same stdin and request id', async () => {
    const socket = join(dir, 'dies.sock');
    await scripted(socket, (_req, conn) => conn.destroy());
    const r = await run(['events', 'record'], { GC_K8S_SOCKET: socket }, '{"type":"t"}');
    expect(r.code).toBe(7);
    expect(r.err).toBe('gc-k8s: the daemon went away during record; retrying with a new one\n');
    expect(JSON.parse(r.out)).toEqual({ fallback: 'events', argv: ['record'], stdin: '{"type":"t"}', rid: requests[0]!['rid'] });
  });

  it('a daemon that dies mid-call: any other op fails with a one-line reason', async () => {
    const socket = join(dir, 'dies2.sock');
    await scripted(socket, (_req, conn) => conn.destroy());
    expect(await run(['session', 'nudge', 's'], { GC_K8S_SOCKET: socket }, 'hi')).toEqual({
      code: 1,
      out: '',
      err: `gc-session-k8s nudge: the gc-k8s daemon at ${socket} closed the connection without an answer (did it crash? see its log)\n`,
    });
  });

  it('an unreadable answer is a clear error, and a missing op is the usage with exit 2', async () => {
    const socket = join(dir, 'garbage.sock');
    await scripted(socket, (_req, conn) => conn.end('<html>\n'));
    expect(await run(['beads', 'list'], { GC_K8S_SOCKET: socket })).toEqual({
      code: 1,
      out: '',
      err: 'gc-beads-k8s list: unreadable answer from the gc-k8s daemon\n',
    });
    expect(await run(['session'], {})).toEqual({ code: 2, out: '', err: 'usage: gc-session-k8s <op> [args...]\n' });
    expect((await run(['nope', 'x'], {})).code).toBe(2);
  });

  it('round-trips through the real daemon: unknown op exits 2, meta with newlines and =, start JSON errors', async () => {
    const socket = join(dir, 'real', 'd.sock');
    const fake = new FakeCluster();
    const daemon = await runDaemon({
      socket,
      log: silentLogger(),
      version: 'test',
      clusterClient: () => Promise.resolve({ forNamespace: () => fake, close: () => Promise.resolve() }),
    });
    try {
      const env = { GC_K8S_SOCKET: socket, GC_K8S_IMAGE: 'gc-agent:test', GC_K8S_NAMESPACE: 'gc' };
      expect(await run(['session', 'bogus-op'], env)).toMatchObject({ code: 2 });
      expect(await run(['session', 'start', 's'], env, '{not json')).toMatchObject({
        code: 1,
        err: expect.stringMatching(/^start: .*JSON/) as unknown,
      });
      expect(await run(['session', 'start', 's'], env, '{"command":"agent"}')).toEqual({ code: 0, out: '', err: '' });
      expect(await run(['session', 'set-meta', 's', 'K'], env, 'a=b\nc')).toMatchObject({ code: 0 });
      expect(await run(['session', 'get-meta', 's', 'K'], env)).toEqual({ code: 0, out: 'a=b\nc', err: '' });
      expect(await run(['session', 'list-running', ''], env)).toEqual({ code: 0, out: 's\n', err: '' });
    } finally {
      daemon.shutdown('test end');
      await daemon.closed;
    }
  });
});
