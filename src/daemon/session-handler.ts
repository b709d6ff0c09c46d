// Gas City's exec session protocol, op by op (argv, stdin, stdout, exit codes 0/1/2), on top of
// the session provider.

import { GcK8sError } from '../errors.js';
import { validateSessionName } from '../core/names.js';
import { SessionProvider } from '../core/session-provider.js';
import { parseStartRequest } from '../core/start-request.js';
import { systemClock } from '../util/clock.js';
import { withTimeout } from '../util/abort.js';
import { EXIT_OK, EXIT_UNKNOWN_OP } from '../protocol/messages.js';
import type { RequestContext } from './context.js';

function need(ctx: RequestContext, index: number, what: string): string {
  const value = ctx.request.args[index];
  if (value === undefined || value === '') throw new GcK8sError('BAD_REQUEST', `${ctx.request.op}: missing ${what}`);
  return value;
}

function sessionName(ctx: RequestContext): string {
  const name = need(ctx, 0, 'session name');
  const invalid = validateSessionName(name);
  if (invalid !== undefined) throw new GcK8sError('BAD_REQUEST', `${ctx.request.op}: ${invalid}`);
  return name;
}

const OPS = new Set([
  'start', 'stop', 'interrupt', 'is-running', 'process-alive', 'nudge', 'send-keys', 'peek', 'set-meta', 'get-meta',
  'remove-meta', 'list-running', 'get-last-activity', 'clear-scrollback', 'copy-to', 'attach-target',
]);

export async function handleSession(ctx: RequestContext): Promise<number> {
  const { request, config } = ctx;
  if (!OPS.has(request.op)) return EXIT_UNKNOWN_OP;
  // Validate arguments before touching the cluster: bad input changes nothing.
  const name = request.op === 'list-running' ? '' : sessionName(ctx);
  const startReq = request.op === 'start' ? parseStartRequest(request.stdin ?? '') : undefined;

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
  });
  const stdin = request.stdin ?? '';

  switch (request.op) {
    case 'start':
      for (const warning of config.warnings) ctx.err(`warning: ${warning}\n`);
      await provider.start(name, startReq ?? parseStartRequest(''), signal);
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
    case 'peek': {
      const raw = request.args[1] ?? '50';
      if (!/^-?\d+$/.test(raw)) throw new GcK8sError('BAD_REQUEST', `peek: lines must be an integer, got ${JSON.stringify(raw)}`);
      ctx.out(await provider.peek(name, Number(raw), signal));
      break;
    }
    case 'set-meta':
      await provider.setMeta(name, need(ctx, 1, 'meta key'), stdin, signal);
      break;
    case 'get-meta':
      ctx.out(await provider.getMeta(name, need(ctx, 1, 'meta key'), signal));
      break;
    case 'remove-meta':
      await provider.removeMeta(name, need(ctx, 1, 'meta key'), signal);
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
      await provider.copyTo(name, need(ctx, 1, 'source path'), request.args[2] ?? '', signal);
      break;
    case 'attach-target': {
      const target = await provider.attachTarget(name, signal);
      ctx.out(JSON.stringify({ ...target, context: config.context }));
      break;
    }
  }
  return EXIT_OK;
}
