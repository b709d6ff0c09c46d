// Gas City's exec beads protocol (gc-beads-k8s), op by op, on the beads runtime of the request's
// namespace. Input is validated before anything runs; only ops that are not part of the protocol
// exit 2 (gc reads 2 as "not supported" and carries on).

import { DoltAccess } from '../beads/dolt-access.js';
import { BeadsService } from '../beads/service.js';
import { answer, readRequest } from '../beads/reads.js';
import { DirectReader } from '../beads/sql-ops.js';
import { doltCoordinates, doltPassword } from '../beads/dolt-coordinates.js';
import { assertImage, checkHealth } from '../beads/lifecycle.js';
import * as ops from '../beads/ops.js';
import type { StoreRecord } from '../beads/registry.js';
import { storeScope } from '../beads/scope.js';
import { parseCreateRequest, parseUpdateRequest, type WireBead } from '../beads/wire.js';
import { GcK8sError, hasCode } from '../errors.js';
import { EXIT_ERROR, EXIT_OK, EXIT_UNKNOWN_OP } from '../protocol/messages.js';
import { withTimeout } from '../util/abort.js';
import { systemClock } from '../util/clock.js';
import type { Handler, RequestContext } from './context.js';

const STORE_OPS = new Set([
  'create', 'get', 'update', 'close', 'list', 'ready', 'children', 'list-by-label', 'list-by-status', 'set-metadata', 'delete', 'dep-add', 'dep-remove', 'dep-list', 'config-set',
]);
const LIFECYCLE_OPS = new Set(['start', 'ensure-ready', 'init', 'health', 'recover', 'probe', 'stop', 'shutdown']);
const RECOVER_TIMEOUT_MS = 115_000;
const PROBE_TIMEOUT_MS = 8_000;

export interface BeadsHandler {
  readonly handle: Handler;
  close(): void;
}

function arg(ctx: RequestContext, index: number, what: string): string {
  const v = ctx.request.args[index];
  if (v === undefined || v === '') throw new GcK8sError('BAD_REQUEST', `${ctx.request.op}: missing ${what}`);
  return v;
}

const json = (value: unknown): string => `${JSON.stringify(value)}\n`;

/**
 * Reads answered from Dolt directly when the daemon can reach it: undefined means "ask bd", as
 * does any Dolt failure (logged), so the direct path can only make a read faster, never wrong.
 */
async function direct<T>(ctx: RequestContext, reader: DirectReader | undefined, read: (reader: DirectReader) => Promise<T | undefined>): Promise<T | undefined> {
  if (reader === undefined) return undefined;
  try {
    return await read(reader);
  } catch (err) {
    if (!hasCode(err, 'DOLT_UNREACHABLE', 'DOLT_QUERY')) throw err;
    ctx.log.warn({ op: ctx.request.op, err: (err as Error).message }, 'direct Dolt read failed; asking bd');
    return undefined;
  }
}

interface Runtime {
  readonly service: BeadsService;
  readonly dolt: DoltAccess;
}

