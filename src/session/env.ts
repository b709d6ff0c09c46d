// The agent container's environment, following Gas City's native provider (buildPodEnv and
// projectedPodDoltEnv) with two deliberate changes: the order is deterministic (sorted), and
// credentials are never written into the pod spec in plaintext — they are referenced from a
// Secret instead.

import { GcK8sError } from '../errors.js';
import type { EnvVar } from '../kube/types.js';
import { controllerCityPath, podWorkDir, remapToPod, WORKSPACE } from './paths.js';
import type { PodSettings } from './settings.js';
import { TMUX_SESSION } from './tmux/args.js';

const DROPPED = new Set([
  'GC_BEADS',
  'GC_SESSION',
  'GC_EVENTS',
  'GC_K8S_DOLT_HOST',
  'GC_K8S_DOLT_PORT',
  'GC_DOLT_HOST',
  'GC_DOLT_PORT',
  'BEADS_DOLT_SERVER_HOST',
  'BEADS_DOLT_SERVER_PORT',
]);
const CITY_KEYS = new Set(['GC_CITY', 'GC_CITY_PATH', 'GC_CITY_ROOT']);
const REMAPPED = new Set([
  'GC_STORE_ROOT',
  'GC_RIG_ROOT',
  'BEADS_DIR',
  'GT_ROOT',
  'GC_CITY_RUNTIME_DIR',
  'GC_PACK_STATE_DIR',
  'GC_PACK_DIR',
]);
/** Referenced from the Dolt Secret, never copied as plaintext. */
const SECRET_KEYS = new Set(['GC_DOLT_PASSWORD', 'BEADS_DOLT_PASSWORD']);
const LOCAL_HOSTS = new Set(['', '127.0.0.1', 'localhost', '0.0.0.0', '::1', '::']);
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

export interface DoltTarget {
  readonly host: string;
  readonly port: string;
}

/**
 * Where agents in pods reach Dolt: none when the controller has none; the managed in-cluster
 * alias when the controller's host is loopback (its port is meaningless in a pod); else as given.
 */
export function projectDolt(env: Readonly<Record<string, string>>, settings: PodSettings): DoltTarget | undefined {
  const host = (env['GC_DOLT_HOST'] ?? '').trim();
  const port = (env['GC_DOLT_PORT'] ?? '').trim();
  if (host === '' && port === '') return undefined;
  if (host !== '' && port === '') {
    throw new GcK8sError('BAD_REQUEST', 'start: requires both GC_DOLT_HOST and GC_DOLT_PORT when GC_DOLT_HOST is set');
  }
  if (LOCAL_HOSTS.has(host.toLowerCase())) return { host: settings.doltHost, port: settings.doltPort };
  return { host, port };
}

/** Whether `name` counts as a credential under `patterns` (globs with `*`, case-insensitive). */
export function isCredential(name: string, patterns: readonly string[]): boolean {
  return patterns.some((p) =>
    new RegExp(
      `^${p
        .split('*')
        .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*')}$`,
      'i',
    ).test(name),
  );
}

export interface PodEnv {
  readonly env: EnvVar[];
  /** those also put into tmux (so get-meta sees GC_SESSION_ID) */
  readonly sessionEnvKeys: string[];
  /** credential values, for the session's own Secret; the env references them by key */
  readonly credentials: Readonly<Record<string, string>>;
}

/**
 * Container env for a session, sorted by name. Credentials (names matching
 * settings.credentialEnv) are referenced from the session's own Secret (`credentialsSecret`),
 * never written as values into the pod spec, where anyone who can read pods would see them.
 */
export function buildPodEnv(
  env: Readonly<Record<string, string>>,
  workDir: string,
  settings: PodSettings,
  credentialsSecret: string,
): PodEnv {
  const city = controllerCityPath(env);
  const out = new Map<string, EnvVar>();
  const credentials: Record<string, string> = {};
  for (const [name, raw] of Object.entries(env)) {
    if (DROPPED.has(name) || !ENV_NAME.test(name)) continue;
    if (Object.hasOwn(settings.secretEnv, name)) continue; // the platform's Secret (below) wins
    if (SECRET_KEYS.has(name)) {
      out.set(name, { name, valueFrom: { secretKeyRef: { name: settings.doltSecret, key: 'password', optional: true } } });
      continue;
    }
    if (isCredential(name, settings.credentialEnv)) {
      credentials[name] = raw;
      out.set(name, { name, valueFrom: { secretKeyRef: { name: credentialsSecret, key: name } } });
      continue;
    }
    let value = raw;
    if (CITY_KEYS.has(name)) value = WORKSPACE;
    else if (name === 'GC_DIR') value = podWorkDir(workDir, city);
    else if (REMAPPED.has(name)) value = remapToPod(raw, city);
    out.set(name, { name, value });
  }
  // the platform's Secrets by reference (secret_env, a profile's): they win over the session's own
  for (const [name, ref] of Object.entries(settings.secretEnv)) {
    out.set(name, { name, valueFrom: { secretKeyRef: { name: ref.secret, key: ref.key } } });
  }
  const dolt = projectDolt(env, settings);
  if (dolt !== undefined) {
    for (const name of ['GC_DOLT_HOST', 'BEADS_DOLT_SERVER_HOST']) out.set(name, { name, value: dolt.host });
    for (const name of ['GC_DOLT_PORT', 'BEADS_DOLT_SERVER_PORT']) out.set(name, { name, value: dolt.port });
  }
  out.set('GC_TMUX_SESSION', { name: 'GC_TMUX_SESSION', value: TMUX_SESSION });
  if (!out.has('CLAUDE_CONFIG_DIR')) out.set('CLAUDE_CONFIG_DIR', { name: 'CLAUDE_CONFIG_DIR', value: '/home/gcagent/.claude' });
  // upstream's convention, unless the session brings its own token
  if (!out.has('GITHUB_TOKEN')) {
    out.set('GITHUB_TOKEN', {
      name: 'GITHUB_TOKEN',
      valueFrom: { secretKeyRef: { name: 'git-credentials', key: 'token', optional: true } },
    });
  }
  const sorted = [...out.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  // tmux gets every variable gc asked for (after remapping), so get-meta sees GC_SESSION_ID
  // just as with local tmux; internal and secret-backed ones stay container-only.
  const sessionEnvKeys = sorted
    .filter((e) => e.value !== undefined && /^[A-Za-z_][A-Za-z0-9_]*$/.test(e.name) && (e.name in env || e.name.startsWith('GC_')))
    .map((e) => e.name);
  return { env: sorted, sessionEnvKeys, credentials };
}
