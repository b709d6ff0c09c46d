// Gas City's exec session protocol, op by op (argv, stdin, stdout, exit codes 0/1/2), on top of
// the session provider. Arguments are checked (checkSessionRequest) before the router resolves
// the city or anything touches the cluster.

import { GcK8sError } from '../errors.js';
import { validateSessionName } from '../session/names.js';
import { SessionProvider } from '../session/provider.js';
import { parseStartRequest, type StartRequest } from '../session/request.js';
import { systemClock } from '../util/clock.js';
import { withTimeout } from '../util/abort.js';
import { EXIT_OK, EXIT_UNKNOWN_OP, type Request } from '../protocol/messages.js';
import { META_MAX_BYTES } from '../protocol/ops.js';
import type { RequestContext } from './context.js';

function need(request: Request, index: number, what: string): string {
  const value = request.args[index];
  if (value === undefined || value === '') throw new GcK8sError('BAD_REQUEST', `${request.op}: missing ${what}`);
  return value;
}

function sessionName(request: Request): string {
  const name = need(request, 0, 'session name');
  const invalid = validateSessionName(name);
  if (invalid !== undefined) throw new GcK8sError('BAD_REQUEST', `${request.op}: ${invalid}`);
  return name;
}

const OPS = new Set([
  'start', 'stop', 'interrupt', 'is-running', 'process-alive', 'nudge', 'send-keys', 'peek', 'set-meta', 'get-meta',
  'remove-meta', 'list-running', 'get-last-activity', 'clear-scrollback', 'copy-to', 'attach-target',
]);

interface Parsed {
  readonly name: string;
  readonly start?: StartRequest;
  readonly lines?: number;
  readonly key?: string;
}

function parse(request: Request): Parsed {
  const name = request.op === 'list-running' ? '' : sessionName(request);
  switch (request.op) {
    case 'start':
      return { name, start: parseStartRequest(request.stdin ?? '') };
    case 'peek': {
      const raw = request.args[1] ?? '50';
      if (!/^-?\d+$/.test(raw)) throw new GcK8sError('BAD_REQUEST', `peek: lines must be an integer, got ${JSON.stringify(raw.slice(0, 40))}`);
      return { name, lines: Number(raw) };
    }
    case 'set-meta': {
      const key = need(request, 1, 'meta key');
      const bytes = Buffer.byteLength(key, 'utf8') + Buffer.byteLength(request.stdin ?? '', 'utf8');
      if (bytes > META_MAX_BYTES) throw new GcK8sError('TOO_LARGE', `set-meta: key and value are ${bytes} bytes; tmux keeps at most ${META_MAX_BYTES} bytes per variable`);
      return { name, key };
    }
    case 'get-meta':
    case 'remove-meta':
      return { name, key: need(request, 1, 'meta key') };
    case 'copy-to':
      need(request, 1, 'source path');
      return { name };
    default:
      return { name };
  }
}

/** Bad arguments fail here, before the city is resolved or the cluster is touched. */
export function checkSessionRequest(request: Request): void {
  if (OPS.has(request.op)) parse(request);
}

export async function handleSession(ctx: RequestContext): Promise<number> {
  const { request, config } = ctx;
  if (!OPS.has(request.op)) return EXIT_UNKNOWN_OP;
  const { name, start, lines, key } = parse(request);

  const timeout = request.op === 'start' ? config.session.startTimeoutMs + 5_000 : request.op === 'stop' ? config.session.stopTimeoutMs : config.session.opTimeoutMs;
  const signal = withTimeout(ctx.signal, timeout);
  const client = await ctx.connections.namespace(config.context, config.pod.namespace, signal);
  const provider = new SessionProvider({
    client,
    settings: config.pod,
    options: config.session,
    clock: systemClock,
    log: ctx.log,
    locks: ctx.connections.locks(config.context, config.pod.namespace),
    runner: await ctx.connections.runner(config.context, config.pod.namespace, signal),
    origin: { cityDir: config.cityDir, fingerprint: config.fingerprint },
  });
  const stdin = request.stdin ?? '';

  switch (request.op) {
    case 'start':
      for (const warning of config.warnings) ctx.err(`warning: ${warning}\n`);
      await provider.start(name, start ?? parseStartRequest(''), signal, request.rid ?? '');
      break;
    case 'stop':
      await provider.stop(name, signal);
      break;
    case 'interrupt':
      await provider.interrupt(name, signal);
      break;
    case 'is-running':
      ctx.out(String(await provider.isRunning(name, signal)));
      break;
    case 'process-alive':
      ctx.out(String(await provider.processAlive(name, stdin.split('\n').map((s) => s.trim()), signal)));
      break;
    case 'nudge':
      await provider.nudge(name, stdin, signal);
      break;
    case 'send-keys':
      await provider.sendKeys(name, request.args.slice(1), signal);
      break;
    case 'peek':
      ctx.out(await provider.peek(name, lines ?? 50, signal));
      break;
    case 'set-meta':
      await provider.setMeta(name, key ?? '', stdin, signal);
      break;
    case 'get-meta':
      ctx.out(await provider.getMeta(name, key ?? '', signal));
      break;
    case 'remove-meta':
      await provider.removeMeta(name, key ?? '', signal);
      break;
    case 'list-running': {
      const names = await provider.listRunning(request.args[0] ?? '', signal);
      ctx.out(names.map((n) => `${n}\n`).join(''));
      break;
    }
    case 'get-last-activity':
      ctx.out(await provider.lastActivity(name, signal));
      break;
    case 'clear-scrollback':
      await provider.clearScrollback(name, signal);
      break;
    case 'copy-to':
      await provider.copyTo(name, need(request, 1, 'source path'), request.args[2] ?? '', signal);
      break;
    case 'attach-target': {
      const target = await provider.attachTarget(name, signal);
      ctx.out(JSON.stringify({ ...target, context: config.context }));
      break;
    }
  }
  return EXIT_OK;
}
