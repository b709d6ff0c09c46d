// A daemon that dies between reserving seqs and writing them: the next store tombstones what it
// left unwritten (only when the reserver is certainly dead), so watchers do not wait out the gap.

import { afterEach, describe, expect, it } from 'vitest';
import { eventFromInput, parseEventInput } from '../../../src/events/event-json.js';
import { buildCounterConfigMap, buildEventConfigMap, decodeReservation, SEQ_CONFIGMAP } from '../../../src/events/layout.js';
import { readFileSync } from 'node:fs';
import { currentOwner, formatOwner, ownerIsDead, parseOwner, processStart } from '../../../src/events/owner.js';
import { Namespace, signal, startWatch } from './helpers/harness.js';

let ns: Namespace;
afterEach(() => {
  ns.close();
});

const input = (type: string) => parseEventInput(JSON.stringify({ type, actor: 'gc' }));

/** What a daemon that died mid-batch leaves: the counter at 5 with block 3..5 reserved by `owner`, only 3 written. */
async function crashedReservation(owner: string): Promise<void> {
  const a = ns.daemon({ owner: 'earlier' });
  await a.store.record(input('one'), signal());
  await a.store.record(input('two'), signal());
  const counter = ns.server.object(SEQ_CONFIGMAP)!;
  ns.server.put(buildCounterConfigMap(5, counter, { owner, first: 3, count: 3 }));
  ns.server.put(buildEventConfigMap(eventFromInput(input('three'), 3, '2026-11-22T00:00:00Z')));
  await ns.server.settled();
}

describe('reservations', () => {
  it('record writes which process reserved which block on the counter', async () => {
    ns = new Namespace();
    const d = ns.daemon({ owner: 'host/boot/42/7' });
    await d.store.record(input('x'), signal());
    await d.store.record(input('y'), signal());
    expect(decodeReservation(ns.server.object(SEQ_CONFIGMAP))).toEqual({ owner: 'host/boot/42/7', first: 2, count: 1 });
  });

  it('a dead reserver: its unwritten seqs are tombstoned at once, its written one kept, and a watch goes straight past them', async () => {
    ns = new Namespace();
    await crashedReservation('dead-daemon');
    const b = ns.daemon({ owner: 'b', isDeadOwner: (o) => o === 'dead-daemon' });
    const watch = startWatch(b.store, 0);
    const next = await b.store.record(input('after'), signal());
    expect(next.seq).toBe(6);
    // no clock advance: the watch is not waiting out gap_timeout for 4 and 5
    expect((await watch.until(4)).map((e) => [e.seq, e.type])).toEqual([
      [1, 'one'],
      [2, 'two'],
      [3, 'three'],
      [6, 'after'],
    ]);
    watch.stop();
    expect(ns.server.object('gc-evt-0000000003')?.data['event']).toContain('three');
    for (const seq of [4, 5]) expect(ns.server.object(`gc-evt-000000000${seq}`)?.data['tombstone']).toMatch(/reserved by dead-daemon/);
    expect(b.records.some((r) => r.msg.includes('tombstoned seqs a dead daemon had reserved'))).toBe(true);
  });

  it("a reserver that may be alive (or is another machine's) is left alone", async () => {
    ns = new Namespace();
    await crashedReservation('maybe-alive');
    const b = ns.daemon({ owner: 'b', isDeadOwner: () => false });
    expect((await b.store.record(input('after'), signal())).seq).toBe(6);
    expect(ns.server.object('gc-evt-0000000004')).toBeUndefined();
    expect(ns.server.object('gc-evt-0000000005')).toBeUndefined();
  });
});

describe('owner identity', () => {
  it('is certain about death only on the same machine and boot', () => {
    const me = currentOwner();
    expect(me).toBeDefined();
    expect(parseOwner(formatOwner(me!))).toEqual(me);
    expect(ownerIsDead(me!, { me })).toBe(false);
    // the same pid started again is another process; a pid with no process is dead
    expect(ownerIsDead({ ...me!, pid: 4242, start: '1' }, { me, probe: () => '2' })).toBe(true);
    expect(ownerIsDead({ ...me!, pid: 4242, start: '1' }, { me, probe: () => undefined })).toBe(true);
    expect(ownerIsDead({ ...me!, pid: 4242, start: '1' }, { me, probe: () => '1' })).toBe(false);
    expect(ownerIsDead({ ...me!, host: 'elsewhere', pid: 4242 }, { me, probe: () => undefined })).toBe(false);
    expect(ownerIsDead({ ...me!, boot: 'another-boot', pid: 4242 }, { me, probe: () => undefined })).toBe(false);
    expect(ownerIsDead({ ...me!, pid: 4242 }, { me: undefined, probe: () => undefined })).toBe(false); // no /proc: never certain
    expect(parseOwner('not an owner')).toBeUndefined();
  });

  it('a killed process that is not reaped yet (a zombie) counts as dead', async () => {
    const { spawn } = await import('node:child_process');
    // a parent that never reaps: it starts a child, prints its pid, then becomes `sleep`
    const parent = spawn('sh', ['-c', 'sleep 30 & echo $!; exec sleep 30']);
    try {
      const pid = Number(
        await new Promise<string>((resolve) =>
          parent.stdout.once('data', (d: Buffer) => {
            resolve(d.toString().trim());
          }),
        ),
      );
      expect(processStart(pid)).toMatch(/^\d+$/);
      // kill only once the shell has become `sleep`: a shell still running would reap the child
      for (let i = 0; i < 200 && readFileSync(`/proc/${parent.pid ?? 0}/comm`, 'utf8') !== 'sleep\n'; i++)
        await new Promise((r) => setTimeout(r, 5));
      expect(readFileSync(`/proc/${parent.pid ?? 0}/comm`, 'utf8')).toBe('sleep\n');
      process.kill(pid, 'SIGKILL');
      for (let i = 0; i < 100 && readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z'; i++)
        await new Promise((r) => setTimeout(r, 10));
      expect(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0]).toBe('Z');
      expect(processStart(pid)).toBeUndefined();
    } finally {
      parent.kill('SIGKILL');
    }
  });
});
