// `gc-k8s link [<city dir>]`: links the three provider scripts into <city>/.gc-k8s/bin, so a city
// can select them by a path inside itself. gc tells a script nothing about the city it calls for
// (no GC_CITY, its own working directory); a script run from inside a city directory tells the
// daemon which city's settings apply, which one supervisor serving several cities needs.

import { existsSync, lstatSync, mkdirSync, readlinkSync, symlinkSync, unlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GcK8sError } from '../errors.js';

const SCRIPTS = [
  { name: 'gc-session-k8s', section: 'session' },
  { name: 'gc-events-k8s', section: 'events' },
  { name: 'gc-beads-k8s', section: 'beads' },
] as const;

export function linkCity(argv: readonly string[], io: { cwd: string; stdout: NodeJS.WritableStream }): number {
  if (argv.length > 1) throw new GcK8sError('BAD_REQUEST', 'usage: gc-k8s link [<city dir>]');
  const city = resolve(io.cwd, argv[0] ?? '.');
  if (!existsSync(join(city, 'city.toml'))) throw new GcK8sError('BAD_REQUEST', `link: ${city} has no city.toml`);
  const binDir = fileURLToPath(new URL('../../bin', import.meta.url));
  const dir = join(city, '.gc-k8s', 'bin');
  mkdirSync(dir, { recursive: true });
  for (const { name } of SCRIPTS) {
    const link = join(dir, name);
    const target = join(binDir, name);
    let current: string | undefined;
    try {
      current = lstatSync(link).isSymbolicLink() ? readlinkSync(link) : '(a file)';
    } catch {
      current = undefined;
    }
    if (current === target) continue;
    if (current !== undefined) unlinkSync(link);
    symlinkSync(target, link);
  }
  io.stdout.write(`Linked the gc-k8s scripts into ${dir}. In ${join(city, 'city.toml')}:\n\n`);
  for (const { name, section } of SCRIPTS) io.stdout.write(`[${section}]\nprovider = "exec:${join(dir, name)}"\n\n`);
  return 0;
}
