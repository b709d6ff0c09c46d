// `gc-k8s install` and `gc-k8s uninstall`: a platform team applies gc-k8s's namespace policy
// (contrib/k8s, the files in install-files.ts) with server-side apply, seeing one line per object:
// created, unchanged, or changed and where. Each object is first applied as a dry run and compared
// with what is there, so an unchanged object gets no write at all and a second install changes
// nothing (not even a resourceVersion). Conflicts with another field manager fail (naming the
// fields) unless --force-conflicts: install never silently overrides what someone else set.
//
// What install applied carries MARK_LABEL; uninstall deletes only that, in reverse order. A
// Namespace install made also carries CREATED_ANNOTATION: uninstall deletes it, while one that
// existed before stays and gets its fields back (an empty apply by install's field manager removes
// the labels only install set). The PriorityClasses and admission policies are cluster-scoped and
// shared by every installed namespace (a Namespace with MARK_LABEL): uninstall keeps them while
// another one remains.

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { findCityToml, loadConfig } from '../config/load.js';
import { GcK8sError, hasCode, isGcK8sError, messageOf } from '../errors.js';
import { createKubeClient } from '../k8s/client.js';
import { kindInfo } from '../k8s/objects.js';
import type { CallOptions, ObjectApi } from '../kube/ports.js';
import type { KubeObject, ObjectRef } from '../kube/types.js';
import { createLogger } from '../log/logger.js';
import { withTimeout } from '../util/abort.js';
import { INSTALL_FILES, MANIFEST_DIR } from './install-files.js';
import {
  CREATED_ANNOTATION,
  FIELD_MANAGER,
  MARK_LABEL,
  MARK_VALUE,
  SETTINGS,
  changedPaths,
  checkNamespace,
  parseSets,
  renderInstall,
  settingValue,
} from './install-render.js';
import type { CliCommandIo } from './namespace-client.js';

const INSTALL_USAGE = 'usage: gc-k8s install [--dry-run] [--namespace NS] [--set key=value]... [--force-conflicts] [--context C]';
const UNINSTALL_USAGE = 'usage: gc-k8s uninstall [--dry-run] [--namespace NS] [--context C]';
/** each request's own deadline, within the whole command's */
const CALL_MS = 30_000;
const COMMAND_MS = 5 * 60_000;
/** a changed line names at most this many paths */
const MAX_PATHS = 12;

const refOf = (o: KubeObject): ObjectRef => ({
  apiVersion: o.apiVersion,
  kind: o.kind,
  name: o.metadata.name,
  ...(o.metadata.namespace === undefined ? {} : { namespace: o.metadata.namespace }),
});
const label = (o: { kind: string; metadata: { name: string } }): string => `${o.kind.toLowerCase()}/${o.metadata.name}`;
const namespaced = (o: KubeObject): boolean => kindInfo(o.apiVersion, o.kind)?.namespaced === true;

export interface PlanOptions {
  readonly dryRun: boolean;
  readonly signal: AbortSignal;
}

/** Applies `desired` in order, writing one line per object. */
export async function install(
  objects: ObjectApi,
  desired: readonly KubeObject[],
  options: PlanOptions & { force: boolean },
  write: (line: string) => void,
): Promise<void> {
  const call = (): CallOptions => ({ signal: withTimeout(options.signal, CALL_MS) });
  // a namespace that does not exist yet (and a dry run will not make) cannot hold a dry run
  let namespaceMissing = false;
  for (const object of desired) {
    const current = await objects.get(refOf(object), call());
    let manifest = object;
    if (object.kind === 'Namespace') {
      if (current?.metadata['deletionTimestamp'] !== undefined) {
        throw new GcK8sError('CONFLICT', `namespace ${object.metadata.name} is being deleted: wait until it is gone, then install again`);
      }
      // made by install (now or before): say so, so uninstall deletes it
      if (current === undefined || current.metadata.annotations?.[CREATED_ANNOTATION] === 'true') {
        manifest = {
          ...object,
          metadata: { ...object.metadata, annotations: { ...object.metadata.annotations, [CREATED_ANNOTATION]: 'true' } },
        };
      }
      namespaceMissing = current === undefined && options.dryRun;
    }
    if (current === undefined && namespaceMissing && namespaced(object)) {
      write(`created ${label(object)}`);
      continue;
    }
    const apply = async (dryRun: boolean): Promise<KubeObject> => {
      try {
        return await objects.apply(manifest, { ...call(), fieldManager: FIELD_MANAGER, force: options.force, dryRun });
      } catch (err) {
        if (hasCode(err, 'CONFLICT')) {
          throw new GcK8sError('CONFLICT', `${err.message} (another field manager set these fields: --force-conflicts takes them over)`);
        }
        if (hasCode(err, 'INVALID') && object.kind === 'PriorityClass') {
          throw new GcK8sError(
            'INVALID',
            `${err.message} (a PriorityClass's value never changes: give the --set priority.* it was made with, or delete the class and install again)`,
          );
        }
        throw err;
      }
    };
    const after = await apply(true);
    if (current === undefined) {
      write(`created ${label(object)}`);
    } else {
      const paths = changedPaths(current, after);
      if (paths.length === 0) {
        write(`unchanged ${label(object)}`);
        continue;
      }
      const shown = paths.slice(0, MAX_PATHS).join(', ');
      write(`changed ${label(object)}: ${shown}${paths.length > MAX_PATHS ? `, … (${paths.length - MAX_PATHS} more)` : ''}`);
    }
    if (!options.dryRun) await apply(false);
  }
  if (namespaceMissing) {
    write(`note: namespace ${desired[0]?.metadata.name ?? ''} does not exist yet, so the server could not dry-run the objects in it`);
  }
}

