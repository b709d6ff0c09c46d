// The body of gc-session-k8s, gc-events-k8s and gc-beads-k8s: speak Gas City's exec protocol
// on argv/stdin/stdout/exit code, forward to the daemon (starting it when needed). Only `attach`
// is served here, by handing the terminal to kubectl.

import { spawn } from 'node:child_process';
import { createConnection } from 'node:net';
import { forwardedEnv, PROTOCOL_VERSION, type Provider, type Request } from '../protocol/messages.js';
import { socketPath } from '../protocol/socket-path.js';
import { ensureDaemon } from './autostart.js';
import { randomUUID } from 'node:crypto';
import { call, DaemonUnreachable, DaemonVanished } from './socket-client.js';

/** Ops whose stdin carries a payload; the others never read it (stdin may be a terminal). */
export const STDIN_OPS: Record<Provider, ReadonlySet<string>> = {
  session: new Set(['start', 'process-alive', 'nudge', 'set-meta']),
  events: new Set(['record', 'list']),
  beads: new Set(['create', 'update', 'set-metadata']),
  admin: new Set(),
};

export interface Io {
  readonly argv: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  readonly stdin: NodeJS.ReadableStream;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}

function probe(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection(socket);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => {
      resolve(false);
    });
  });
}

/**
 * A burst of gc calls can fill the socket's accept backlog (EAGAIN): that is load, not absence,
 * so wait briefly and try again before treating the daemon as gone.
 */
async function callWithRetry(socket: string, request: Request, sinks: { out(d: string): void; err(d: string): void }) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call(socket, request, sinks);
    } catch (err) {
      if (!(err instanceof DaemonUnreachable) || err.reason !== 'EAGAIN' || attempt >= 50) throw err;
      await new Promise((r) => setTimeout(r, 20 + Math.random() * 80));
    }
  }
}

/**
 * Ops that can be sent again after the daemon died mid-call without doing anything twice: reads,
 * idempotent writes, and event records (deduplicated by the request id). A watch resumes from
 * the last event it printed.
 */
export const RETRY_SAFE: Record<Provider, ReadonlySet<string>> = {
  session: new Set(['start', 'stop', 'is-running', 'list-running', 'process-alive', 'get-meta', 'set-meta', 'remove-meta', 'peek', 'get-last-activity', 'attach-target']),
  events: new Set(['ensure-running', 'record', 'list', 'latest-seq', 'watch']),
  beads: new Set(['get', 'list', 'ready', 'children', 'list-by-label', 'dep-list', 'health', 'probe']),
  admin: new Set(['ping', 'status', 'stats']),
};

/** Sends a request, starting the daemon when nobody answers, retrying safe ops once it died. */
export async function forward(request: Request, io: Io): Promise<number> {
  if (request.provider === 'events' && request.op === 'watch') return watchWithResume(request, io);
  for (let attempt = 0; ; attempt++) {
    try {
      return await forwardOnce(request, io);
    } catch (err) {
      if (!(err instanceof DaemonVanished) || attempt >= 2 || !RETRY_SAFE[request.provider].has(request.op)) throw err;
      io.stderr.write(`gc-k8s: the daemon went away during ${request.op}; retrying with a new one\n`);
    }
  }
}

/** `watch` survives daemon restarts: it reconnects from the last seq it printed. */
async function watchWithResume(request: Request, io: Io): Promise<number> {
  let lastSeq = Number(request.args[0] ?? '0') || 0;
  let partial = '';
  const stdout = {
    write(data: string): boolean {
      partial += data;
      let nl;
      while ((nl = partial.indexOf('\n')) >= 0) {
        const line = partial.slice(0, nl + 1);
        partial = partial.slice(nl + 1);
        const seq = /"seq":(\d+)/.exec(line)?.[1];
        if (seq !== undefined) lastSeq = Math.max(lastSeq, Number(seq));
        io.stdout.write(line);
      }
      return true;
    },
  } as unknown as NodeJS.WritableStream;
  for (;;) {
    try {
      return await forwardOnce({ ...request, args: [String(lastSeq)] }, { ...io, stdout });
    } catch (err) {
      if (!(err instanceof DaemonVanished)) throw err;
      partial = '';
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

async function forwardOnce(request: Request, io: Io): Promise<number> {
  const socket = socketPath(io.env);
  const sinks = {
    out: (d: string) => {
      io.stdout.write(d);
    },
    err: (d: string) => {
      io.stderr.write(d);
    },
  };
  let result;
  try {
    result = await callWithRetry(socket, request, sinks);
  } catch (err) {
    if (!(err instanceof DaemonUnreachable) || io.env['GC_K8S_NO_AUTOSTART'] === '1') throw err;
    await ensureDaemon(socket, io.env, () => probe(socket), (line) => io.stderr.write(`${line}\n`));
    result = await callWithRetry(socket, request, sinks);
  }
  if (result.message !== undefined) io.stderr.write(`${result.message}\n`);
  return result.exit;
}

export function makeRequest(provider: Provider, op: string, args: readonly string[], io: Io, stdin?: string, rid?: string): Request {
  return {
    v: PROTOCOL_VERSION,
    provider,
    op,
    args,
    env: forwardedEnv(io.env),
    cwd: io.cwd,
    rid: rid ?? randomUUID(),
    ...(stdin === undefined ? {} : { stdin }),
  };
}

async function attach(name: string | undefined, io: Io): Promise<number> {
  if (name === undefined || name === '') {
    io.stderr.write('attach: missing session name\n');
    return 1;
  }
  let target = '';
  const code = await forward(makeRequest('session', 'attach-target', [name], io), {
    ...io,
    stdout: { write: (d: string) => ((target += d), true) } as unknown as NodeJS.WritableStream,
  });
  if (code !== 0) return code;
  const t = JSON.parse(target) as { pod: string; namespace: string; container: string; context: string };
  const args = [...(t.context ? ['--context', t.context] : []), '-n', t.namespace, 'exec', '-it', t.pod, '-c', t.container, '--', 'tmux', 'attach', '-t', 'main'];
  return new Promise((resolve) => {
    const child = spawn(io.env['GC_K8S_KUBECTL'] ?? 'kubectl', args, { stdio: 'inherit', env: io.env });
    child.on('error', (err) => {
      io.stderr.write(`attach: cannot run kubectl: ${err.message}\n`);
      resolve(1);
    });
    child.on('exit', (exitCode) => {
      resolve(exitCode ?? 1);
    });
  });
}

export async function runExecProvider(provider: Provider, given: Io): Promise<number> {
  // The native client hands over a call the daemon dropped with its request id, so a retried
  // record is still applied once; the id is not part of the caller's environment.
  const { GC_K8S_RID: rid, ...env } = given.env;
  const io = { ...given, env };
  const [op, ...args] = io.argv;
  if (op === undefined || op === '') {
    io.stderr.write(`usage: gc-${provider}-k8s <op> [args...]\n`);
    return 2;
  }
  try {
    if (provider === 'session' && op === 'attach') return await attach(args[0], io);
    const stdin = STDIN_OPS[provider].has(op) ? await readAll(io.stdin) : undefined;
    return await forward(makeRequest(provider, op, args, io, stdin, rid === '' ? undefined : rid), io);
  } catch (err) {
    io.stderr.write(`gc-${provider}-k8s ${op}: ${(err as Error).message}\n`);
    return 1;
  }
}
