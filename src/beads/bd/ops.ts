// The store ops of the exec beads protocol on top of a bd runner function: argv out, wire JSON
// back, bd's failures turned into the wording gc maps (`not found`). Independent of where bd
// runs, so unit tests drive it with a real bd on this machine and the daemon with the runner.

import { GcK8sError, hasCode, quote } from '../../errors.js';
import type { BdReply } from './program.js';
import * as args from './args.js';
import type { BeadReader } from '../reads.js';
import { byCreation, issuesOf, parseBdJson, toOrdered, toWire, toWireDeps, type OrderedBead } from './json.js';
import { isEmptyUpdate, type CreateRequest, type UpdateRequest, type WireBead, type WireDep } from '../wire.js';

export type BdRun = (argv: readonly string[]) => Promise<BdReply>;

/** bd says "no such bead" only in words (any exit code): the one place they are read. */
const NOT_FOUND = /not found|no issue found|no issues found|does not exist|unknown issue/i;

/**
 * What went wrong, in one line: bd's `{"error": …}` JSON when it printed one (its first line),
 * else the end of stderr without bd's deprecation chatter.
 */
export function bdError(reply: BdReply): string {
  const m = /"error"\s*:\s*("(?:[^"\\]|\\.)*")/.exec(reply.stdout);
  if (m?.[1] !== undefined) {
    try {
      const text = (JSON.parse(m[1]) as string).split('\n')[0]?.trim();
      if (text) return text;
    } catch {
      /* fall through */
    }
  }
  const lines = reply.stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/deprecated|port file|to silence this warning/i.test(l));
  return lines.slice(-3).join(' ') || reply.stdout.trim().split('\n').slice(-3).join(' ') || `exit ${reply.exitCode}`;
}

function failure(op: string, reply: BdReply): GcK8sError {
  return new GcK8sError('EXEC_NONZERO', `bd ${op}: ${bdError(reply)}`, { details: { exitCode: reply.exitCode } });
}

export function notFound(id: string): GcK8sError {
  return new GcK8sError('NOT_FOUND', `bead ${id} not found`);
}

async function ok(run: BdRun, op: string, argv: readonly string[], id?: string): Promise<BdReply> {
  const reply = await run(argv);
  if (reply.exitCode === 0) return reply;
  if (id !== undefined && NOT_FOUND.test(reply.stderr + reply.stdout)) throw notFound(id);
  throw failure(op, reply);
}

/** bd-shaped issues (from bd's JSON or from SQL) → wire beads in creation order. */
export function inCreationOrder(issues: readonly Record<string, unknown>[]): WireBead[] {
  return issues
    .map(toOrdered)
    .sort(byCreation)
    .map((o: OrderedBead) => o.bead);
}

/** `id`: the bead the call is about; bd saying it does not exist becomes NOT_FOUND. */
async function ordered(run: BdRun, op: string, argv: readonly string[], id?: string): Promise<WireBead[]> {
  const reply = await ok(run, op, argv, id);
  return inCreationOrder(issuesOf(parseBdJson(reply.stdout, `bd ${op}`)));
}

async function beads(run: BdRun, op: string, argv: readonly string[], id?: string): Promise<WireBead[]> {
  const reply = await ok(run, op, argv, id);
  return issuesOf(parseBdJson(reply.stdout, `bd ${op}`)).map(toWire);
}

export async function getBead(run: BdRun, id: string): Promise<WireBead> {
  const found = (await beads(run, 'show', args.showArgs(id), id)).find((b) => b.id === id);
  if (found === undefined) throw notFound(id);
  return found;
}

/** `show`: how the created bead is read back (default: bd show; the daemon reads Dolt directly). */
export async function createBead(
  run: BdRun,
  req: CreateRequest,
  show: (id: string) => Promise<WireBead> = (id) => getBead(run, id),
): Promise<WireBead> {
  const reply = await ok(run, 'create', args.createArgs(req));
  const created = issuesOf(parseBdJson(reply.stdout, 'bd create'))[0];
  if (created === undefined) throw new GcK8sError('INTERNAL', `bd create printed no issue: ${JSON.stringify(reply.stdout.slice(0, 200))}`);
  // bd create's JSON omits some fields (labels, parent); the stored bead is the truth.
  return show(toWire(created).id);
}

export async function updateBead(run: BdRun, id: string, req: UpdateRequest): Promise<void> {
  const argv = args.updateArgs(id, req);
  if (argv === undefined || isEmptyUpdate(req)) {
    await getBead(run, id); // nothing to change, but an unknown id is still an error
    return;
  }
  await ok(run, 'update', argv, id);
}

export async function closeBead(run: BdRun, id: string): Promise<void> {
  const reply = await run(args.closeArgs(id));
  if (reply.exitCode === 0) return;
  // Closing a closed bead is success (gc relies on it); anything else says why.
  const bead = await getBead(run, id);
  if (bead.status !== 'closed') throw failure('close', reply);
}