/** Removes what install applied to `desired`'s namespace, in reverse order, one line per object. */
export async function uninstall(
  objects: ObjectApi,
  desired: readonly KubeObject[],
  options: PlanOptions & { namespace: string },
  write: (line: string) => void,
): Promise<void> {
  const call = (): CallOptions => ({ signal: withTimeout(options.signal, CALL_MS) });
  const others = (await objects.list({ apiVersion: 'v1', kind: 'Namespace' }, `${MARK_LABEL}=${MARK_VALUE}`, call()))
    .filter((ns) => ns.metadata.name !== options.namespace && ns.metadata['deletionTimestamp'] === undefined)
    .map((ns) => ns.metadata.name);
  for (const object of [...desired].reverse()) {
    const current = await objects.get(refOf(object), call());
    if (current === undefined) continue;
    if (current.metadata.labels?.[MARK_LABEL] !== MARK_VALUE) {
      write(`kept ${label(object)}: not applied by gc-k8s install`);
      continue;
    }
    if (object.kind === 'Namespace' && current.metadata.annotations?.[CREATED_ANNOTATION] !== 'true') {
      // it was there before install: it stays, without the labels install gave it
      if (!options.dryRun) {
        await objects.apply(
          { apiVersion: 'v1', kind: 'Namespace', metadata: { name: object.metadata.name } },
          { ...call(), fieldManager: FIELD_MANAGER },
        );
      }
      write(
        `${options.dryRun ? 'would release' : 'released'} ${label(object)}: it existed before install, so it stays; install's labels are removed`,
      );
      continue;
    }
    if (!namespaced(object) && object.kind !== 'Namespace' && others.length > 0) {
      const names = others.slice(0, 3).join(', ') + (others.length > 3 ? ', …' : '');
      write(`kept ${label(object)}: still installed in namespace ${names}`);
      continue;
    }
    if (!options.dryRun) await objects.delete(refOf(object), call());
    write(`${options.dryRun ? 'would delete' : 'deleted'} ${label(object)}`);
  }
}

function readManifest(file: string): string {
  try {
    return readFileSync(new URL(file, MANIFEST_DIR), 'utf8');
  } catch (err) {
    throw new GcK8sError('CONFIG_INVALID', `contrib/k8s/${file}: ${messageOf(err)}`);
  }
}

/** The --set keys with the files' figures (only the two files they are in: help works without the rest). */
function keysHelp(): string {
  const objects = renderInstall(['quota-limits.yaml', 'priority-classes.yaml'], readManifest, { namespace: 'gc', sets: new Map() });
  return Object.entries(SETTINGS)
    .map(
      ([key, s]) =>
        `  ${key.padEnd(40)}${settingValue(objects, key).padEnd(8)}${s.kind} ${s.name}: ${s.path.map((p) => p.replace(/^type=/, '')).join('.')}`,
    )
    .join('\n');
}

interface Parsed {
  readonly values: {
    'dry-run'?: boolean;
    namespace?: string;
    context?: string;
    set?: string[];
    'force-conflicts'?: boolean;
    help?: boolean;
  };
}

