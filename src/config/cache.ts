// Config loaded once per (city.toml identity, relevant environment): a request that names the same
// city with the same variables reuses the parsed result, and an edit of city.toml (new mtime,
// size or inode) is picked up by the next request without a daemon restart.

import { statSync } from 'node:fs';
import { CONFIG_TABLE } from './table.js';
import { loadConfig, type Config } from './load.js';

/** Every variable the table reads: only these make two environments load differently. */
const CONFIG_ENV = [...new Set(CONFIG_TABLE.flatMap((e) => e.env))].sort();

function fileIdentity(path: string): string {
  if (path === '') return '';
  try {
    const s = statSync(path);
    return `${s.ino}:${s.size}:${s.mtimeMs}`;
  } catch {
    return 'missing';
  }
}

export class ConfigCache {
  private readonly entries = new Map<string, { identity: string; config: Config }>();

  constructor(private readonly maxEntries = 256) {}

  load(cityToml: string, env: Readonly<Record<string, string | undefined>>): Config {
    const envKey = CONFIG_ENV.map((k) => `${k}=${env[k] ?? ''}`).join('\u0000');
    const key = `${cityToml}\u0001${envKey}`;
    const identity = fileIdentity(cityToml);
    const hit = this.entries.get(key);
    if (hit?.identity === identity) return hit.config;
    const config = loadConfig({ env, cityToml }); // throws CONFIG_INVALID naming the key: not cached
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value ?? '');
    this.entries.set(key, { identity, config });
    return config;
  }
}