export function createBeadsHandler(): BeadsHandler {
  const runtimes = new Map<string, Runtime>();

  let generation = 0;
  const closeAll = (): void => {
    for (const rt of runtimes.values()) {
      rt.service.close();
      void rt.dolt.close();
    }
    runtimes.clear();
  };

  async function runtimeFor(ctx: RequestContext, signal: AbortSignal): Promise<Runtime> {
    // runtimes built on clients of a replaced kubeconfig would talk to a cluster that is gone
    if (ctx.connections.generation() !== generation) {
      closeAll();
      generation = ctx.connections.generation();
    }
    const { context } = ctx.config;
    const { namespace, doltSecret } = ctx.config.pod;
    const key = `${context}\u0000${namespace}`;
    let rt = runtimes.get(key);
    if (rt === undefined) {
      const client = await ctx.connections.namespace(context, namespace, signal);
      const log = ctx.log.child({ component: 'beads', namespace });
      const dolt = new DoltAccess({
        namespace,
        serviceAddress: async (ns, name, s) => (await ctx.connections.namespace(context, ns, s)).services.get(name, { signal: s }),
        password: async (s) => (await client.secrets.value(doltSecret, 'password', { signal: s })) ?? '',
        log,
        now: () => systemClock.now(),
      });
      rt = { service: new BeadsService(client, systemClock, log), dolt };
      runtimes.set(key, rt);
    }
    return rt;
  }

  async function serviceFor(ctx: RequestContext, signal: AbortSignal): Promise<BeadsService> {
    return (await runtimeFor(ctx, signal)).service;
  }

  function record(ctx: RequestContext, workdir: string, prefix: string, database: string): StoreRecord {
    const d = doltCoordinates(ctx.request.env, ctx.config.pod);
    return { workdir, prefix, database, host: d.host, port: d.port, user: d.user, customTypes: ctx.config.customTypes };
  }

  async function lifecycle(ctx: RequestContext): Promise<number> {
    const { request, config } = ctx;
    const settings = config.pod;
    switch (request.op) {
      case 'start':
      case 'ensure-ready': {
        assertImage(settings, request.op);
        const signal = withTimeout(ctx.signal, config.session.startTimeoutMs);
        await (await serviceFor(ctx, signal)).ensureRunner(settings, signal);
        return EXIT_OK;
      }
      case 'stop':
      case 'shutdown': {
        const signal = withTimeout(ctx.signal, config.session.stopTimeoutMs);
        const service = await serviceFor(ctx, signal);
        await service.runner(settings).delete(signal);
        service.forgetRunner();
        return EXIT_OK;
      }
      case 'init': {
        assertImage(settings, 'init');
        const dir = arg(ctx, 0, 'store directory');
        const prefix = arg(ctx, 1, 'prefix');
        const scope = storeScope(request.env, dir, prefix);
        const rec = record(ctx, scope.workdir, prefix, request.args[2] ?? '');
        const signal = withTimeout(ctx.signal, config.session.opTimeoutMs);
        await (await serviceFor(ctx, signal)).init(settings, rec, signal);
        return EXIT_OK;
      }
      case 'probe': {
        assertImage(settings, 'probe');
        const signal = withTimeout(ctx.signal, PROBE_TIMEOUT_MS);
        await (await serviceFor(ctx, signal)).runner(settings).get(signal);
        return EXIT_OK;
      }
      case 'health':
      case 'recover': {
        const signal = withTimeout(ctx.signal, request.op === 'recover' ? RECOVER_TIMEOUT_MS : config.session.opTimeoutMs);
        const { service, dolt } = await runtimeFor(ctx, signal);
        if (request.op === 'recover') {
          assertImage(settings, 'recover');
          await service.recover(settings, signal);
        }
        const d = doltCoordinates(request.env, settings);
        // The Service name resolves only inside the cluster; the daemon dials its ClusterIP.
        const dialHost = await dolt.address(d.host, signal).catch(() => d.host);
        const password = doltPassword(request.env) || (await dolt.password(signal).catch(() => ''));
        const report = await checkHealth(service, settings, { host: d.host, port: Number(d.port), user: d.user, password }, signal, dialHost);
        for (const note of report.notes) ctx.err(`${request.op}: ${note}\n`);
        if (report.ok) return EXIT_OK;
        ctx.err(`${request.op}: unhealthy: ${report.problems.join('; ')}\n`);
        return EXIT_ERROR;
      }
    }
    return EXIT_UNKNOWN_OP;
  }

  const handle: Handler = async (ctx) => {
    const { request, config } = ctx;
    if (LIFECYCLE_OPS.has(request.op)) return lifecycle(ctx);
    if (!STORE_OPS.has(request.op)) return EXIT_UNKNOWN_OP;

    // Everything the caller gave is checked before the cluster is touched: bad input writes nothing.
    const stdin = request.stdin ?? '';
    const create = request.op === 'create' ? parseCreateRequest(stdin) : undefined;
    // arguments first, then the payload: `update` with no id is a missing id, not bad JSON
    const id = ['update', 'close', 'set-metadata', 'delete'].includes(request.op) ? arg(ctx, 0, 'bead id') : '';
    const update = request.op === 'update' ? parseUpdateRequest(stdin) : undefined;
    // Required arguments of the writes, checked now too (the switch below reads them again).
    const required: Partial<Record<string, [number, string][]>> = {
      'set-metadata': [[1, 'metadata key']],
      'dep-add': [[0, 'issue id'], [1, 'depends-on id']],
      'dep-remove': [[0, 'issue id'], [1, 'depends-on id']],
      'config-set': [[0, 'config key']],
    };
    for (const [index, what] of required[request.op] ?? []) arg(ctx, index, what);
    const read = readRequest(request.op, request.args);
    const scope = storeScope(request.env);
    assertImage(config.pod, request.op);

    const signal = withTimeout(ctx.signal, config.session.opTimeoutMs);
    const { service, dolt } = await runtimeFor(ctx, signal);
    const reads = config.beadsDirectReads && (read !== undefined || request.op === 'create') ? await dolt.reads(await service.storeDatabase(scope.workdir, signal), signal) : undefined;
    const reader = reads === undefined ? undefined : new DirectReader(reads);
    if (read !== undefined) {
      const fast = await direct(ctx, reader, (r) => answer(r, read));
      if (fast !== undefined) {
        ctx.out(json(fast));
        return EXIT_OK;
      }
    }
    const call = {
      workdir: scope.workdir,
      idempotent: read !== undefined,
      bdOnly: !config.beadsFastWrites,
      ...(scope.prefix === '' ? {} : { fallback: record(ctx, scope.workdir, scope.prefix, '') }),
    };
    const out = await service.withStore(config.pod, call, signal, async (run) => {
      if (read !== undefined) return json(await answer(ops.bdReader(run), read));
      switch (request.op) {
        case 'create': {
          // The created bead is read back from Dolt when the daemon can, else by bd show.
          const show = async (newId: string): Promise<WireBead> => (await direct(ctx, reader, (r) => r.get(newId))) ?? ops.getBead(run, newId);
          return json(await ops.createBead(run, create ?? parseCreateRequest(stdin), show));
        }
        case 'update':
          await ops.updateBead(run, id, update ?? parseUpdateRequest(stdin));
          return '';
        case 'close':
          await ops.closeBead(run, id);
          return '';
        case 'delete':
          await ops.deleteBead(run, id);
          return '';
        case 'set-metadata':
          await ops.setMetadata(run, id, arg(ctx, 1, 'metadata key'), stdin);
          return '';
        case 'config-set':
          await ops.configSet(run, arg(ctx, 0, 'config key'), request.args[1] ?? '');
          return '';
        case 'dep-add':
          await ops.depAdd(run, arg(ctx, 0, 'issue id'), arg(ctx, 1, 'depends-on id'), request.args[2] || 'blocks');
          return '';
        case 'dep-remove':
          await ops.depRemove(run, arg(ctx, 0, 'issue id'), arg(ctx, 1, 'depends-on id'));
          return '';
      }
      return '';
    });
    ctx.out(out);
    return EXIT_OK;
  };

  return { handle, close: closeAll };
}
