// The objects `gc-k8s install` applies, from the manifests in contrib/k8s: parsed, checked to be
// kinds install knows, placed in the chosen namespace, given the `--set` values and marked as
// install's. Pure (the files come in as text), so all of it is checked before any request.

import { parseDnsLabel, parseInteger, parseQuantity } from '../config/parse.js';
import { GcK8sError, messageOf, quote } from '../errors.js';
import { kindInfo } from '../k8s/objects.js';
import { parseYamlDocuments } from '../k8s/yaml.js';
import type { KubeObject } from '../kube/types.js';

/** The label on everything install applied: uninstall removes exactly what carries it. */
export const MARK_LABEL = 'app.kubernetes.io/managed-by';
export const MARK_VALUE = 'gc-k8s-install';
/** On a Namespace install made (and only then): uninstall deletes it; one that existed before stays. */
export const CREATED_ANNOTATION = 'gc-k8s.io/install-created';
/** The server-side apply field manager of install (and of uninstall's giving the fields back). */
export const FIELD_MANAGER = 'gc-k8s-install';

type Check = (value: string) => string | number;

const quantity: Check = (v) => {
  parseQuantity(v);
  return v;
};
const count: Check = (v) => String(parseInteger(v, 0, 1_000_000));
// user PriorityClasses may go up to 1e9; above is the system classes'
const priority: Check = (v) => parseInteger(v, -2_147_483_648, 1_000_000_000);

interface Setting {
  readonly kind: string;
  readonly name: string;
  /** a path into the object; a `type=X` step picks the list item whose type is X */
  readonly path: readonly string[];
  readonly check: Check;
}

const quota = (resource: string, check: Check = quantity): Setting => ({
  kind: 'ResourceQuota',
  name: 'gc-agents',
  path: ['spec', 'hard', resource],
  check,
});
const limit = (type: string, field: string, resource: string): Setting => ({
  kind: 'LimitRange',
  name: 'gc-agents',
  path: ['spec', 'limits', `type=${type}`, field, resource],
  check: quantity,
});
const priorityOf = (name: string): Setting => ({ kind: 'PriorityClass', name, path: ['value'], check: priority });

/** `--set key=value`: every figure of quota-limits.yaml and priority-classes.yaml. */
export const SETTINGS: Readonly<Record<string, Setting>> = {
  'quota.requests.cpu': quota('requests.cpu'),
  'quota.requests.memory': quota('requests.memory'),
  'quota.limits.cpu': quota('limits.cpu'),
  'quota.limits.memory': quota('limits.memory'),
  'quota.pods': quota('pods', count),
  'quota.persistentvolumeclaims': quota('persistentvolumeclaims', count),
  'quota.requests.storage': quota('requests.storage'),
  'limits.container.defaultRequest.cpu': limit('Container', 'defaultRequest', 'cpu'),
  'limits.container.defaultRequest.memory': limit('Container', 'defaultRequest', 'memory'),
  'limits.container.default.cpu': limit('Container', 'default', 'cpu'),
  'limits.container.default.memory': limit('Container', 'default', 'memory'),
  'limits.container.max.cpu': limit('Container', 'max', 'cpu'),
  'limits.container.max.memory': limit('Container', 'max', 'memory'),
  'limits.pvc.min.storage': limit('PersistentVolumeClaim', 'min', 'storage'),
  'limits.pvc.max.storage': limit('PersistentVolumeClaim', 'max', 'storage'),
  'priority.high': priorityOf('gc-high'),
  'priority.standard': priorityOf('gc-standard'),
  'priority.low': priorityOf('gc-low'),
};

/** The `--set` values checked, as key → value to write; BAD_REQUEST naming key and value. */
export function parseSets(args: readonly string[]): Map<string, string | number> {
  const sets = new Map<string, string | number>();
  for (const arg of args) {
    const eq = arg.indexOf('=');
    if (eq <= 0) throw new GcK8sError('BAD_REQUEST', `--set ${quote(arg)}: expected key=value`);
    const key = arg.slice(0, eq);
    const value = arg.slice(eq + 1);
    const setting = Object.hasOwn(SETTINGS, key) ? SETTINGS[key] : undefined;
    if (setting === undefined) {
      throw new GcK8sError('BAD_REQUEST', `--set ${quote(key)}: not a key install knows (gc-k8s install --help lists them)`);
    }
    try {
      sets.set(key, setting.check(value));
    } catch (err) {
      throw new GcK8sError('BAD_REQUEST', `--set ${key}=${quote(value)}: ${messageOf(err)}`);
    }
  }
  return sets;
}

/** A namespace name for --namespace: BAD_REQUEST unless a DNS label. */
export function checkNamespace(name: string): string {
  try {
    if (parseDnsLabel(name) === '') throw new Error('expected a namespace name; got ""');
  } catch (err) {
    throw new GcK8sError('BAD_REQUEST', `--namespace: ${messageOf(err)}`);
  }
  return name;
}

