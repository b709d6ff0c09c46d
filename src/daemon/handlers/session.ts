// Gas City's exec session protocol, op by op (argv, stdin, stdout, exit codes 0/1/2), on top of
// the session provider of the request's city.

import { GcK8sError, quote } from '../../errors.js';
import type { SESSION_OPS } from '../../protocol/ops/index.js';
import { EXEC_MAX_OUTPUT_BYTES, handshakeJson, META_MAX_BYTES } from '../../protocol/ops/index.js';
import { EXIT_OK, type Request } from '../../protocol/messages.js';
import { validateSessionName } from '../../session/names.js';
import type { SessionProvider } from '../../session/provider.js';
import { parseStartRequest } from '../../session/request.js';
import { withTimeout } from '../../util/abort.js';
import { need, op, type Handlers, type OpContext } from './op.js';

function sessionName(request: Request): string {
  const name = need(request, 0, 'session name');
  const invalid = validateSessionName(name);
  if (invalid !== undefined) throw new GcK8sError('BAD_REQUEST', `${request.op}: ${invalid}`);
  return name;
}

/** The session provider of the request's city, under the op's deadline. */
async function withProvider(
  ctx: OpContext,
  timeoutMs: number,
  run: (provider: SessionProvider, signal: AbortSignal) => Promise<void>,
): Promise<number> {
  const signal = withTimeout(ctx.signal, timeoutMs);
  const runtime = await ctx.runtime(signal);
  await run(runtime.session(ctx.config), signal);
  return EXIT_OK;
}

/** A session op under the ordinary op deadline. */
function sessionOp(run: (name: string, provider: SessionProvider, signal: AbortSignal, ctx: OpContext) => Promise<void>) {
  return op(sessionName, (name, ctx) => withProvider(ctx, ctx.config.session.opTimeoutMs, (p, s) => run(name, p, s, ctx)));
}

/** A meta op: the session and its key. */
function metaOp(run: (name: string, key: string, provider: SessionProvider, signal: AbortSignal, ctx: OpContext) => Promise<void>) {
  return op(
    (r) => ({ name: sessionName(r), key: need(r, 1, 'meta key') }),
    ({ name, key }, ctx) => withProvider(ctx, ctx.config.session.opTimeoutMs, (p, s) => run(name, key, p, s, ctx)),
  );
}

