// Request → op handler. An op that is not part of the protocol exits 2 before anything else; then
// the arguments are checked (bad input touches nothing), the request's city and its settings are
// resolved (resolve-city.ts), and the handler runs on the runtime of the city's context and
// namespace. What a handler throws becomes the protocol's exit 1 (done by the server).

import { GcK8sError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { EXIT_UNKNOWN_OP, type Provider, type Request } from '../protocol/messages.js';
import { argumentProblem, stdinTooLarge } from '../protocol/ops/index.js';
import { handlerOf, type OpContext, type OpHandler } from './handlers/op.js';
import { holderText, type LeaderStatus } from './leader.js';
import type { CityResolution } from './resolve-city.js';
import type { Runtimes } from './runtimes.js';
import type { RequestHandler } from './server.js';

/** Repeats of one warning reach the daemon log at most this often (stderr gets every one). */
const WARNING_LOG_INTERVAL_MS = 60_000;

export type ProviderHandlers = Readonly<Record<Provider, Readonly<Record<string, OpHandler>>>>;

/** Leader election as the router sees it (daemon/leader.ts). */
export interface LeaderGate {
  readonly leading: boolean;
  /** fires when the current term ends */
  termSignal(): AbortSignal;
  status(): LeaderStatus;
  /** resolves once the first election round has ended (or at the signal) */
  settled(signal: AbortSignal): Promise<void>;
}

/** How long a call waits for a new daemon's first election round before it is judged. */
const FIRST_ROUND_WAIT_MS = 6_000;

/** NOT_LEADER: one line saying who acts instead. */
export function notLeader(status: LeaderStatus): GcK8sError {
  return new GcK8sError(
    'NOT_LEADER',
    `this gc-k8s daemon (${status.identity}) is not the leader of lease ${status.lease}, held by ${holderText(status)}: it does not act on sessions; retry shortly or use the leader's daemon`,
  );
}

export function createRouter(deps: {
  log: Logger;
  runtimes: Pick<Runtimes, 'get'>;
  handlers: ProviderHandlers;
  resolve(request: Request, signal: AbortSignal): Promise<CityResolution>;
  /** with leader election: every provider op is refused unless this daemon leads, and cancelled when it stops */
  leader?: LeaderGate;
}): RequestHandler {
  const warned = new Map<string, number>();
  return async (request, io) => {
    const ops = Object.hasOwn(deps.handlers, request.provider) ? deps.handlers[request.provider] : undefined;
    if (ops === undefined) throw new GcK8sError('BAD_REQUEST', `unknown provider ${JSON.stringify(request.provider.slice(0, 40))}`);
    const handler = handlerOf(ops, request.op);
    if (handler === undefined) return EXIT_UNKNOWN_OP;
    const tooLarge = stdinTooLarge(request.provider, request.op, Buffer.byteLength(request.stdin ?? '', 'utf8'));
    if (tooLarge !== undefined) throw new GcK8sError('TOO_LARGE', tooLarge);
    const problem = argumentProblem(request.provider, request.op, request.args);
    if (problem !== undefined) throw new GcK8sError('BAD_REQUEST', problem);
    handler.check(request);
    // only the leader acts (admin ops, such as status, answer anywhere); losing the lease
    // cancels what this daemon is doing at once
    let signal = io.signal;
    if (deps.leader !== undefined && request.provider !== 'admin') {
      // a daemon just started may not have finished its first round: wait for it (bounded)
      if (!deps.leader.leading) await deps.leader.settled(AbortSignal.any([io.signal, AbortSignal.timeout(FIRST_ROUND_WAIT_MS)]));
      if (!deps.leader.leading) throw notLeader(deps.leader.status());
      signal = AbortSignal.any([io.signal, deps.leader.termSignal()]);
    }
    const log = deps.log.child({
      provider: request.provider,
      op: request.op,
      ...(request.args[0] === undefined ? {} : { arg: request.args[0].slice(0, 200) }),
    });
    const { config, source, warning } = await deps.resolve(request, signal);
    if (warning !== undefined) {
      io.err(`warning: ${warning}\n`);
      const last = warned.get(warning) ?? 0;
      if (Date.now() - last > WARNING_LOG_INTERVAL_MS) {
        if (warned.size > 100) warned.clear();
        warned.set(warning, Date.now());
        log.warn({ cwd: request.cwd }, warning);
      }
    }
    const ctx: OpContext = {
      request,
      config,
      citySource: source,
      log,
      signal,
      runtime: (signal) => deps.runtimes.get(config.context, config.pod.namespace, signal),
      out: io.out,
      err: io.err,
    };
    return handler.run(ctx);
  };
}
