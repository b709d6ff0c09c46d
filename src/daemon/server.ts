// The daemon's Unix socket: owner-only (0700 directory, 0600 socket), one request per
// connection, every request bounded and cancelled when its client goes away.

import { chmodSync, existsSync, mkdirSync, statSync, unlinkSync } from 'node:fs';
import { checkSocketPathLength, privateDirProblem, socketAnswers } from '../protocol/socket-path.js';
import { createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { describeError, GcK8sError, toGcK8sError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { encodeLine, LineDecoder } from '../protocol/framing.js';
import { EXIT_ERROR, EXIT_TEMPFAIL, PROTOCOL_VERSION, type Frame, type Request } from '../protocol/messages.js';

export type RequestHandler = (
  request: Request,
  io: { out: (d: string) => void; err: (d: string) => void; signal: AbortSignal },
) => Promise<number>;

function parseRequest(line: string): Request {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new GcK8sError('BAD_REQUEST', 'request is not JSON');
  }
  const r = value as Partial<Request>;
  if (typeof r !== 'object' || r.v !== PROTOCOL_VERSION || typeof r.op !== 'string' || !Array.isArray(r.args)) {
    throw new GcK8sError('BAD_REQUEST', `request is not protocol v${PROTOCOL_VERSION} (client and daemon versions differ?)`);
  }
  return { ...r, env: r.env ?? {}, cwd: r.cwd ?? '/' } as Request;
}

export async function listen(
  path: string,
  handler: RequestHandler,
  log: Logger,
  shutdown: AbortSignal,
  options: { privateDir?: boolean } = {},
): Promise<Server> {
  // Our own state directory is owner-only whoever made it. A directory someone chose for the
  // socket (GC_K8S_SOCKET, say /tmp) is left as it is when nobody else can replace the socket in it
  // (the user's, closed to others, or sticky); the socket file itself is 0600.
  checkSocketPathLength(path);
  const dir = dirname(path);
  if (!existsSync(dir)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
  } else if (options.privateDir === true && statSync(dir).uid === (process.getuid?.() ?? 0)) {
    chmodSync(dir, 0o700);
  }
  const problem = privateDirProblem(dir);
  if (problem !== undefined) throw new GcK8sError('CONFIG_INVALID', `cannot serve ${path}: ${problem}`);
  if (await socketAnswers(path)) throw new GcK8sError('INTERNAL', `another daemon already serves ${path}`);
  try {
    unlinkSync(path); // a stale socket of a daemon that was killed
  } catch {
    /* absent */
  }
  const server = createServer((socket) => {
    serve(socket, handler, log, shutdown);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // umask so the socket is never group/world accessible, even for an instant
    const old = process.umask(0o177);
    server.listen({ path, backlog: 4096 }, () => {
      process.umask(old);
      resolve();
    });
  });
  chmodSync(path, 0o600);
  return server;
}

function serve(socket: Socket, handler: RequestHandler, log: Logger, shutdown: AbortSignal): void {
  const decoder = new LineDecoder();
  const closed = new AbortController();
  const signal = AbortSignal.any([closed.signal, shutdown]);
  let started = false;
  const write = (frame: Frame): void => {
    if (!socket.destroyed) socket.write(encodeLine(frame));
  };
  socket.on('close', () => {
    closed.abort(new GcK8sError('ABORTED', 'client disconnected'));
  });
  socket.on('error', () => {
    /* the close handler covers it */
  });
  socket.on('data', (chunk: Buffer) => {
    if (started) return;
    let lines: string[];
    try {
      lines = decoder.push(chunk);
    } catch (err) {
      write({ t: 'end', exit: EXIT_ERROR, code: 'BAD_REQUEST', message: describeError(err) });
      socket.end();
      return;
    }
    const line = lines[0];
    if (line === undefined) return;
    started = true;
    void (async () => {
      const begin = performance.now();
      let request: Request | undefined;
      try {
        request = parseRequest(line);
        const exit = await handler(request, {
          out: (data) => {
            write({ t: 'out', data });
          },
          err: (data) => {
            write({ t: 'err', data });
          },
          signal,
        });
        write({ t: 'end', exit });
        log.debug({ provider: request.provider, op: request.op, exit, ms: Math.round(performance.now() - begin) }, 'request');
      } catch (err) {
        const e = toGcK8sError(err);
        // (an op outside the protocol never gets here: the router answers it with exit 2; only
        // start and provision raise CAPACITY)
        write({ t: 'end', exit: e.code === 'CAPACITY' ? EXIT_TEMPFAIL : EXIT_ERROR, code: e.code, message: describeError(e) });
        const level = e.code === 'BAD_REQUEST' || e.code === 'SESSION_EXISTS' ? 'info' : 'warn';
        // arguments are caller data: logged cut short, like the messages that quote them
        const args = request?.args.slice(0, 8).map((a) => (a.length > 100 ? `${a.slice(0, 100)}…(${a.length} chars)` : a));
        log[level](
          { provider: request?.provider, op: request?.op, args, code: e.code, err: e, ms: Math.round(performance.now() - begin) },
          'request failed',
        );
      } finally {
        socket.end();
      }
    })();
  });
}
