import { afterEach, describe, expect, it } from 'vitest';
import { hasCode } from '../../../src/errors.js';
import { statusBody } from '../../helpers/mock-apiserver.js';
import { deadline, startHarness, type Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function harness(): Promise<Harness> {
  h = await startHarness({ exec: { handshakeTimeoutMs: 2_000, statusGraceMs: 50 } });
  return h;
}

const run = (hh: Harness, command: string[], extra: Record<string, unknown> = {}) =>
  hh.client.forNamespace('gc').exec.exec({ pod: 'p', container: 'agent', command, ...deadline(), ...extra });

describe('exec over WebSocket', () => {
  it('collects stdout and stderr and reports exit 0, with argv as repeated command params', async () => {
    const hh = await harness();
    let seen: { protocol: string; command: string[]; container: string; stdin: boolean } | undefined;
    hh.server.execHandler = (s) => {
      seen = { protocol: s.protocol, command: s.command, container: s.container, stdin: s.stdin };
      s.send(1, 'hello ');
      s.send(2, 'warning\n');
      s.send(1, 'world\n');
      s.exit(0);
    };
    const result = await run(hh, ['tmux', 'display', '-p', '#{session_activity} x;y']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout.toString()).toBe('hello world\n');
    expect(result.stderr.toString()).toBe('warning\n');
    expect(seen).toEqual({
      protocol: 'v5.channel.k8s.io',
      command: ['tmux', 'display', '-p', '#{session_activity} x;y'],
      container: 'agent',
      stdin: false,
    });
    const upgrade = hh.server.requests.at(-1)!;
    expect(upgrade.path).toBe('/api/v1/namespaces/gc/pods/p/exec');
    expect(upgrade.query.get('stdout')).toBe('true');
    expect(upgrade.query.get('stderr')).toBe('true');
    expect(upgrade.query.has('stdin')).toBe(false);
    expect(upgrade.headers.authorization).toBe('Bearer secret-token');
    expect(hh.client.stats().byRequest['create pods/exec']).toBe(1);
  });

  it('a non-zero exit is a result, not an error', async () => {
    const hh = await harness();
    hh.server.execHandler = (s) => {
      s.send(2, 'no session\n');
      s.exit(3);
    };
    const result = await run(hh, ['tmux', 'has-session']);
    expect(result.exitCode).toBe(3);
    expect(result.stderr.toString()).toBe('no session\n');
  });

  it('a Failure status that is not an exit code is EXEC_FAILED with the server message', async () => {
    const hh = await harness();
    hh.server.execHandler = (s) => {
      s.status({ status: 'Failure', reason: 'InternalError', message: 'exec: "tmux": executable file not found in $PATH' });
      s.ws.close();
    };
    await expect(run(hh, ['tmux'])).rejects.toMatchObject({
      code: 'EXEC_FAILED',
      message: 'exec tmux in pod gc/p: exec: "tmux": executable file not found in $PATH',
    });
  });

  it('a Failure status saying the container is gone is CONTAINER_NOT_RUNNING (the apiserver relays the kubelet refusal after the upgrade)', async () => {
    const hh = await harness();
    hh.server.execHandler = (s) => {
      s.status({
        status: 'Failure',
        reason: 'InternalError',
        message: 'Internal error occurred: unable to upgrade connection: container not found ("agent")',
      });
      s.ws.close();
    };
    await expect(run(hh, ['sh'])).rejects.toMatchObject({ code: 'CONTAINER_NOT_RUNNING' });
  });

  it('a stream that closes without a status frame is EXEC_NO_STATUS', async () => {
    const hh = await harness();
    hh.server.execHandler = (s) => {
      s.send(1, 'partial');
      s.ws.close(1000);
    };
    await expect(run(hh, ['true'])).rejects.toMatchObject({ code: 'EXEC_NO_STATUS' });
  });

  it('resolves after the status even if the server never closes (grace), ignoring unknown channels', async () => {
    const hh = await harness();
    hh.server.execHandler = (s) => {
      s.send(7, 'future channel');
      s.send(255, Buffer.from([1]));
      s.send(1, 'ok');
      s.status({ status: 'Success' });
    };
    const result = await run(hh, ['true']);
    expect(result).toMatchObject({ exitCode: 0 });
    expect(result.stdout.toString()).toBe('ok');
  });

  it('caps stdout+stderr with OUTPUT_TOO_LARGE and terminates the socket', async () => {
    const hh = await harness();
    let closed = false;
    hh.server.execHandler = (s) => {
      s.ws.on('close', () => {
        closed = true;
      });
      s.send(1, Buffer.alloc(600));
      s.send(2, Buffer.alloc(600));
    };
    await expect(run(hh, ['cat', 'big'], { maxOutputBytes: 1000 })).rejects.toMatchObject({ code: 'OUTPUT_TOO_LARGE' });
    await expect.poll(() => closed).toBe(true);
  });

  it('the caller deadline terminates a command that never finishes: TIMEOUT', async () => {
    const hh = await harness();
    let closed = false;
    hh.server.execHandler = (s) => {
      s.ws.on('close', () => {
        closed = true;
      });
    };
    const err: unknown = await run(hh, ['sleep', 'inf'], { signal: AbortSignal.timeout(100) }).catch((e: unknown) => e);
    expect(hasCode(err, 'TIMEOUT')).toBe(true);
    await expect.poll(() => closed).toBe(true);
  });

  it('writes stdin with backpressure, half-closes it with a v5 CLOSE frame, then reads the echo', async () => {
    const hh = await harness();
    hh.server.execHandler = (s) => {
      void s.stdinDone.then((input) => {
        s.send(1, input); // cat
        s.exit(0);
      });
    };
    const big = Buffer.alloc(3 * 1024 * 1024 + 17);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31) % 251;
    const result = await run(hh, ['cat'], { stdin: new Uint8Array(big) });
    expect(result.exitCode).toBe(0);
    expect(result.stdout.equals(big)).toBe(true);
    expect(hh.server.requests.at(-1)!.query.get('stdin')).toBe('true');

    async function* pieces(): AsyncIterable<Uint8Array> {
      yield Buffer.from('one ');
      await new Promise((resolve) => setTimeout(resolve, 5));
      yield Buffer.from('two');
    }
    const streamed = await run(hh, ['cat'], { stdin: pieces() });
    expect(streamed.stdout.toString()).toBe('one two');
  });

  it('a command that exits without reading its stdin: the status is the result, not the broken write', async () => {
    const hh = await harness();
    hh.server.execHandler = (s) => {
      const status = {
        metadata: {},
        status: 'Failure',
        message: 'exit 3',
        reason: 'NonZeroExitCode',
        details: { causes: [{ reason: 'ExitCode', message: '3' }] },
      };
      // the status goes out, then the connection drops while the client is still writing
      s.ws.send(Buffer.concat([Buffer.from([3]), Buffer.from(JSON.stringify(status))]), () => {
        s.ws.terminate();
      });
    };
    const result = await run(hh, ['tmux', 'load-buffer', '-'], { stdin: new Uint8Array(32 * 1024 * 1024) });
    expect(result.exitCode).toBe(3);
  });

  it('long-lived channels do not hold exec slots: with every slot taken by channels, calls still run', async () => {
    h = await startHarness({ exec: { handshakeTimeoutMs: 2_000, statusGraceMs: 50, maxConcurrent: 1 } });
    const hh = h;
    hh.server.execHandler = (s) => {
      if (s.command[0] === 'channel') return; // stays open until the client goes away
      s.send(1, 'ok');
      s.exit(0);
    };
    const stop = new AbortController();
    const channels = [1, 2].map(() =>
      hh.client
        .forNamespace('gc')
        .exec.exec({
          pod: 'p',
          container: 'agent',
          command: ['channel'],
          stdin: (async function* () {})(),
          longLived: true,
          onOutput: () => undefined,
          signal: stop.signal,
        })
        .catch(() => undefined),
    );
    await new Promise((r) => setTimeout(r, 100));
    // the only slot is free for calls although two channels are open
    expect((await run(hh, ['echo'])).stdout.toString()).toBe('ok');
    stop.abort();
    await Promise.all(channels);
  });

  it('refuses stdin when the server only speaks v4, before sending anything', async () => {
    const hh = await harness();
    hh.server.execProtocols = ['v4.channel.k8s.io'];
    let received = 0;
    hh.server.execHandler = (s) => {
      s.ws.on('message', () => {
        received++;
      });
    };
    await expect(run(hh, ['cat'], { stdin: Buffer.from('data') })).rejects.toMatchObject({
      code: 'EXEC_FAILED',
      message: 'exec cat in pod gc/p: server did not negotiate v5.channel.k8s.io; stdin cannot be closed',
    });
    expect(received).toBe(0);
    // without stdin, v4 is fine
    hh.server.execHandler = (s) => {
      s.send(1, 'v4 ok');
      s.exit(0);
    };
    expect((await run(hh, ['echo'])).stdout.toString()).toBe('v4 ok');
  });

  it('maps refused upgrades: 404 → NOT_FOUND, 400 → EXEC_FAILED with the server message', async () => {
    const hh = await harness();
    hh.server.refuseExec(404, statusBody(404, 'NotFound', 'pods "p" not found'));
    await expect(run(hh, ['true'])).rejects.toMatchObject({ code: 'NOT_FOUND', message: 'exec true in pod gc/p: pods "p" not found' });
    hh.server.refuseExec(400, statusBody(400, 'BadRequest', 'container agent is not valid for pod p'));
    await expect(run(hh, ['true'])).rejects.toMatchObject({
      code: 'EXEC_FAILED',
      message: 'exec true in pod gc/p: container agent is not valid for pod p',
    });
    hh.server.refuseExec(403, statusBody(403, 'Forbidden', 'pods "p" is forbidden: cannot get resource "pods/exec"'));
    await expect(run(hh, ['true'])).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });

  it.each([
    [500, 'InternalError', 'Internal error occurred: unable to upgrade connection: container not found ("agent")'],
    [400, 'BadRequest', 'cannot exec into a container in a completed pod; current phase is Succeeded'],
    [400, 'BadRequest', 'container agent is not running'],
    [
      500,
      'InternalError',
      'Internal error occurred: error executing command in container: failed to exec in container: container is in CONTAINER_EXITED state',
    ],
  ])('maps a refused upgrade for an exited container (%i) to CONTAINER_NOT_RUNNING', async (http, reason, message) => {
    const hh = await harness();
    hh.server.refuseExec(http, statusBody(http, reason, message));
    await expect(run(hh, ['true'])).rejects.toMatchObject({ code: 'CONTAINER_NOT_RUNNING', message: `exec true in pod gc/p: ${message}` });
  });

  it('retries a 401 upgrade once with refreshed credentials', async () => {
    const hh = await harness();
    hh.server.refuseExec(401, statusBody(401, 'Unauthorized', 'Unauthorized'));
    expect((await run(hh, ['true'])).exitCode).toBe(0);
    expect(hh.client.stats().byRequest['create pods/exec']).toBe(2);
  });

  it('honours a 429 refusing the upgrade: waits its Retry-After and retries (nothing ran yet)', async () => {
    const hh = await harness();
    const throttled = { status: 429, body: statusBody(429, 'TooManyRequests', 'slow down'), headers: { 'retry-after': '0' } };
    hh.server.intercept((r) => r.path.endsWith('/exec'), throttled, 2);
    hh.server.execHandler = (s) => {
      s.exit(0);
    };
    expect((await run(hh, ['true'])).exitCode).toBe(0);
    const stats = hh.client.stats();
    expect(stats.byRequest['create pods/exec']).toBe(3);
    expect(stats.byResponse['create pods/exec 429']).toBe(2);
    expect(stats.retries).toBe(2);
  });

  it('gives up with THROTTLED after the 429 retry budget', async () => {
    const hh = await harness();
    const throttled = { status: 429, body: statusBody(429, 'TooManyRequests', 'slow down'), headers: { 'retry-after': '0' } };
    hh.server.intercept((r) => r.path.endsWith('/exec'), throttled, 10);
    await expect(run(hh, ['true'])).rejects.toMatchObject({ code: 'THROTTLED', message: 'exec true in pod gc/p: slow down' });
    expect(hh.client.stats().byRequest['create pods/exec']).toBe(4); // 1 + 3 retries, as for any request
  });

  it('exec upgrades take client-side rate-limiter tokens like every other request', async () => {
    h = await startHarness({ qps: 10, burst: 1, exec: { statusGraceMs: 50 } });
    const hh = h;
    hh.server.execHandler = (s) => {
      s.exit(0);
    };
    // three at once with a burst of one: the second and third wait for their tokens
    const results = await Promise.all([run(hh, ['true']), run(hh, ['true']), run(hh, ['true'])]);
    expect(results.map((r) => r.exitCode)).toEqual([0, 0, 0]);
    expect(hh.client.stats().rateLimitedMs).toBeGreaterThan(0);
  });

  it('a server that never answers the upgrade hits the handshake timeout', async () => {
    h = await startHarness({ exec: { handshakeTimeoutMs: 50 } });
    h.server.intercept((r) => r.path.endsWith('/exec'), { status: 0, hang: true });
    await expect(run(h, ['true'])).rejects.toMatchObject({
      code: 'TIMEOUT',
      message: 'exec true in pod gc/p: opening handshake timed out',
    });
  });

  it('reuses TLS sessions across execs (one shared agent)', async () => {
    const hh = await harness();
    for (let i = 0; i < 5; i++) await run(hh, ['true']);
    expect(hh.server.connections).toBe(5); // an upgraded socket is never pooled…
    expect(hh.server.tlsResumed).toBeGreaterThanOrEqual(4); // …but the handshake is resumed
  });
});