/** Gas City 1.x's reopen: a closed bead becomes open again; an open one stays as it is. */
export async function reopenBead(run: BdRun, id: string): Promise<void> {
  const reply = await run(args.reopenArgs(id));
  if (reply.exitCode === 0) return;
  if (NOT_FOUND.test(reply.stderr + reply.stdout)) throw notFound(id);
  const bead = await getBead(run, id);
  if (bead.status !== 'open') throw failure('reopen', reply);
}

export async function deleteBead(run: BdRun, id: string): Promise<void> {
  await ok(run, 'delete', args.deleteArgs(id), id);
}

export async function setMetadata(run: BdRun, id: string, key: string, value: string): Promise<void> {
  if (key === '' || key.includes('\0') || key.includes('=')) throw new GcK8sError('BAD_REQUEST', `set-metadata: invalid key ${quote(key)}`);
  await ok(run, 'update', args.setMetadataArgs(id, key, value), id);
}

export interface ListQuery {
  readonly status?: string;
  readonly assignee?: string;
  readonly type?: string;
  readonly limit?: number;
}

/** The status filter (on gc's normalized status) and the limit, after ordering. */
export function finishList(list: WireBead[], q: ListQuery): WireBead[] {
  const filtered = q.status === undefined ? list : list.filter((b) => b.status === q.status);
  return q.limit !== undefined && q.limit > 0 ? filtered.slice(0, q.limit) : filtered;
}

export async function listBeads(run: BdRun, q: ListQuery): Promise<WireBead[]> {
  return finishList(await ordered(run, 'list', args.listArgs(q)), q);
}

export function finishReady(list: readonly WireBead[]): WireBead[] {
  return list.filter((b) => b.status === 'open');
}

export async function readyBeads(run: BdRun, includeEphemeral = false): Promise<WireBead[]> {
  return finishReady(await ordered(run, 'ready', args.readyArgs(includeEphemeral)));
}

export async function childrenOf(run: BdRun, parentId: string): Promise<WireBead[]> {
  const list = await ordered(run, 'list', args.childrenArgs(parentId), parentId).catch((err: unknown) => {
    // bd refuses --parent for an id it does not know; gc expects no children.
    if (hasCode(err, 'NOT_FOUND')) return [];
    throw err;
  });
  return finishChildren(list, parentId);
}

export function finishChildren(list: readonly WireBead[], parentId: string): WireBead[] {
  return list.filter((b) => b.parent_id === parentId);
}

export function finishByLabel(list: readonly WireBead[], label: string, limit: number): WireBead[] {
  const matching = list.filter((b) => b.labels.includes(label));
  return limit > 0 ? matching.slice(0, limit) : matching;
}

export async function byLabel(run: BdRun, label: string, limit: number): Promise<WireBead[]> {
  return finishByLabel(await ordered(run, 'list', args.labelArgs(label)), label, limit);
}

export async function depAdd(run: BdRun, issue: string, dependsOn: string, type: string): Promise<void> {
  // bd keeps one row per pair: adding it again with another type must replace the type.
  const existing = await depList(run, issue, 'down');
  const same = existing.find((d) => d.depends_on_id === dependsOn);
  if (same !== undefined && same.type === type) return;
  if (same !== undefined) await ok(run, 'dep remove', args.depRemoveArgs(issue, dependsOn), issue);
  await ok(run, 'dep add', args.depAddArgs(issue, dependsOn, type), issue);
}

export async function depRemove(run: BdRun, issue: string, dependsOn: string): Promise<void> {
  const reply = await run(args.depRemoveArgs(issue, dependsOn));
  if (reply.exitCode === 0 || NOT_FOUND.test(reply.stderr + reply.stdout)) return; // removing nothing is success
  throw failure('dep remove', reply);
}

export async function depList(run: BdRun, id: string, direction: 'down' | 'up'): Promise<WireDep[]> {
  const reply = await run(args.depListArgs(id, direction));
  if (reply.exitCode !== 0) {
    if (NOT_FOUND.test(reply.stderr + reply.stdout)) return [];
    throw failure('dep list', reply);
  }
  return toWireDeps(parseBdJson(reply.stdout, 'bd dep list'), id, direction);
}

/** upstream gc-beads-k8s's `config-set <key> <value>`: a bd config setting of the store. */
export async function configSet(run: BdRun, key: string, value: string): Promise<void> {
  await ok(run, 'config set', ['config', 'set', '--', key, value]);
}

/** The read ops through bd, as a BeadReader (reads.ts). */
export function bdReader(run: BdRun): BeadReader {
  return {
    get: (id) => getBead(run, id),
    list: (q) => listBeads(run, q),
    ready: (includeEphemeral) => readyBeads(run, includeEphemeral),
    children: (parentId) => childrenOf(run, parentId),
    byLabel: (label, limit) => byLabel(run, label, limit),
    depList: (id, direction) => depList(run, id, direction),
  };
}
