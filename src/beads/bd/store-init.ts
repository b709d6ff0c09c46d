// Bringing one store's .beads directory up in the runner, idempotently: if the directory has its
// own .beads, only the config is refreshed; otherwise `bd init --server` points it at Dolt
// (which keeps the data — a re-init after the runner was recreated finds the database as it was).
// The database is always named (initDatabase), so the daemon knows it from the record alone.

import { GcK8sError } from '../../errors.js';
import { HAS_STORE } from './program.js';
import { bdError, type BdRun } from './ops.js';
import type { StoreRecord } from '../registry.js';

export function initArgs(rec: StoreRecord): string[] {
  return [
    'init',
    '--server',
    `--server-host=${rec.host}`,
    `--server-port=${rec.port}`,
    `--server-user=${rec.user}`,
    `--prefix=${rec.prefix}`,
    // Always named: bd v1.0.0 left to itself creates r_x_y for prefix "r-x.y" but records r_x.y,
    // which it then cannot open.
    `--database=${initDatabase(rec)}`,
    '--skip-hooks',
    '--skip-agents',
    '--non-interactive',
    '--quiet',
  ];
}

/** bd's default database name (configfile.DefaultDoltDatabase). */
const DEFAULT_DATABASE = 'beads';

/**
 * The Dolt database of a store: the one gc named, else bd's own choice for the prefix ('-' and '.'
 * made '_', as bd v1.0.0 names the database it creates), else "beads". Our init passes it to
 * `bd init --database`, so metadata.json records exactly this and a restarted daemon can name it
 * without asking the runner.
 */
export function initDatabase(rec: StoreRecord): string {
  if (rec.database !== '') return rec.database;
  return rec.prefix === '' ? DEFAULT_DATABASE : rec.prefix.replaceAll('-', '_').replaceAll('.', '_');
}

export async function initStore(run: BdRun, rec: StoreRecord): Promise<void> {
  // Not `bd list`: in a rig below the city, bd would find the city's .beads and report success.
  const probe = await run([HAS_STORE]);
  if (probe.exitCode !== 0) {
    const init = await run(initArgs(rec));
    if (init.exitCode !== 0) throw new GcK8sError('EXEC_NONZERO', `init ${rec.workdir}: bd init: ${bdError(init)}`);
  }
  const settings: [string, string][] = [['issue_prefix', rec.prefix]];
  if (rec.customTypes.length > 0) settings.push(['types.custom', rec.customTypes.join(',')]);
  for (const [key, value] of settings) {
    const r = await run(['config', 'set', key, value]);
    if (r.exitCode !== 0) throw new GcK8sError('EXEC_NONZERO', `init ${rec.workdir}: bd config set ${key}: ${bdError(r)}`);
  }
}
