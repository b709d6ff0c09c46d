// Per-role profiles: which profile a session's agent gets (profile_map), and the pod settings of a
// start with it applied. Pure: the start resolves once, and everything it makes (pod or Job,
// workspace claim, warm-pool eligibility, the compat annotation) reads the resolved settings, so
// a pod's compatibility is judged on the profile actually applied.

import { PROFILE_FIELDS, type PodSettings, type ProfileOverrides } from './settings.js';

/** The agent's names in the start env, most specific first: alias, full name, its last segment. */
function agentNames(env: Readonly<Record<string, string>>): string[] {
  const name = env['GC_AGENT'] ?? '';
  return [env['GC_ALIAS'] ?? '', name, name.split('/').pop() ?? ''].filter((n) => n !== '');
}

function globMatches(pattern: string, name: string): boolean {
  const re = new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
  return re.test(name);
}

/** The profile for this agent: an exact entry for one of its names, else the first matching pattern (in file order, `*` last), else none. */
export function profileFor(settings: PodSettings, env: Readonly<Record<string, string>>): string | undefined {
  const map = settings.profileMap;
  const names = agentNames(env);
  for (const n of names) if (Object.hasOwn(map, n)) return map[n];
  const patterns = Object.keys(map).filter((p) => p.includes('*') && p !== '*');
  for (const p of patterns) if (names.some((n) => globMatches(p, n))) return map[p];
  return Object.hasOwn(map, '*') ? map['*'] : undefined;
}

/** The settings a start of this agent uses: the city's, with its profile's overrides on top. */
export function settingsForStart(settings: PodSettings, env: Readonly<Record<string, string>>): PodSettings {
  const name = profileFor(settings, env);
  const profile: ProfileOverrides | undefined = name === undefined ? undefined : settings.profiles[name];
  if (name === undefined || profile === undefined) return settings;
  const out: Record<string, unknown> = { ...settings, profileName: name };
  for (const field of PROFILE_FIELDS) if (profile[field] !== undefined) out[field] = profile[field];
  // env and secret env add to the city's (the profile's entries win); everything else replaces
  return {
    ...(out as unknown as PodSettings),
    agentEnv: { ...settings.agentEnv, ...(profile.agentEnv ?? {}) },
    secretEnv: { ...settings.secretEnv, ...(profile.secretEnv ?? {}) },
    profileName: name,
  };
}