type Json = Record<string, unknown>;
const isJson = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The documents of one manifest file, each checked to be an object of a kind install knows. */
function objectsOf(file: string, text: string): Json[] {
  let documents: unknown[];
  try {
    documents = parseYamlDocuments(text);
  } catch (err) {
    throw new GcK8sError('CONFIG_INVALID', `${file}: ${messageOf(err)}`);
  }
  return documents.map((doc, i) => {
    const what = `${file}, document ${i + 1}`;
    if (!isJson(doc) || !isJson(doc['metadata'])) throw new GcK8sError('CONFIG_INVALID', `${what}: not a Kubernetes object`);
    const { apiVersion, kind } = doc;
    const name = doc['metadata']['name'];
    if (typeof apiVersion !== 'string' || typeof kind !== 'string' || typeof name !== 'string' || name === '') {
      throw new GcK8sError('CONFIG_INVALID', `${what}: apiVersion, kind and metadata.name are required`);
    }
    if (kindInfo(apiVersion, kind) === undefined) {
      throw new GcK8sError(
        'CONFIG_INVALID',
        `${what}: ${quote(`${apiVersion}/${kind}`)} is not a kind install applies (src/k8s/objects.ts)`,
      );
    }
    return doc;
  });
}

function setAt(object: Json, path: readonly string[], value: unknown): boolean {
  let at: unknown = object;
  for (const [i, step] of path.entries()) {
    const last = i === path.length - 1;
    if (step.startsWith('type=')) {
      if (!Array.isArray(at)) return false;
      at = at.find((item) => isJson(item) && item['type'] === step.slice(5));
      continue;
    }
    if (!isJson(at)) return false;
    if (last) {
      at[step] = value;
      return true;
    }
    at[step] ??= {};
    at = at[step];
  }
  return false;
}

/** What a `--set` key has in `objects` (the file's figure when no --set gave one), as text. */
export function settingValue(objects: readonly KubeObject[], key: string): string {
  const setting = SETTINGS[key];
  let at: unknown = objects.find((o) => o.kind === setting?.kind && o.metadata.name === setting.name);
  for (const step of setting?.path ?? []) {
    at = step.startsWith('type=')
      ? Array.isArray(at)
        ? at.find((item) => isJson(item) && item['type'] === step.slice(5))
        : undefined
      : isJson(at)
        ? at[step]
        : undefined;
  }
  return typeof at === 'string' || typeof at === 'number' ? String(at) : '?';
}

export interface RenderOptions {
  readonly namespace: string;
  readonly sets: ReadonlyMap<string, string | number>;
}

/**
 * The objects to apply, in the files' order: namespaced ones placed in `namespace` (and the
 * Namespace named so, and RoleBinding subjects pointed at it), `--set` values written, the mark on
 * every one. `read` gives a file's text.
 */
export function renderInstall(files: readonly string[], read: (file: string) => string, options: RenderOptions): KubeObject[] {
  const objects = files.flatMap((file) => objectsOf(file, read(file)));
  for (const [key, value] of options.sets) {
    const setting = SETTINGS[key];
    const target =
      setting === undefined
        ? undefined
        : objects.find((o) => o['kind'] === setting.kind && isJson(o['metadata']) && o['metadata']['name'] === setting.name);
    if (setting === undefined || target === undefined || !setAt(target, setting.path, value)) {
      throw new GcK8sError(
        'CONFIG_INVALID',
        `--set ${key}: the manifests have no ${setting?.kind ?? '?'} ${setting?.name ?? '?'} with that field`,
      );
    }
  }
  return objects.map((o) => {
    const apiVersion = o['apiVersion'] as string;
    const kind = o['kind'] as string;
    const metadata = { ...(o['metadata'] as Json) };
    if (kind === 'Namespace') metadata['name'] = options.namespace;
    else if (kindInfo(apiVersion, kind)?.namespaced === true) metadata['namespace'] = options.namespace;
    metadata['labels'] = { ...(isJson(metadata['labels']) ? metadata['labels'] : {}), [MARK_LABEL]: MARK_VALUE };
    const placed: Json = { ...o, metadata };
    if (kind === 'RoleBinding' && Array.isArray(o['subjects'])) {
      placed['subjects'] = o['subjects'].map((s: unknown) =>
        isJson(s) && s['kind'] === 'ServiceAccount' ? { ...s, namespace: options.namespace } : s,
      );
    }
    return placed as KubeObject;
  });
}

/** What the server fills in or keeps for itself: not a difference install made. */
const IGNORED_METADATA = new Set(['managedFields', 'resourceVersion', 'generation', 'uid', 'creationTimestamp']);

function step(path: string, key: string): string {
  const plain = /^[A-Za-z_][A-Za-z0-9_-]*$/.test(key);
  return plain ? (path === '' ? key : `${path}.${key}`) : `${path}[${JSON.stringify(key)}]`;
}

/**
 * The field paths where `after` differs from `before` ("spec.hard.pods",
 * `metadata.labels["app.kubernetes.io/managed-by"]`, "spec.limits[0].max.cpu"; a list whose length
 * changed is one path), leaving out status and what the server keeps in metadata.
 */
export function changedPaths(before: unknown, after: unknown, path = ''): string[] {
  if (isJson(before) && isJson(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((key) => {
      if (path === '' && key === 'status') return [];
      if (path === 'metadata' && IGNORED_METADATA.has(key)) return [];
      return changedPaths(before[key], after[key], step(path, key));
    });
  }
  if (Array.isArray(before) && Array.isArray(after) && before.length === after.length) {
    return before.flatMap((item, i) => changedPaths(item, after[i], `${path}[${i}]`));
  }
  return JSON.stringify(before) === JSON.stringify(after) ? [] : [path];
}
