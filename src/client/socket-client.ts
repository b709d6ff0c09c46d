// Sends one request to the daemon and relays its frames. Dependency-free on purpose: this runs
// in a fresh process for every gc call, so it must start fast.

import { createConnection } from 'node:net';
import { encodeLine, LineDecoder } from '../protocol/framing.js';
import type { Frame, Request } from '../protocol/messages.js';

export interface CallResult {
  readonly exit: number;
  readonly code?: string;
  readonly message?: string;
}

/** The daemon accepted the request and went away before answering (it crashed or was killed). */
export class DaemonVanished extends Error {
  constructor(readonly socket: string) {
    super(`the gc-k8s daemon at ${socket} closed the connection without an answer (did it crash? see its log)`);
  }
}

export class DaemonUnreachable extends Error {
  constructor(
    readonly socket: string,
    readonly reason: string,
  ) {
    super(`cannot reach the gc-k8s daemon at ${socket}: ${reason}`);
  }
}

export function call(socket: string, request: Request, sinks: { out(data: string): void; err(data: string): void }): Promise<CallResult> {
  return new Promise((resolve, reject) => {
    const conn = createConnection(socket);
    const decoder = new LineDecoder();
    let connected = false;
    let done = false;
    conn.once('connect', () => {
      connected = true;
      conn.write(encodeLine(request));
    });
    conn.on('data', (chunk: Buffer) => {
      for (const line of decoder.push(chunk)) {
        const frame = JSON.parse(line) as Frame;
        if (frame.t === 'out') sinks.out(frame.data);
        else if (frame.t === 'err') sinks.err(frame.data);
        else {
          done = true;
          resolve({
            exit: frame.exit,
            ...(frame.code === undefined ? {} : { code: frame.code }),
            ...(frame.message === undefined ? {} : { message: frame.message }),
          });
        }
      }
    });
    conn.on('error', (err: NodeJS.ErrnoException) => {
      if (!connected) reject(new DaemonUnreachable(socket, err.code ?? err.message));
      // a reset or broken pipe mid-call is the daemon dying, like a close without an answer
      else if (!done)
        reject(
          err.code === 'ECONNRESET' || err.code === 'EPIPE'
            ? new DaemonVanished(socket)
            : new Error(`connection to the gc-k8s daemon failed: ${err.message}`),
        );
    });
    conn.on('close', () => {
      if (connected && !done) reject(new DaemonVanished(socket));
    });
  });
}
