// Gas City's exec beads protocol (gc-beads-k8s), op by op, on the beads runtime of the request's
// namespace. Input is validated before anything runs; only ops that are not part of the protocol
// exit 2 (gc reads 2 as "not supported" and carries on). Reads are answered from Dolt directly
// when the daemon reaches it, else (and for every write) through bd in the runner.

import type { DoltAccess } from '../../beads/dolt/access.js';
import { doltCoordinates, doltPassword } from '../../beads/dolt/coordinates.js';
import { assertImage, checkHealth } from '../../beads/lifecycle.js';
import * as ops from '../../beads/bd/ops.js';
import { answer, readRequest, type ReadRequest } from '../../beads/reads.js';
import type { StoreRecord } from '../../beads/registry.js';
import { storeScope } from '../../beads/scope.js';
import type { BeadsService } from '../../beads/service.js';
import { DirectReader } from '../../beads/dolt/reader.js';
import { parseCreateRequest, parseUpdateRequest, type CreateRequest, type UpdateRequest, type WireBead } from '../../beads/wire.js';
import { GcK8sError, hasCode } from '../../errors.js';
import type { BEADS_OPS } from '../../protocol/ops/index.js';
import { EXIT_ERROR, EXIT_OK, type Request } from '../../protocol/messages.js';
import { withTimeout } from '../../util/abort.js';
import type { BeadsPaths } from '../runtime.js';
import { need, op, type Handlers, type OpContext, type OpHandler } from './op.js';

const RECOVER_TIMEOUT_MS = 115_000;
const PROBE_TIMEOUT_MS = 8_000;

const json = (value: unknown): string => `${JSON.stringify(value)}\n`;

async function beadsOf(ctx: OpContext, signal: AbortSignal): Promise<{ service: BeadsService; dolt: DoltAccess; paths: BeadsPaths }> {
  return (await ctx.runtime(signal)).beads(ctx.config);
}

function record(ctx: OpContext, workdir: string, prefix: string, database: string): StoreRecord {
  const d = doltCoordinates(ctx.request.env, ctx.config.pod);
  return { workdir, prefix, database, host: d.host, port: d.port, user: d.user, customTypes: ctx.config.customTypes };
}

/**
 * Reads answered from Dolt directly when the daemon can reach it: undefined means "ask bd", as
 * does any Dolt failure (logged), so the direct path can only make a read faster, never wrong.
 */
async function direct<T>(
  ctx: OpContext,
  paths: BeadsPaths,
  reader: DirectReader | undefined,
  read: (reader: DirectReader) => Promise<T | undefined>,
): Promise<T | undefined> {
  if (reader === undefined) return undefined;
  try {
    const answer = await read(reader);
    if (answer !== undefined) paths.dolt++;
    return answer;
  } catch (err) {
    if (!hasCode(err, 'DOLT_UNREACHABLE', 'DOLT_QUERY')) throw err;
    paths.fallback++;
    ctx.log.warn({ op: ctx.request.op, err }, 'direct Dolt read failed; asking bd');
    return undefined;
  }
}

type Write = (run: ops.BdRun, ctx: OpContext, reader: DirectReader | undefined, paths: BeadsPaths) => Promise<string>;

/**
 * A store op: a read (answered directly or by bd) or a write (by bd or gc-bd-serve in the runner).
 * `parse` checks everything the caller gave before anything is touched.
 */
