// Which city a request belongs to, and so which settings (namespace, image, timeouts…) apply.
// gc runs the scripts from its supervisor's directory with no city in their environment, names
// sessions without their city, and lists with an empty prefix; only start's payload carries
// GC_CITY. So, first match wins:
//   1. GC_CITY / GC_CITY_PATH / GC_CITY_ROOT in the caller's environment (gc sets them for beads);
//   2. the script's own path, when it lies inside a city (`gc-k8s link` puts links there);
//   3. for start: GC_CITY (…_PATH, …_ROOT) in the payload's env;
//   4. for ops on a named session: the city recorded on that session's pod (any known city);
//   5. a city.toml at or above the working directory;
//   6. the only city this daemon knows;
//   7. none: defaults and GC_K8S_* variables, with a warning (list-running refuses instead when
//      several cities are known: answering with another city's sessions would let gc stop them).

import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { ConfigCache } from '../config/cache.js';
import { CITY_ENV, cityTomlAbove, cityTomlFromEnv, type Config } from '../config/load.js';
import { GcK8sError, quote } from '../errors.js';
import type { Request } from '../protocol/messages.js';
import type { CityRegistry, KnownCity } from './cities.js';
import { existsSync } from 'node:fs';
import type { Pod } from '../kube/types.js';
import { ANNOTATION_CITY } from '../session/manifest.js';
import { podsOfSession } from '../session/lookup.js';
import { CLIENT_ENV } from '../protocol/client-env.js';

export type CitySource = 'env' | 'script' | 'start payload' | 'session' | 'cwd' | 'only known city' | 'none';

export interface CityResolution {
  readonly config: Config;
  readonly source: CitySource;
  /** set when no city could be told: printed on stderr and logged */
  readonly warning?: string;
}

export interface ResolveDeps {
  readonly configs: ConfigCache;
  readonly registry: CityRegistry;
  /** the known cities that have a pod for this session name */
  sessionCities(name: string, candidates: readonly KnownCity[], signal: AbortSignal): Promise<string[]>;
}

/** Env variable the provider scripts set to the path gc ran them by. */
export const INVOKED_AS_ENV = CLIENT_ENV.invokedAs.env;

const START_OPS = new Set(['start', 'provision']);

function tomlIn(dir: string): string {
  const path = join(dir, 'city.toml');
  return existsSync(path) ? path : '';
}

/** GC_CITY (then _PATH, _ROOT) from start's JSON; '' when absent or unparsable (start reports that). */
function payloadCityToml(stdin: string | undefined): string {
  if (stdin === undefined || stdin.trim() === '') return '';
  let env: unknown;
  try {
    env = (JSON.parse(stdin) as { env?: unknown }).env;
  } catch {
    return '';
  }
  if (typeof env !== 'object' || env === null) return '';
  for (const key of CITY_ENV) {
    const dir = (env as Record<string, unknown>)[key];
    if (typeof dir === 'string' && isAbsolute(dir.trim())) {
      const toml = tomlIn(dir.trim());
      if (toml !== '') return toml;
    }
  }
  return '';
}

function scriptCityToml(env: Readonly<Record<string, string>>, cwd: string): string {
  const invoked = env[INVOKED_AS_ENV]?.trim();
  if (invoked === undefined || invoked === '' || !invoked.includes('/')) return '';
  return cityTomlAbove(dirname(resolve(cwd, invoked)));
}

function describeCities(cities: readonly KnownCity[]): string {
  return cities.map((c) => `${c.dir} (namespace ${c.namespace})`).join(', ');
}

export async function resolveCity(request: Request, deps: ResolveDeps, signal: AbortSignal): Promise<CityResolution> {
  const { env, cwd } = request;
  const found = (cityToml: string, source: CitySource): CityResolution => {
    const config = deps.configs.load(cityToml, env);
    if (request.provider !== 'admin') deps.registry.record(config.cityDir, config.pod.namespace, config.context);
    return { config, source };
  };

  const explicit = cityTomlFromEnv(env, cwd);
  if (explicit !== '') return found(explicit, 'env');
  const script = scriptCityToml(env, cwd);
  if (script !== '') return found(script, 'script');
  if (request.provider === 'session' && START_OPS.has(request.op)) {
    const payload = payloadCityToml(request.stdin);
    if (payload !== '') return found(payload, 'start payload');
  }

  const known = deps.registry.list();
  const name = request.provider === 'session' && request.op !== 'list-running' ? request.args[0] : undefined;
  if (name !== undefined && name !== '' && known.length > 0) {
    const cities = await deps.sessionCities(name, known, signal);
    if (cities.length > 1) {
      throw new GcK8sError(
        'BAD_REQUEST',
        `${request.op}: session ${quote(name)} exists in ${cities.length} cities (${cities.join(', ')}); run the scripts through each city's links (gc-k8s link <city>) or set GC_CITY`,
      );
    }
    const city = cities[0];
    if (city !== undefined) {
      const toml = tomlIn(city);
      if (toml !== '') return { config: deps.configs.load(toml, env), source: 'session' };
    }
  }

  const above = cityTomlAbove(cwd);
  if (above !== '') return found(above, 'cwd');
  const only = known.length === 1 ? known[0] : undefined;
  if (only !== undefined) {
    const toml = tomlIn(only.dir);
    if (toml !== '') return { config: deps.configs.load(toml, env), source: 'only known city' };
  }

  if (known.length > 1 && request.provider === 'session' && request.op === 'list-running') {
    throw new GcK8sError(
      'BAD_REQUEST',
      `list-running: cannot tell which city is asking: ${known.length} cities use this daemon (${describeCities(known)}) and this call names none; run the scripts through each city's links (gc-k8s link <city>) or set GC_CITY`,
    );
  }
  const config = deps.configs.load('', env);
  // A caller that names the namespace chose env-only configuration on purpose.
  if (env['GC_K8S_NAMESPACE'] !== undefined && env['GC_K8S_NAMESPACE'] !== '') return { config, source: 'none' };
  const why =
    known.length === 0
      ? 'no GC_CITY in the environment, no city.toml at or above ' + cwd
      : `no GC_CITY, no city.toml at or above ${cwd}, and ${known.length} cities use this daemon (${describeCities(known)})`;
  return {
    config,
    source: 'none',
    warning: `gc-k8s: cannot tell which city this ${request.op} belongs to (${why}); using defaults and GC_K8S_* variables (namespace ${config.pod.namespace})`,
  };
}

/**
 * Looks a session name up in the namespaces of the known cities (their watch caches): the city a
 * pod records wins; an older pod without one belongs to its namespace's only city.
 */
export function sessionCitiesIn(
  namespacePods: (context: string, namespace: string, signal: AbortSignal) => Promise<readonly Pod[]>,
): ResolveDeps['sessionCities'] {
  return async (name, candidates, signal) => {
    const groups = new Map<string, KnownCity[]>();
    for (const city of candidates) {
      const key = `${city.context}\u0000${city.namespace}`;
      groups.set(key, [...(groups.get(key) ?? []), city]);
    }
    const out = new Set<string>();
    await Promise.all(
      [...groups.values()].map(async (cities) => {
        const first = cities[0];
        if (first === undefined) return;
        const pods = podsOfSession(await namespacePods(first.context, first.namespace, signal), name);
        for (const pod of pods) {
          const recorded = pod.annotations[ANNOTATION_CITY];
          if (recorded !== undefined) {
            if (cities.some((c) => c.dir === recorded)) out.add(recorded);
          } else {
            for (const c of cities) out.add(c.dir);
          }
        }
      }),
    );
    return [...out].sort();
  };
}
