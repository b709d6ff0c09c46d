// The daemon's direct Dolt check tells "no server reached" (so health asks the runner instead)
// from "a server answered and refused", and never outlives its deadline.
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { pingDolt } from '../../../src/beads/dolt/mysql.js';

const servers: Server[] = [];
const sockets: Socket[] = [];

function listen(onConnection: (s: Socket) => void): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer((s) => {
      sockets.push(s);
      onConnection(s);
    });
    servers.push(server);
    server.listen(0, '127.0.0.1', () => {
      resolve((server.address() as { port: number }).port);
    });
  });
}

afterEach(() => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const s of servers.splice(0)) s.close();
});

const target = (port: number, host = '127.0.0.1') => ({ host, port, user: 'root', password: 'pw' });

describe('pingDolt', () => {
  it('a closed port or an unknown host is "not reached"', async () => {
    const port = await listen(() => undefined);
    servers[0]!.close();
    await new Promise((r) => setTimeout(r, 20));
    expect(await pingDolt(target(port), 2_000)).toMatchObject({ ok: false, reached: false });
    expect(await pingDolt(target(3307, 'no-such-host.invalid'), 2_000)).toMatchObject({ ok: false, reached: false });
  });

  it('a server that never answers is "not reached" once the deadline passes', async () => {
    const port = await listen(() => undefined);
    const r = await pingDolt(target(port), 300);
    expect(r).toMatchObject({ ok: false, reached: false });
    expect(r.ok ? '' : r.cause).toMatch(/127\.0\.0\.1:\d+/);
  });

  it('a MySQL server refusing the login is "reached", with its message', async () => {
    // Handshake v10, then ERR 1045 for whatever the client answers.
    const port = await listen((s) => {
      const scramble = Buffer.alloc(8, 0x61);
      const body = Buffer.concat([
        Buffer.from([10]),
        Buffer.from('8.0.0-fake\0'),
        Buffer.from([1, 0, 0, 0]),
        scramble,
        Buffer.from([0]),
        Buffer.from([0xff, 0xf7]),
        Buffer.from([33]),
        Buffer.from([2, 0]),
        Buffer.from([0xff, 0x81]),
        Buffer.from([21]),
        Buffer.alloc(10),
        Buffer.alloc(12, 0x62),
        Buffer.from([0]),
        Buffer.from('mysql_native_password\0'),
      ]);
      s.write(Buffer.concat([Buffer.from([body.length & 0xff, (body.length >> 8) & 0xff, 0, 0]), body]));
      s.once('data', () => {
        const err = Buffer.concat([Buffer.from([0xff, 0x1d, 0x04]), Buffer.from('#28000'), Buffer.from("Access denied for user 'root'")]);
        s.write(Buffer.concat([Buffer.from([err.length, 0, 0, 2]), err]));
      });
    });
    const r = await pingDolt(target(port), 2_000);
    expect(r).toMatchObject({ ok: false, reached: true });
    expect(r.ok ? '' : r.cause).toMatch(/Access denied/);
  });
});
