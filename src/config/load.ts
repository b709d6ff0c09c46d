// loadConfig: defaults < city.toml [session.k8s] < GC_K8S_* env. Pure apart from reading the
// TOML file (injectable); unknown keys become warnings, invalid values fail fast naming the key.
// Which city.toml applies is the caller's decision (the daemon resolves it per request:
// src/daemon/resolve-city.ts); findCityToml is the rule for commands run by hand.

import { readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { shortHash } from '../util/hash.js';
import TOML from '@iarna/toml';
import { GcK8sError, messageOf, quote } from '../errors.js';
import type { PodSettings } from '../session/settings.js';
import type { SessionOptions } from '../session/options.js';
import { CONFIG_TABLE, defaultConfig, type MutableConfig } from './table.js';

export interface Config {
  readonly pod: PodSettings;
  readonly session: SessionOptions;
  readonly context: string;
  readonly customTypes: readonly string[];
  readonly beadsDirectReads: boolean;
  readonly beadsFastWrites: boolean;
  readonly eventsMaxAgeMs: number;
  readonly eventsMaxCount: number;
  /** the city.toml that was read, or '' */
  readonly cityToml: string;
  /** the city's directory (dirname of cityToml), or '' when no city was found */
  readonly cityDir: string;
  /** digest of the resolved pod settings, recorded on pods so a later change is visible */
  readonly fingerprint: string;
  readonly warnings: readonly string[];
}

export interface LoadOptions {
  readonly env: Readonly<Record<string, string | undefined>>;
  /** city.toml to read ('' = none: defaults and env only) */
  readonly cityToml: string;
  readonly readFile?: (path: string) => string;
}

const defaultExists = (path: string): boolean => {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
};

export const CITY_ENV = ['GC_CITY', 'GC_CITY_PATH', 'GC_CITY_ROOT'] as const;

/** city.toml named by GC_CITY/GC_CITY_PATH/GC_CITY_ROOT in `env`, or '' (relative paths from cwd). */
export function cityTomlFromEnv(env: LoadOptions['env'], cwd: string, exists = defaultExists): string {
  for (const key of CITY_ENV) {
    const dir = env[key]?.trim();
    if (dir) {
      const candidate = join(resolve(cwd, dir), 'city.toml');
      if (exists(candidate)) return candidate;
    }
  }
  return '';
}

/** The nearest city.toml at or above `dir`, or ''. */
export function cityTomlAbove(dir: string, exists = defaultExists): string {
  for (let d = resolve(dir); ; d = dirname(d)) {
    const candidate = join(d, 'city.toml');
    if (exists(candidate)) return candidate;
    if (dirname(d) === d) return '';
  }
}

/** city.toml for a command run by hand: GC_CITY/GC_CITY_PATH/GC_CITY_ROOT, else up from cwd. */
export function findCityToml(env: LoadOptions['env'], cwd: string, exists = defaultExists): string {
  return cityTomlFromEnv(env, cwd, exists) || cityTomlAbove(cwd, exists);
}

/** Workspace keys that only make sense together (each key alone was checked by its parser). */
function workspaceConflict(pod: MutableConfig['pod']): string | undefined {
  if (pod.workspace === 'shared' && pod.workspaceClaim === '')
    return 'workspace = "shared" needs workspace_claim (GC_K8S_WORKSPACE_CLAIM), the claim to share';
  if (pod.workspace !== 'shared' && pod.workspaceClaim !== '') return 'workspace_claim is only used with workspace = "shared"';
  if (pod.workspacePvc !== '' && pod.workspace !== 'ephemeral')
    return `workspace_pvc (GC_K8S_WORKSPACE_PVC, one claim mounted whole in every pod) and workspace = "${pod.workspace}" exclude each other`;
  if (pod.workspace !== 'ephemeral' && pod.prebaked)
    return `a prebaked image holds the workspace itself: workspace = "${pod.workspace}" does not apply`;
  return undefined;
}

function suggest(key: string): string {
  const close = CONFIG_TABLE.map((e) => e.key).filter((k) => k.includes(key) || key.includes(k) || k.split('_')[0] === key.split('_')[0]);
  return close.length > 0 ? ` (did you mean ${close.map((k) => JSON.stringify(k)).join(' or ')}?)` : '';
}

function tomlValue(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value.join(',');
  // tables and arrays of tables (node_selector, tolerations, affinity…) reach the parser as JSON
  if (typeof value === 'object' && value !== null) return JSON.stringify(value);
  return undefined;
}

export function loadConfig(options: LoadOptions): Config {
  const read = options.readFile ?? ((p: string) => readFileSync(p, 'utf8'));
  const config = defaultConfig();
  const warnings: string[] = [];
  const cityToml = options.cityToml;

  if (cityToml !== '') {
    let doc: Record<string, unknown>;
    try {
      doc = TOML.parse(read(cityToml));
    } catch (err) {
      throw new GcK8sError('CONFIG_INVALID', `reading ${cityToml}: ${messageOf(err)}`, { cause: err });
    }
    const session = doc['session'];
    const k8s = typeof session === 'object' && session !== null ? (session as Record<string, unknown>)['k8s'] : undefined;
    if (typeof k8s === 'object' && k8s !== null) {
      for (const [key, value] of Object.entries(k8s as Record<string, unknown>)) {
        const entry = CONFIG_TABLE.find((e) => e.key === key);
        if (entry === undefined) {
          warnings.push(`${cityToml}: unknown key "${key}" in [session.k8s]${suggest(key)}; ignored`);
          continue;
        }
        const raw = tomlValue(value);
        if (raw === undefined)
          throw new GcK8sError('CONFIG_INVALID', `invalid [session.k8s] ${key} in ${cityToml}: unsupported value type`);
        try {
          entry.apply(config, raw);
        } catch (err) {
          throw new GcK8sError('CONFIG_INVALID', `invalid [session.k8s] ${key} in ${cityToml}: ${messageOf(err)}`, { cause: err });
        }
      }
    }
  }

  for (const entry of CONFIG_TABLE) {
    for (const name of entry.env) {
      const raw = options.env[name];
      if (raw === undefined || raw.trim() === '') continue; // empty means unset, as upstream
      try {
        entry.apply(config, raw);
      } catch (err) {
        throw new GcK8sError('CONFIG_INVALID', `invalid ${name}: ${messageOf(err)}`, { cause: err });
      }
      break; // the first variable of an entry that is set wins
    }
  }

  for (const [agent, profile] of Object.entries(config.pod.profileMap)) {
    if (!Object.hasOwn(config.pod.profiles, profile))
      throw new GcK8sError(
        'CONFIG_INVALID',
        `invalid [session.k8s] profile_map: agent ${quote(agent)} maps to profile ${quote(profile)}, which is not defined (profiles: ${Object.keys(config.pod.profiles).join(', ') || 'none'})`,
      );
  }
  const conflict = workspaceConflict(config.pod);
  if (conflict !== undefined) throw new GcK8sError('CONFIG_INVALID', `invalid [session.k8s] workspace settings: ${conflict}`);

  return Object.freeze({
    pod: Object.freeze({ ...config.pod }),
    session: Object.freeze({ ...config.session }),
    context: config.context,
    customTypes: Object.freeze([...config.customTypes]),
    beadsDirectReads: config.beadsDirectReads,
    beadsFastWrites: config.beadsFastWrites,
    eventsMaxAgeMs: config.eventsMaxAgeMs,
    eventsMaxCount: config.eventsMaxCount,
    cityToml,
    cityDir: cityToml === '' ? '' : dirname(cityToml),
    fingerprint: shortHash(JSON.stringify(config.pod), 12),
    warnings: Object.freeze(warnings),
  });
}

/** The configuration table as Markdown, for README and `gc-k8s config table`. */
export function configTableMarkdown(): string {
  const rows = CONFIG_TABLE.map((e) => `| \`${e.key}\` | ${e.env.map((v) => `\`${v}\``).join(', ')} | \`${e.default}\` | ${e.doc} |`);
  return ['| `[session.k8s]` key | Environment | Default | Meaning |', '|---|---|---|---|', ...rows].join('\n');
}
