// A persistent exec into the runner for one store: one WebSocket and one process (gc-bd-serve, or
// a bash loop where the image lacks it) carry every bd call of that store (src/exec/framed-channel.ts
// does the carrying). Each open channel holds one of the client's exec slots, so owners keep only
// a few open (src/exec/channel-pool.ts).

import { FramedChannel } from '../../exec/framed-channel.js';
import type { PodExec } from '../../kube/ports.js';
import type { Logger } from '../../log/logger.js';
import { CHANNEL_SCRIPT, encodeRequest, type BdReply } from './program.js';

export interface ChannelTarget {
  readonly pod: string;
  readonly container: string;
  readonly workdir: string;
  /** the bash loop around bd even where the image has gc-bd-serve */
  readonly bdOnly?: boolean;
}

export function openBdChannel(exec: PodExec, target: ChannelTarget, log: Logger, now?: () => number): FramedChannel {
  return new FramedChannel(exec, {
    ...(now === undefined ? {} : { now }),
    pod: target.pod,
    container: target.container,
    command: ['bash', '-c', CHANNEL_SCRIPT, 'gc-bd-channel', target.workdir, target.bdOnly === true ? 'bd' : 'serve'],
    tag: 'gcbd',
    log,
    // gc-bd-serve reports its hand-overs to bd here
    onStderrLine: (line) => {
      log.info({ workdir: target.workdir }, line);
    },
  });
}

/** Runs `bd ...argv` in the store's directory over the channel. */
export async function runBd(channel: FramedChannel, argv: readonly string[], signal: AbortSignal): Promise<BdReply> {
  const reply = await channel.call(encodeRequest(argv), `bd ${argv[0] ?? ''}`, signal);
  return { exitCode: reply.exitCode, stdout: reply.stdout.toString('utf8'), stderr: reply.stderr.toString('utf8') };
}
