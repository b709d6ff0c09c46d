// Exec stdin over a WebSocket: a send that fails while the source waits for its next chunk (a
// persistent channel whose pod went away) must reject writeStdin, never surface as an unhandled
// rejection (which ends the daemon).
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import { writeStdin } from '../../../src/k8s/exec-stdin.js';

/** A socket whose sends fail (asynchronously, as a write EPIPE does) once `broken` is set. */
function fakeSocket(): { ws: WebSocket; sent: Buffer[]; broken: { value: boolean } } {
  const sent: Buffer[] = [];
  const broken = { value: false };
  const ws = {
    bufferedAmount: 0,
    send(data: Buffer, _opts: unknown, cb: (err?: Error | null) => void) {
      sent.push(data);
      const fail = broken.value;
      setImmediate(() => {
        cb(fail ? Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }) : null);
      });
    },
  } as unknown as WebSocket;
  return { ws, sent, broken };
}

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => {
  unhandled.push(reason);
};
process.on('unhandledRejection', onUnhandled);
afterEach(() => {
  unhandled.length = 0;
});
afterAll(() => {
  process.off('unhandledRejection', onUnhandled);
});

describe('writeStdin', () => {
  it('a send failing while the source waits is reported by writeStdin, not left unhandled', async () => {
    const { ws, broken } = fakeSocket();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    async function* source(): AsyncGenerator<Uint8Array> {
      broken.value = true;
      yield Buffer.from('first call');
      await gate; // a persistent channel: the next call's stdin comes later
      yield Buffer.from('second call');
    }
    const writing = writeStdin(ws, source(), { chunkBytes: 1024, highWaterBytes: 1 << 20, stopped: () => false });
    await new Promise((r) => setTimeout(r, 20)); // the first send fails meanwhile
    release();
    await expect(writing).rejects.toThrow('write EPIPE');
    await new Promise((r) => setTimeout(r, 20));
    expect(unhandled).toEqual([]);
  });

  it('writes every chunk, then the v5 close of stdin', async () => {
    const { ws, sent } = fakeSocket();
    await writeStdin(ws, Buffer.from('abcdefghij'), { chunkBytes: 4, highWaterBytes: 1 << 20, stopped: () => false });
    expect(sent.map((b) => b.toString('latin1'))).toEqual(['\0abcd', '\0efgh', '\0ij', '\xff\0']);
  });
});
