// Writes exec stdin as channel-0 frames with backpressure, then half-closes it (v5 CLOSE). ws
// buffers sends without limit, so past a high-water mark we wait for the socket to drain rather
// than hold an entire tarball in memory.

import type WebSocket from 'ws';
import { CHANNEL_CLOSE, CHANNEL_STDIN, frame } from './exec-protocol.js';

export interface StdinOptions {
  readonly chunkBytes: number;
  readonly highWaterBytes: number;
  /** true once the exec has ended (status received, failed, aborted): stop writing */
  readonly stopped: () => boolean;
}

export async function writeStdin(ws: WebSocket, stdin: Uint8Array | AsyncIterable<Uint8Array>, options: StdinOptions): Promise<void> {
  // Every send is observed at once: on a long-lived stream (a persistent channel) the source may
  // wait for its next chunk while an earlier send fails (EPIPE when the pod goes away), and a
  // rejection nobody listens to yet would end the daemon.
  let failed: { error: unknown } | undefined;
  let inFlight: Promise<void>[] = [];
  const track = (p: Promise<void>): void => {
    inFlight.push(
      p.catch((error: unknown) => {
        failed ??= { error };
      }),
    );
  };
  const settle = async (): Promise<void> => {
    await Promise.all(inFlight);
    inFlight = [];
    if (failed !== undefined) throw failed.error;
  };
  const source: Iterable<Uint8Array> | AsyncIterable<Uint8Array> = stdin instanceof Uint8Array ? [stdin] : stdin;
  for await (const chunk of source) {
    for (let offset = 0; offset < chunk.length; offset += options.chunkBytes) {
      if (options.stopped()) return; // leaving the loop also calls the iterator's return()
      if (failed !== undefined) throw failed.error;
      track(send(ws, frame(CHANNEL_STDIN, chunk.subarray(offset, offset + options.chunkBytes))));
      if (ws.bufferedAmount > options.highWaterBytes) await settle();
    }
  }
  await settle();
  if (options.stopped()) return;
  await send(ws, Buffer.from([CHANNEL_CLOSE, CHANNEL_STDIN]));
}

function send(ws: WebSocket, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    ws.send(data, { binary: true }, (err) => {
      // ws passes null (not undefined, despite its typings) on success.
      if (err instanceof Error) reject(err);
      else resolve();
    });
  });
}
