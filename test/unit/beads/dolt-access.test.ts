// How the daemon finds a store's Dolt: Service-shaped names through the API (ClusterIP), other
// hosts as given, a back-off while Dolt is out of reach, and a fresh route (and password) after
// refused credentials. The mysql2 pool is replaced by a scripted one.
import { describe, expect, it } from 'vitest';
import type { ServiceAddress } from '../../../src/kube/types.js';
import { DoltAccess, serviceOf } from '../../../src/beads/dolt/access.js';
import type { DoltSql, DoltTarget } from '../../../src/beads/dolt/mysql.js';
import type { StoreDatabase } from '../../../src/beads/service.js';
import { GcK8sError } from '../../../src/errors.js';
import { silentLogger } from '../../../src/log/logger.js';

const signal = new AbortController().signal;

function store(host: string, database = 'gc'): StoreDatabase {
  return { record: { workdir: '/workspace', prefix: 'gc', database: '', host, port: '3307', user: 'root', customTypes: [] }, database };
}

function setup(opts: { services?: Record<string, ServiceAddress>; fail?: () => GcK8sError | undefined } = {}) {
  let now = 0;
  const opened: DoltTarget[] = [];
  const queries: string[] = [];
  let closed = 0;
  let password = 'pw1';
  const pool = (t: DoltTarget): DoltSql => {
    opened.push(t);
    return {
      query: (sql) => {
        queries.push(sql);
        const err = opts.fail?.();
        return err === undefined ? Promise.resolve([{ id: 'gc-1' }]) : Promise.reject(err);
      },
      close: () => {
        closed++;
        return Promise.resolve();
      },
    };
  };
  const access = new DoltAccess({
    namespace: 'gc',
    serviceAddress: (ns, name) => Promise.resolve(opts.services?.[`${ns}/${name}`]),
    password: () => Promise.resolve(password),
    log: silentLogger(),
    now: () => now,
    pool,
  });
  return {
    access,
    opened,
    queries,
    closedCount: () => closed,
    advance: (ms: number) => {
      now += ms;
    },
    setPassword: (p: string) => {
      password = p;
    },
  };
}

const svc = (namespace: string, name: string, clusterIP: string): ServiceAddress => ({
  name,
  namespace,
  clusterIP,
  ports: [{ name: 'mysql', port: 3307 }],
});

describe('serviceOf', () => {
  it('reads svc, svc.ns and svc.ns.svc[.domain]; IPs and other names are dialled as given', () => {
    expect(serviceOf('dolt', 'gc')).toEqual({ name: 'dolt', namespace: 'gc' });
    expect(serviceOf('dolt.beads', 'gc')).toEqual({ name: 'dolt', namespace: 'beads' });
    expect(serviceOf('dolt.beads.svc', 'gc')).toEqual({ name: 'dolt', namespace: 'beads' });
    expect(serviceOf('Dolt.Beads.svc.cluster.local.', 'gc')).toEqual({ name: 'dolt', namespace: 'beads' });
    expect(serviceOf('dolt.beads.svc.corp.example', 'gc')).toEqual({ name: 'dolt', namespace: 'beads' });
    expect(serviceOf('10.96.0.12', 'gc')).toBeUndefined();
    expect(serviceOf('fd00::1', 'gc')).toBeUndefined();
    expect(serviceOf('db.example.com', 'gc')).toBeUndefined();
  });
});

describe('DoltAccess', () => {
  it('dials the ClusterIP of the named Service with the Secret password, one pool per server', async () => {
    const t = setup({ services: { 'beads/dolt': svc('beads', 'dolt', '10.96.0.12') } });
    const reads = await t.access.reads(store('dolt.beads.svc.cluster.local'), signal);
    expect(await reads?.get('gc-1')).toBeDefined();
    await t.access.reads(store('dolt.beads.svc.cluster.local', 'other'), signal);
    expect(t.opened).toEqual([{ host: '10.96.0.12', port: 3307, user: 'root', password: 'pw1' }]);
    expect(t.queries[0]).toContain('FROM `gc`.issues WHERE id = ?');
  });

  it('a name that is no Service here, or an IP, is dialled as given', async () => {
    const t = setup();
    await t.access.reads(store('dolt-external'), signal);
    await t.access.reads(store('192.0.2.7'), signal);
    expect(t.opened.map((o) => o.host)).toEqual(['dolt-external', '192.0.2.7']);
  });

  it('a headless Service gives no direct route', async () => {
    const t = setup({ services: { 'gc/dolt': svc('gc', 'dolt', 'None') } });
    expect(await t.access.reads(store('dolt'), signal)).toBeUndefined();
    expect(t.opened).toEqual([]);
  });

  it('no reads without a known database', async () => {
    const t = setup();
    expect(await t.access.reads(undefined, signal)).toBeUndefined();
  });

  it('unreachable: no direct route until the back-off passes, and the back-off doubles', async () => {
    let failing = true;
    const t = setup({ fail: () => (failing ? new GcK8sError('DOLT_UNREACHABLE', 'dolt 10.0.0.1:3307: connect ETIMEDOUT') : undefined) });
    const first = await t.access.reads(store('10.0.0.1'), signal);
    await expect(first?.get('gc-1')).rejects.toMatchObject({ code: 'DOLT_UNREACHABLE' });
    expect(await t.access.reads(store('10.0.0.1'), signal)).toBeUndefined();
    t.advance(30_000);
    const second = await t.access.reads(store('10.0.0.1'), signal);
    await expect(second?.get('gc-1')).rejects.toMatchObject({ code: 'DOLT_UNREACHABLE' });
    t.advance(30_000);
    expect(await t.access.reads(store('10.0.0.1'), signal)).toBeUndefined(); // 60 s now
    t.advance(30_000);
    failing = false;
    const third = await t.access.reads(store('10.0.0.1'), signal);
    expect(await third?.get('gc-1')).toBeDefined();
    expect(t.opened).toHaveLength(3); // each failure dropped its pool
  });

  it('one lost connection (Dolt restarted) is retried on a fresh one, without a back-off', async () => {
    let failures = 1;
    const t = setup({
      fail: () =>
        failures-- > 0 ? new GcK8sError('DOLT_UNREACHABLE', 'dolt x: Connection lost: The server closed the connection.') : undefined,
    });
    const reads = await t.access.reads(store('10.0.0.1'), signal);
    expect(await reads?.get('gc-1')).toBeDefined();
    expect(await t.access.reads(store('10.0.0.1'), signal)).toBeDefined();
    expect(t.opened).toHaveLength(1);
  });

  it('refused credentials drop the route, so the next one reads the (rotated) Secret again', async () => {
    let refuse = true;
    const t = setup({ fail: () => (refuse ? new GcK8sError('DOLT_QUERY', "dolt x: Access denied for user 'root'") : undefined) });
    const first = await t.access.reads(store('10.0.0.1'), signal);
    await expect(first?.get('gc-1')).rejects.toMatchObject({ code: 'DOLT_QUERY' });
    await new Promise((r) => setImmediate(r));
    refuse = false;
    t.setPassword('pw2');
    const second = await t.access.reads(store('10.0.0.1'), signal);
    expect(await second?.get('gc-1')).toBeDefined();
    expect(t.opened.map((o) => o.password)).toEqual(['pw1', 'pw2']);
    expect(t.closedCount()).toBe(1);
  });
});
