// One op's daemon half: its argument parser (run before the city is resolved or anything is
// touched, so bad input changes nothing) and its handler. Each provider's handlers are a record
// keyed by that provider's op table (src/protocol/ops), so an op without a handler does not
// compile, and the dispatch is a lookup.

import type { Config } from '../../config/load.js';
import { GcK8sError } from '../../errors.js';
import type { Logger } from '../../log/logger.js';
import type { Request } from '../../protocol/messages.js';
import type { OpTable } from '../../protocol/ops/index.js';
import type { CitySource } from '../resolve-city.js';
import type { NamespaceRuntime } from '../runtime.js';

export interface OpContext {
  readonly request: Request;
  readonly config: Config;
  /** how the request's city was found (see resolve-city.ts) */
  readonly citySource: CitySource;
  readonly log: Logger;
  /** fires when the client disconnects or the daemon shuts down */
  readonly signal: AbortSignal;
  /** the runtime of the config's context and namespace, made on first use */
  runtime(signal: AbortSignal): Promise<NamespaceRuntime>;
  out(data: string): void;
  err(data: string): void;
}

export interface OpHandler {
  /** throws BAD_REQUEST (or TOO_LARGE) naming what is wrong */
  check(request: Request): void;
  /** the exit code; a thrown GcK8sError becomes exit 1 with its message */
  run(ctx: OpContext): Promise<number>;
}

/** A handler from a parser and what to do with what it parsed. */
export function op<A>(parse: (request: Request) => A, run: (args: A, ctx: OpContext) => Promise<number>): OpHandler {
  return {
    check: (request) => {
      parse(request);
    },
    run: (ctx) => run(parse(ctx.request), ctx),
  };
}

export type Handlers<T extends OpTable> = Readonly<Record<keyof T, OpHandler>>;

/** The op's handler, or undefined for an op that is not part of the protocol (exit 2). */
export function handlerOf(handlers: Readonly<Record<string, OpHandler>>, name: string): OpHandler | undefined {
  return Object.hasOwn(handlers, name) ? handlers[name] : undefined;
}

/** Argument `index`, which must be given. */
export function need(request: Request, index: number, what: string): string {
  const value = request.args[index];
  if (value === undefined || value === '') throw new GcK8sError('BAD_REQUEST', `${request.op}: missing ${what}`);
  return value;
}
