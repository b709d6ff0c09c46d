// An error nothing awaited is a bug, and Node would end the daemon with a stack on stderr that the
// daemon's log never sees and no drain. The guard logs it where the daemon logs, then shuts down
// gracefully (ops in flight finish or roll back) and makes the exit code 1; the next call or the
// Deployment starts a fresh daemon whose recovery finishes what this one left.

import type { Logger } from '../log/logger.js';
import { messageOf } from '../errors.js';

export interface ProcessEvents {
  on(event: 'unhandledRejection', listener: (reason: unknown) => void): unknown;
  off(event: 'unhandledRejection', listener: (reason: unknown) => void): unknown;
}

export interface CrashGuard {
  /** whether the daemon shut down because of an unhandled rejection */
  readonly failed: boolean;
  dispose(): void;
}

export function guardProcess(target: ProcessEvents, log: Logger, shutdown: (reason: string) => void): CrashGuard {
  let failed = false;
  const onRejection = (reason: unknown): void => {
    // the frames only: the stack's first line repeats the (unbounded) message
    const stack = reason instanceof Error ? reason.stack?.split('\n').slice(1, 12).join('\n') : undefined;
    log.fatal(
      { err: messageOf(reason).slice(0, 500), ...(stack === undefined ? {} : { stack }) },
      'unhandled rejection (a bug): shutting down',
    );
    if (failed) return;
    failed = true;
    shutdown('unhandled rejection');
  };
  target.on('unhandledRejection', onRejection);
  return {
    get failed() {
      return failed;
    },
    dispose: () => {
      target.off('unhandledRejection', onRejection);
    },
  };
}
