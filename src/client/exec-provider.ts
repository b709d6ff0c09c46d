// The body of gc-session-k8s, gc-events-k8s and gc-beads-k8s: speak Gas City's exec protocol
// on argv/stdin/stdout/exit code, forward to the daemon (starting it when needed). Only `attach`
// is served here, by handing the terminal to kubectl.

import { spawn } from 'node:child_process';
import { forwardedEnv, PROTOCOL_VERSION, type Provider, type Request } from '../protocol/messages.js';
import { socketAnswers, socketPath, verifySocket } from '../protocol/socket-path.js';
import { ensureDaemon } from './autostart.js';
import { randomUUID } from 'node:crypto';
import { call, DaemonUnreachable, DaemonVanished } from './socket-client.js';
import { argumentProblem, handshakeJson, OPS, opSpec, stdinTooLarge, type OpSpec } from '../protocol/ops/index.js';
import { CLIENT_ENV } from '../protocol/client-env.js';
import { messageOf } from '../errors.js';

const opsWhere = (keep: (spec: OpSpec) => boolean): Record<Provider, ReadonlySet<string>> => {
  const out = {} as Record<Provider, ReadonlySet<string>>;
  for (const provider of Object.keys(OPS) as Provider[])
    out[provider] = new Set(
      Object.entries(OPS[provider])
        .filter(([, spec]) => keep(spec))
        .map(([op]) => op),
    );
  return out;
};

/** Ops whose stdin carries a payload; the others never read it (stdin may be a terminal). */
export const STDIN_OPS = opsWhere((spec) => spec.stdin !== undefined);

export interface Io {
  readonly argv: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  readonly stdin: NodeJS.ReadableStream;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

/** Reads stdin up to the op's limit; more than that is refused before anything is sent. */
async function readStdin(provider: Provider, op: string, stream: NodeJS.ReadableStream): Promise<string> {
  const limit = opSpec(provider, op)?.stdin ?? 0;
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of stream) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    bytes += b.length;
    const tooLarge = stdinTooLarge(provider, op, bytes);
    if (tooLarge !== undefined && bytes > 10 * limit) throw new StdinTooLarge(tooLarge);
    if (tooLarge === undefined) chunks.push(b);
  }
  const tooLarge = stdinTooLarge(provider, op, bytes);
  if (tooLarge !== undefined) throw new StdinTooLarge(tooLarge);
  return Buffer.concat(chunks).toString('utf8');
}

class StdinTooLarge extends Error {}

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
export const RETRY_SAFE = opsWhere((spec) => spec.retrySafe === true);

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
  // the caller's afterSeq goes to the daemon as given, which refuses what does not parse ("abc"
  // used to become 0 here, and an out-of-range number its rounded float)
  const given = request.args[0] ?? '';
  let lastSeq = /^\d+$/.test(given.trim()) && Number.isSafeInteger(Number(given.trim())) ? Number(given.trim()) : -1;
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
      return await forwardOnce(
        { ...request, args: lastSeq < 0 ? request.args : [String(lastSeq), ...request.args.slice(1)] },
        { ...io, stdout },
      );
    } catch (err) {
      if (!(err instanceof DaemonVanished)) throw err;
      partial = '';
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

async function forwardOnce(request: Request, io: Io): Promise<number> {
  const socket = socketPath(io.env);
  // nothing (our environment included) goes to a socket another user could have put there
  verifySocket(socket);
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
    if (!(err instanceof DaemonUnreachable) || io.env[CLIENT_ENV.noAutostart.env] === '1') throw err;
    await ensureDaemon(
      socket,
      io.env,
      () => socketAnswers(socket),
      (line) => io.stderr.write(`${line}\n`),
    );
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
  const t = JSON.parse(target) as { pod: string; namespace: string; container: string; tmuxSession: string; context: string };
  const args = [
    ...(t.context ? ['--context', t.context] : []),
    '-n',
    t.namespace,
    'exec',
    '-it',
    t.pod,
    '-c',
    t.container,
    '--',
    'tmux',
    'attach',
    ...(t.tmuxSession === '' ? [] : ['-t', t.tmuxSession]),
  ];
  return new Promise((resolve) => {
    const child = spawn(io.env[CLIENT_ENV.kubectl.env] ?? 'kubectl', args, { stdio: 'inherit', env: io.env });
    child.on('error', (err) => {
      io.stderr.write(`attach: cannot run kubectl: ${err.message}\n`);
      resolve(1);
    });
    child.on('exit', (exitCode) => {
      resolve(exitCode ?? 1);
    });
  });
}

/** gc 1.x's handshake, answered here: the capabilities are this build's, no daemon needed. */
function handshake(args: readonly string[], io: Io): number {
  if (args.length > 0) {
    io.stderr.write('gc-session-k8s protocol: takes no arguments\n');
    return 1;
  }
  io.stdout.write(handshakeJson());
  return 0;
}

export async function runExecProvider(provider: Provider, given: Io): Promise<number> {
  // The native client hands over a call the daemon dropped with its request id, so a retried
  // record is still applied once; the id is not part of the caller's environment.
  const { [CLIENT_ENV.rid.env]: rid, ...env } = given.env;
  const io = { ...given, env };
  const [op, ...args] = io.argv;
  if (op === undefined || op === '') {
    io.stderr.write(`usage: gc-${provider}-k8s <op> [args...]\n`);
    return 2;
  }
  try {
    if (provider === 'session' && op === 'attach') return await attach(args[0], io);
    if (provider === 'session' && op === 'protocol') return handshake(args, io);
    // before stdin is read or a daemon started: a call that cannot work touches nothing
    const problem = argumentProblem(provider, op, args);
    if (problem !== undefined) {
      io.stderr.write(`${problem}\n`);
      return 1;
    }
    const stdin = STDIN_OPS[provider].has(op) ? await readStdin(provider, op, io.stdin) : undefined;
    return await forward(makeRequest(provider, op, args, io, stdin, rid === '' ? undefined : rid), io);
  } catch (err) {
    io.stderr.write(err instanceof StdinTooLarge ? `${err.message}\n` : `gc-${provider}-k8s ${op}: ${messageOf(err)}\n`);
    return 1;
  }
}
