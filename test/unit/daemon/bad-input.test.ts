// Bad input gets a one-line error naming the cause, is checked before anything touches the
// cluster (this daemon's cluster client cannot even be created: any I/O would report that), and
// errors and logs never echo the input whole.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runExecProvider } from '../../../src/client/exec-provider.js';
import { runDaemon, type RunningDaemon } from '../../../src/daemon/compose.js';
import { createLogger } from '../../../src/log/logger.js';

let dir: string;
let daemon: RunningDaemon;
let log = '';
let clusterContacts = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gck8s-bad-'));
  const sink = new PassThrough();
  sink.on('data', (d: Buffer) => (log += d.toString()));
  daemon = await runDaemon({
    socket: join(dir, 'd.sock'),
    log: createLogger({ level: 'debug', destination: sink }),
    version: 'test',
    citiesFile: '',
    clusterClient: () => {
      clusterContacts++;
      return Promise.reject(new Error('invalid kubeconfig: no current context'));
    },
  });
});
afterAll(async () => {
  daemon.shutdown('test end');
  await daemon.closed;
  rmSync(dir, { recursive: true, force: true });
});

async function call(
  provider: 'session' | 'events' | 'beads',
  argv: string[],
  stdin = '',
): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await runExecProvider(provider, {
    argv,
    env: { GC_K8S_SOCKET: join(dir, 'd.sock'), GC_K8S_NO_AUTOSTART: '1', GC_K8S_NAMESPACE: 'gc', HOME: dir },
    cwd: dir,
    stdin: Readable.from([stdin]),
    stdout,
    stderr,
  });
  return { code, out, err };
}

describe('arguments are checked before any I/O', () => {
  it.each([
    [['set-meta', 's1'], 'set-meta: missing meta key'],
    [['peek', 's1', 'x5'], 'peek: lines must be an integer, got "x5"'],
    [['get-meta'], 'get-meta: missing session name'],
    [['copy-to', 's1'], 'copy-to: missing source path'],
  ])('session %j', async (argv, message) => {
    expect(await call('session', argv)).toMatchObject({ code: 1, err: `${message}\n` });
    expect(clusterContacts).toBe(0);
  });

  it('events: watch with an afterSeq that does not parse fails instead of streaming from 0, quoting it exactly', async () => {
    expect(await call('events', ['watch', 'abc'])).toMatchObject({
      code: 1,
      out: '',
      err: 'watch: afterSeq must be a non-negative integer, got "abc"\n',
    });
    expect(await call('events', ['watch', '99999999999999999999'])).toMatchObject({
      code: 1,
      err: 'watch: afterSeq must be a non-negative integer, got "99999999999999999999"\n',
    });
    expect(await call('events', ['record'], '{not json')).toMatchObject({ code: 1 });
    expect(clusterContacts).toBe(0);
  });

  it('beads: update without an id says so (not "empty input")', async () => {
    expect(await call('beads', ['update'], '')).toMatchObject({ code: 1, err: 'update: missing bead id\n' });
    expect(clusterContacts).toBe(0);
  });
});

describe('errors and logs never echo unbounded input', () => {
  it('a 17 KB meta value is refused with the limit named, quoted nowhere', async () => {
    const value = `${'v'.repeat(17_000)}SENTINEL`;
    const r = await call('session', ['set-meta', 's1', 'K'], value);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^set-meta: input is 17008 bytes; set-meta accepts at most 16000 bytes\n$/);
    expect(log).not.toContain('SENTINEL');
    expect(log).not.toContain('v'.repeat(200));
  });

  it('a session name of 100 KB is cut in the error and in the log', async () => {
    const name = `${'n'.repeat(100_000)}TAIL`;
    const r = await call('session', ['is-running', name]);
    expect(r.code).toBe(1);
    expect(r.err.length).toBeLessThan(400);
    expect(log).not.toContain('TAIL');
    expect(log.length).toBeLessThan(20_000);
  });

  it('a huge meta key is quoted short', async () => {
    const key = `${'k'.repeat(5000)}=x`;
    const r = await call('session', ['get-meta', 's1', key]);
    expect(r.code).toBe(1);
    expect(r.err.length).toBeLessThan(400);
  });
});