/** argv checked: undefined (after writing one line to stderr) when it is wrong. */
function parse(command: string, argv: readonly string[], io: CliCommandIo, withSets: boolean): Parsed | undefined {
  const usage = withSets ? INSTALL_USAGE : UNINSTALL_USAGE;
  try {
    const parsed = parseArgs({
      args: [...argv],
      options: {
        'dry-run': { type: 'boolean' },
        namespace: { type: 'string' },
        context: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        set: { type: 'string', multiple: true },
        'force-conflicts': { type: 'boolean' },
      },
    });
    if (!withSets && (parsed.values.set !== undefined || parsed.values['force-conflicts'] !== undefined)) {
      throw new Error(`${parsed.values.set === undefined ? '--force-conflicts' : '--set'} is for install only`);
    }
    return parsed;
  } catch (err) {
    io.stderr.write(`gc-k8s ${command}: ${messageOf(err).split('\n')[0]?.slice(0, 200) ?? ''} (${usage})\n`);
    return undefined;
  }
}

/** The namespace and context: the flags, else the city's (as every other command picks them). */
function target(io: CliCommandIo, values: Parsed['values']): { namespace: string; context: string } {
  const namespace = values.namespace === undefined ? undefined : checkNamespace(values.namespace);
  if (namespace !== undefined && values.context !== undefined) return { namespace, context: values.context };
  const config = loadConfig({ env: io.env, cityToml: findCityToml(io.env, io.cwd) });
  return { namespace: namespace ?? config.pod.namespace, context: values.context ?? config.context };
}

async function withObjects<T>(
  io: CliCommandIo,
  context: string,
  signal: AbortSignal,
  work: (objects: ObjectApi) => Promise<T>,
): Promise<T> {
  const log = createLogger({ level: io.env['GC_K8S_LOG_LEVEL'] ?? 'warn', destination: io.stderr });
  const kube = await createKubeClient({ log, env: io.env, signal, ...(context === '' ? {} : { context }) });
  try {
    return await work(kube.objects);
  } finally {
    await kube.close();
  }
}

/** A bad flag, key or value: one line and exit 2, before any request. */
function badRequest(command: string, err: unknown, io: CliCommandIo): number {
  if (!(isGcK8sError(err) && err.code === 'BAD_REQUEST')) throw err;
  io.stderr.write(`gc-k8s ${command}: ${err.message}\n`);
  return 2;
}

export async function runInstall(argv: readonly string[], io: CliCommandIo): Promise<number> {
  const parsed = parse('install', argv, io, true);
  if (parsed === undefined) return 2;
  const { values } = parsed;
  if (values.help === true) {
    io.stdout.write(`${INSTALL_USAGE}\n\n--set keys, with the figures of quota-limits.yaml and priority-classes.yaml:\n${keysHelp()}\n`);
    return 0;
  }
  let sets;
  let where;
  try {
    sets = parseSets(values.set ?? []);
    where = target(io, values);
  } catch (err) {
    return badRequest('install', err, io);
  }
  const desired = renderInstall(INSTALL_FILES, readManifest, { namespace: where.namespace, sets });
  const signal = AbortSignal.timeout(COMMAND_MS);
  const dryRun = values['dry-run'] === true;
  await withObjects(io, where.context, signal, (objects) =>
    install(objects, desired, { dryRun, force: values['force-conflicts'] === true, signal }, (line) => io.stdout.write(`${line}\n`)),
  );
  if (dryRun) io.stdout.write('dry run: nothing was written\n');
  return 0;
}

export async function runUninstall(argv: readonly string[], io: CliCommandIo): Promise<number> {
  const parsed = parse('uninstall', argv, io, false);
  if (parsed === undefined) return 2;
  const { values } = parsed;
  if (values.help === true) {
    io.stdout.write(`${UNINSTALL_USAGE}\n`);
    return 0;
  }
  let where;
  try {
    where = target(io, values);
  } catch (err) {
    return badRequest('uninstall', err, io);
  }
  // the same objects install would apply (names do not depend on --set values)
  const desired = renderInstall(INSTALL_FILES, readManifest, { namespace: where.namespace, sets: new Map() });
  const signal = AbortSignal.timeout(COMMAND_MS);
  const dryRun = values['dry-run'] === true;
  await withObjects(io, where.context, signal, (objects) =>
    uninstall(objects, desired, { dryRun, namespace: where.namespace, signal }, (line) => io.stdout.write(`${line}\n`)),
  );
  if (dryRun) io.stdout.write('dry run: nothing was deleted\n');
  return 0;
}
