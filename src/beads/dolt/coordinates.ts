// Which Dolt a store uses, from gc's environment and our config. gc passes the controller's view
// (GC_DOLT_HOST/PORT/USER, on init for a script named gc-beads-k8s); a loopback host means "the
// Dolt next to gc", which from a pod is the in-cluster Service (dolt_host/dolt_port).

import type { PodSettings } from '../../session/settings.js';
import { GcK8sError, quote } from '../../errors.js';

export interface DoltCoordinates {
  readonly host: string;
  readonly port: string;
  readonly user: string;
}

export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase();
  return h === '' || h === 'localhost' || h === '::1' || h === '[::1]' || h.startsWith('127.');
}

export function doltCoordinates(env: Readonly<Record<string, string>>, settings: PodSettings): DoltCoordinates {
  const host = (env['GC_DOLT_HOST'] ?? '').trim();
  const port = (env['GC_DOLT_PORT'] ?? '').trim();
  const user = (env['GC_DOLT_USER'] ?? '').trim() || 'root';
  // Gas City 1.x refuses a half-set pair rather than guessing the other half.
  if ((host === '') !== (port === ''))
    throw new GcK8sError(
      'BAD_REQUEST',
      `requires both GC_DOLT_HOST and GC_DOLT_PORT (only ${host === '' ? 'GC_DOLT_PORT' : 'GC_DOLT_HOST'} is set)`,
    );
  if (port !== '' && !/^\d{1,5}$/.test(port)) throw new GcK8sError('BAD_REQUEST', `GC_DOLT_PORT must be a port number, got ${quote(port)}`);
  if (isLoopbackHost(host)) return { host: settings.doltHost, port: settings.doltPort, user };
  return { host, port, user };
}

/** The password gc gave us, if any; the runner reads its own from the Secret. */
export function doltPassword(env: Readonly<Record<string, string>>): string {
  return env['GC_DOLT_PASSWORD'] ?? env['BEADS_DOLT_PASSWORD'] ?? '';
}