export const SESSION_HANDLERS: Handlers<typeof SESSION_OPS> = {
  // the clients answer it themselves; a direct request gets the same answer
  protocol: op(
    (r) => {
      if (r.args.length > 0) throw new GcK8sError('BAD_REQUEST', 'protocol: takes no arguments');
    },
    (_, ctx) => {
      ctx.out(handshakeJson());
      return Promise.resolve(EXIT_OK);
    },
  ),
  provision: op(
    (r) => ({ name: sessionName(r), start: parseStartRequest(r.stdin ?? '') }),
    ({ name, start }, ctx) =>
      withProvider(ctx, ctx.config.session.startTimeoutMs + 5_000, async (p, signal) => {
        for (const warning of ctx.config.warnings) ctx.err(`warning: ${warning}\n`);
        await p.provision(name, start, signal, ctx.request.rid ?? '');
      }),
  ),
  // exit code = the command's: the one op whose exit code is not ours
  exec: op(
    (r) => {
      const name = sessionName(r);
      const script = r.stdin ?? '';
      if (script.trim() === '') throw new GcK8sError('BAD_REQUEST', 'exec: no command on stdin');
      return { name, script };
    },
    async ({ name, script }, ctx) => {
      const deadlineMs = ctx.config.session.opTimeoutMs;
      const signal = withTimeout(ctx.signal, deadlineMs);
      const runtime = await ctx.runtime(signal);
      const r = await runtime.session(ctx.config).exec(name, script, { deadlineMs, maxOutputBytes: EXEC_MAX_OUTPUT_BYTES, signal });
      ctx.out(r.output.toString('utf8'));
      return r.exitCode;
    },
  ),
  'is-attached': sessionOp(async (name, p, s, ctx) => {
    ctx.out(String(await p.isAttached(name, s)));
  }),
  start: op(
    (r) => ({ name: sessionName(r), start: parseStartRequest(r.stdin ?? '') }),
    ({ name, start }, ctx) =>
      withProvider(ctx, ctx.config.session.startTimeoutMs + 5_000, async (p, signal) => {
        for (const warning of ctx.config.warnings) ctx.err(`warning: ${warning}\n`);
        await p.start(name, start, signal, ctx.request.rid ?? '');
      }),
  ),
  stop: op(sessionName, (name, ctx) => withProvider(ctx, ctx.config.session.stopTimeoutMs, (p, s) => p.stop(name, s))),
  interrupt: sessionOp((name, p, s) => p.interrupt(name, s)),
  'is-running': sessionOp(async (name, p, s, ctx) => {
    ctx.out(String(await p.isRunning(name, s)));
  }),
  'list-running': op(
    (r) => r.args[0] ?? '',
    (prefix, ctx) =>
      withProvider(ctx, ctx.config.session.opTimeoutMs, async (p, s) => {
        ctx.out((await p.listRunning(prefix, s)).map((n) => `${n}\n`).join(''));
      }),
  ),
  'process-alive': sessionOp(async (name, p, s, ctx) => {
    ctx.out(
      String(
        await p.processAlive(
          name,
          (ctx.request.stdin ?? '').split('\n').map((n) => n.trim()),
          s,
        ),
      ),
    );
  }),
  nudge: sessionOp((name, p, s, ctx) => p.nudge(name, ctx.request.stdin ?? '', s)),
  'send-keys': sessionOp((name, p, s, ctx) => p.sendKeys(name, ctx.request.args.slice(1), s)),
  peek: op(
    (r) => {
      const raw = r.args[1] ?? '50';
      if (!/^-?\d+$/.test(raw)) throw new GcK8sError('BAD_REQUEST', `peek: lines must be an integer, got ${quote(raw, 40)}`);
      return { name: sessionName(r), lines: Number(raw) };
    },
    ({ name, lines }, ctx) =>
      withProvider(ctx, ctx.config.session.opTimeoutMs, async (p, s) => {
        ctx.out(await p.peek(name, lines, s));
      }),
  ),
  'set-meta': op(
    (r) => {
      const name = sessionName(r);
      const key = need(r, 1, 'meta key');
      const bytes = Buffer.byteLength(key, 'utf8') + Buffer.byteLength(r.stdin ?? '', 'utf8');
      if (bytes > META_MAX_BYTES)
        throw new GcK8sError(
          'TOO_LARGE',
          `set-meta: key and value are ${bytes} bytes; tmux keeps at most ${META_MAX_BYTES} bytes per variable`,
        );
      return { name, key };
    },
    ({ name, key }, ctx) => withProvider(ctx, ctx.config.session.opTimeoutMs, (p, s) => p.setMeta(name, key, ctx.request.stdin ?? '', s)),
  ),
  'get-meta': metaOp(async (name, key, p, s, ctx) => {
    ctx.out(await p.getMeta(name, key, s));
  }),
  'remove-meta': metaOp((name, key, p, s) => p.removeMeta(name, key, s)),
  'get-last-activity': sessionOp(async (name, p, s, ctx) => {
    ctx.out(await p.lastActivity(name, s));
  }),
  'clear-scrollback': sessionOp((name, p, s) => p.clearScrollback(name, s)),
  'copy-to': op(
    (r) => ({ name: sessionName(r), src: need(r, 1, 'source path'), dst: r.args[2] ?? '' }),
    ({ name, src, dst }, ctx) => withProvider(ctx, ctx.config.session.opTimeoutMs, (p, s) => p.copyTo(name, src, dst, s)),
  ),
  'attach-target': sessionOp(async (name, p, s, ctx) => {
    ctx.out(JSON.stringify({ ...(await p.attachTarget(name, s)), context: ctx.config.context }));
  }),
};
