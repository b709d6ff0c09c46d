// [session.k8s.profiles.<name>] (or GC_K8S_PROFILES_JSON): each profile is a handful of the
// table's own keys, parsed by the table's own rows, so a profile value is checked exactly as the
// same key at the top level is, and an error names the profile and the key.

import { quote } from '../errors.js';
import type { ProfileOverrides } from '../session/settings.js';

/** The table keys a profile may set, and the pod setting each one writes. */
export const PROFILE_KEYS: Readonly<Record<string, keyof ProfileOverrides>> = {
  image: 'image',
  image_pull_policy: 'imagePullPolicy',
  cpu_request: 'cpuRequest',
  mem_request: 'memRequest',
  cpu_limit: 'cpuLimit',
  mem_limit: 'memLimit',
  priority_class_name: 'priorityClassName',
  node_selector: 'nodeSelector',
  tolerations: 'tolerations',
  affinity: 'affinity',
  service_account: 'serviceAccount',
  agent_env: 'agentEnv',
  secret_env: 'secretEnv',
  secret_files: 'secretFiles',
  workspace_size: 'workspaceSize',
  workspace_storage_class: 'workspaceStorageClass',
};

/** A row of the config table, as far as a profile needs it (table.ts passes its own rows). */
interface Row {
  readonly key: string;
  apply(config: { pod: Record<string, unknown> }, raw: string): void;
}

const PROFILE_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** A value of a TOML table or JSON object as the string the row's parser reads. */
function rawOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'object' && value !== null) return JSON.stringify(value);
  return undefined;
}

export function parseProfiles(value: string, rows: readonly Row[]): Record<string, ProfileOverrides> {
  let doc: unknown;
  try {
    doc = JSON.parse(value);
  } catch (err) {
    throw new Error(`expected a JSON object of profiles: ${(err as Error).message}`, { cause: err });
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new Error('expected an object of profiles (name → settings)');
  const out: Record<string, ProfileOverrides> = {};
  for (const [name, fields] of Object.entries(doc as Record<string, unknown>)) {
    if (!PROFILE_NAME.test(name)) throw new Error(`profile name ${quote(name)}: expected lowercase letters, digits and -`);
    if (typeof fields !== 'object' || fields === null || Array.isArray(fields))
      throw new Error(`profile ${quote(name)}: expected a table of settings`);
    const overrides: { -readonly [K in keyof ProfileOverrides]: ProfileOverrides[K] } = {};
    for (const [key, raw] of Object.entries(fields as Record<string, unknown>)) {
      const field = PROFILE_KEYS[key];
      const row = rows.find((r) => r.key === key);
      if (field === undefined || row === undefined)
        throw new Error(`profile ${quote(name)}: ${quote(key)} is not a profile setting (one of ${Object.keys(PROFILE_KEYS).join(', ')})`);
      const text = rawOf(raw);
      if (text === undefined) throw new Error(`profile ${quote(name)}: ${key}: unsupported value type`);
      const scratch = { pod: {} as Record<string, unknown> };
      try {
        row.apply(scratch, text);
      } catch (err) {
        throw new Error(`profile ${quote(name)}: ${key}: ${(err as Error).message}`, { cause: err });
      }
      (overrides as Record<string, unknown>)[field] = scratch.pod[field];
    }
    out[name] = overrides;
  }
  return out;
}
