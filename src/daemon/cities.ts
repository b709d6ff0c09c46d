// The cities this daemon has served, kept in a small file beside its socket so a restarted daemon
// still knows them. gc names sessions without their city and calls list-running with an empty
// prefix, and only start's payload carries GC_CITY; this record is what lets a later call with
// no city in its environment be routed to the city that started the session.

import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Logger } from '../log/logger.js';

export interface KnownCity {
  /** absolute city directory (where city.toml is) */
  readonly dir: string;
  readonly namespace: string;
  readonly context: string;
  /** ms epoch of the last request resolved to this city */
  readonly lastUsedAt: number;
}

const FILE_VERSION = 1;
/** writes of lastUsedAt alone are batched: the file changes when a city or its namespace does */
const TOUCH_WRITE_INTERVAL_MS = 60_000;

export class CityRegistry {
  private readonly cities = new Map<string, KnownCity>();
  private lastWriteAt = 0;

  constructor(
    /** '' keeps the registry in memory only (tests, one-shot commands) */
    private readonly file: string,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {
    if (file === '' || !existsSync(file)) return;
    try {
      const doc = JSON.parse(readFileSync(file, 'utf8')) as { version?: number; cities?: KnownCity[] };
      for (const c of doc.cities ?? []) {
        if (typeof c.dir === 'string' && typeof c.namespace === 'string' && typeof c.context === 'string') {
          this.cities.set(c.dir, {
            dir: c.dir,
            namespace: c.namespace,
            context: c.context,
            lastUsedAt: typeof c.lastUsedAt === 'number' ? c.lastUsedAt : 0,
          });
        }
      }
    } catch (err) {
      log.warn({ err, file }, 'cannot read the known cities; starting with none');
    }
  }

  /** Cities whose city.toml still exists (a moved or deleted city is forgotten). */
  list(): KnownCity[] {
    const out: KnownCity[] = [];
    for (const city of this.cities.values()) {
      if (existsSync(join(city.dir, 'city.toml'))) out.push(city);
      else this.forget(city.dir);
    }
    return out.sort((a, b) => a.dir.localeCompare(b.dir));
  }

  get(dir: string): KnownCity | undefined {
    return this.cities.get(dir);
  }

  record(dir: string, namespace: string, context: string): void {
    const old = this.cities.get(dir);
    const now = this.now();
    this.cities.set(dir, { dir, namespace, context, lastUsedAt: now });
    const changed = old === undefined || old.namespace !== namespace || old.context !== context;
    if (changed) this.log.info({ city: dir, namespace, context }, old === undefined ? 'serving a new city' : 'city settings changed');
    if (changed || now - this.lastWriteAt > TOUCH_WRITE_INTERVAL_MS) this.save();
  }

  forget(dir: string): boolean {
    const had = this.cities.delete(dir);
    if (had) this.save();
    return had;
  }

  private save(): void {
    if (this.file === '') return;
    this.lastWriteAt = this.now();
    try {
      mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
      const tmp = `${this.file}.${process.pid}.tmp`;
      writeFileSync(tmp, `${JSON.stringify({ version: FILE_VERSION, cities: [...this.cities.values()] }, null, 2)}\n`, { mode: 0o600 });
      renameSync(tmp, this.file);
    } catch (err) {
      this.log.warn({ err, file: this.file }, 'cannot save the known cities (a restarted daemon will relearn them from start calls)');
    }
  }
}

/** The registry file of the daemon serving `socket`. */
export function cityRegistryPath(socket: string): string {
  return `${socket.replace(/\.sock$/, '')}.cities.json`;
}