function storeOp(parse: (request: Request) => { read?: ReadRequest; write?: Write }): OpHandler {
  return op(
    (request) => {
      const parsed = parse(request);
      const scope = storeScope(request.env);
      return { ...parsed, scope };
    },
    async ({ read, write, scope }, ctx) => {
      const { config } = ctx;
      assertImage(config.pod, ctx.request.op);
      const signal = withTimeout(ctx.signal, config.session.opTimeoutMs);
      const { service, dolt, paths } = await beadsOf(ctx, signal);
      const reads =
        config.beadsDirectReads && (read !== undefined || ctx.request.op === 'create')
          ? await dolt.reads(await service.storeDatabase(scope.workdir, signal), signal)
          : undefined;
      const reader = reads === undefined ? undefined : new DirectReader(reads);
      if (read !== undefined) {
        const fast = await direct(ctx, paths, reader, (r) => answer(r, read));
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
      paths[call.bdOnly ? 'bd' : 'bd-serve']++;
      ctx.out(
        await service.withStore(config.pod, call, signal, async (run) => {
          if (read !== undefined) return json(await answer(ops.bdReader(run), read));
          return write === undefined ? '' : write(run, ctx, reader, paths);
        }),
      );
      return EXIT_OK;
    },
  );
}

const readOp = (): OpHandler =>
  storeOp((r) => {
    const read = readRequest(r.op, r.args);
    if (read === undefined) throw new GcK8sError('INTERNAL', `${r.op} is not a read`);
    return { read };
  });

function writeOp(parse: (request: Request) => Write): OpHandler {
  return storeOp((r) => ({ write: parse(r) }));
}

function create(request: Request): Write {
  const req: CreateRequest = parseCreateRequest(request.stdin ?? '');
  return async (run, ctx, reader, paths) => {
    // The created bead is read back from Dolt when the daemon can, else by bd show.
    const show = async (newId: string): Promise<WireBead> =>
      (await direct(ctx, paths, reader, (r) => r.get(newId))) ?? ops.getBead(run, newId);
    return json(await ops.createBead(run, req, show));
  };
}

function update(request: Request): Write {
  // arguments first, then the payload: `update` with no id is a missing id, not bad JSON
  const id = need(request, 0, 'bead id');
  const req: UpdateRequest = parseUpdateRequest(request.stdin ?? '');
  return async (run) => {
    await ops.updateBead(run, id, req);
    return '';
  };
}

/** A lifecycle op under its own deadline, on the namespace's beads runtime. */
function lifecycleOp<A>(
  parse: (request: Request) => A,
  timeoutMs: (ctx: OpContext) => number,
  run: (args: A, ctx: OpContext, beads: { service: BeadsService; dolt: DoltAccess }, signal: AbortSignal) => Promise<number>,
): OpHandler {
  return op(parse, async (args, ctx) => {
    const signal = withTimeout(ctx.signal, timeoutMs(ctx));
    return run(args, ctx, await beadsOf(ctx, signal), signal);
  });
}

const none = (): undefined => undefined;
const startTimeout = (ctx: OpContext): number => ctx.config.session.startTimeoutMs;
const stopTimeout = (ctx: OpContext): number => ctx.config.session.stopTimeoutMs;
const opTimeout = (ctx: OpContext): number => ctx.config.session.opTimeoutMs;

const start = lifecycleOp(none, startTimeout, async (_, ctx, { service }, signal) => {
  assertImage(ctx.config.pod, ctx.request.op);
  await service.ensureRunner(ctx.config.pod, signal);
  return EXIT_OK;
});

const stop = lifecycleOp(none, stopTimeout, async (_, ctx, { service }, signal) => {
  await service.runner(ctx.config.pod).delete(signal);
  service.forgetRunner();
  return EXIT_OK;
});

/** health (and recover, which first recreates the runner and re-initializes every store). */
function healthOp(recover: boolean): OpHandler {
  return lifecycleOp(
    none,
    (ctx) => (recover ? RECOVER_TIMEOUT_MS : opTimeout(ctx)),
    async (_, ctx, { service, dolt }, signal) => {
      const settings = ctx.config.pod;
      const name = ctx.request.op;
      if (recover) {
        assertImage(settings, 'recover');
        await service.recover(settings, signal);
      }
      const d = doltCoordinates(ctx.request.env, settings);
      // The Service name resolves only inside the cluster; the daemon dials its ClusterIP.
      const dialHost = await dolt.address(d.host, signal).catch(() => d.host);
      const password = doltPassword(ctx.request.env) || (await dolt.password(signal).catch(() => ''));
      const report = await checkHealth(service, settings, { host: d.host, port: Number(d.port), user: d.user, password }, signal, dialHost);
      for (const note of report.notes) ctx.err(`${name}: ${note}\n`);
      if (report.ok) return EXIT_OK;
      ctx.err(`${name}: unhealthy: ${report.problems.join('; ')}\n`);
      return EXIT_ERROR;
    },
  );
}

export const BEADS_HANDLERS: Handlers<typeof BEADS_OPS> = {
  create: writeOp(create),
  get: readOp(),
  update: writeOp(update),
  close: writeOp((r) => {
    const id = need(r, 0, 'bead id');
    return async (run) => {
      await ops.closeBead(run, id);
      return '';
    };
  }),
  reopen: writeOp((r) => {
    const id = need(r, 0, 'bead id');
    return async (run) => {
      await ops.reopenBead(run, id);
      return '';
    };
  }),
  delete: writeOp((r) => {
    const id = need(r, 0, 'bead id');
    return async (run) => {
      await ops.deleteBead(run, id);
      return '';
    };
  }),
  list: readOp(),
  ready: readOp(),
  'ready-count': readOp(),
  children: readOp(),
  'list-by-label': readOp(),
  'list-by-status': readOp(),
  'set-metadata': writeOp((r) => {
    const id = need(r, 0, 'bead id');
    const key = need(r, 1, 'metadata key');
    return async (run) => {
      await ops.setMetadata(run, id, key, r.stdin ?? '');
      return '';
    };
  }),
  'dep-add': writeOp((r) => {
    const [issue, dependsOn] = [need(r, 0, 'issue id'), need(r, 1, 'depends-on id')];
    return async (run) => {
      await ops.depAdd(run, issue, dependsOn, r.args[2] || 'blocks');
      return '';
    };
  }),
  'dep-remove': writeOp((r) => {
    const [issue, dependsOn] = [need(r, 0, 'issue id'), need(r, 1, 'depends-on id')];
    return async (run) => {
      await ops.depRemove(run, issue, dependsOn);
      return '';
    };
  }),
  'dep-list': readOp(),
  'config-set': writeOp((r) => {
    const key = need(r, 0, 'config key');
    return async (run) => {
      await ops.configSet(run, key, r.args[1] ?? '');
      return '';
    };
  }),
  start,
  'ensure-ready': start,
  init: lifecycleOp(
    (r) => ({ dir: need(r, 0, 'store directory'), prefix: need(r, 1, 'prefix'), database: r.args[2] ?? '' }),
    opTimeout,
    async ({ dir, prefix, database }, ctx, { service }, signal) => {
      assertImage(ctx.config.pod, 'init');
      const scope = storeScope(ctx.request.env, dir, prefix);
      await service.init(ctx.config.pod, record(ctx, scope.workdir, prefix, database), signal);
      return EXIT_OK;
    },
  ),
  health: healthOp(false),
  recover: healthOp(true),
  probe: lifecycleOp(
    none,
    () => PROBE_TIMEOUT_MS,
    async (_, ctx, { service }, signal) => {
      assertImage(ctx.config.pod, 'probe');
      await service.runner(ctx.config.pod).get(signal);
      return EXIT_OK;
    },
  ),
  stop,
  shutdown: stop,
};
