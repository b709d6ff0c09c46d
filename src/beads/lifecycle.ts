// Lifecycle ops with meaning: health looks at the runner and at Dolt (from the daemon through
// mysql2 when it can reach the Service, otherwise from inside the runner), recover replaces what
// is broken and re-initializes every registered store, probe answers from one API call.

import type { PodSettings } from '../session/settings.js';
import { GcK8sError, messageOf } from '../errors.js';
import { isLoopbackHost } from './dolt/coordinates.js';
import { pingDolt, type DoltTarget } from './dolt/mysql.js';
import { bdError } from './bd/ops.js';
import { isRunnerReady } from './runner/runner.js';
import { RUNNER_POD } from './runner/manifest.js';
import type { BeadsService } from './service.js';

export interface HealthReport {
  readonly ok: boolean;
  readonly problems: readonly string[];
  readonly notes: readonly string[];
}

const DAEMON_PING_MS = 1500;

/** TCP connect from the runner: host and port are argv, never shell text. */
const TCP_CHECK = 'exec 3<>"/dev/tcp/$1/$2"';

/**
 * `dialHost`: what the daemon dials for `dolt.host` (a Service's ClusterIP when the host names a
 * Service); the runner always checks `dolt.host` itself, as bd resolves it.
 */
export async function checkHealth(
  service: BeadsService,
  settings: PodSettings,
  dolt: DoltTarget,
  signal: AbortSignal,
  dialHost = dolt.host,
): Promise<HealthReport> {
  const problems: string[] = [];
  const notes: string[] = [];
  const pod = await service.runner(settings).get(signal);
  const runnerOk = isRunnerReady(pod);
  if (!runnerOk)
    problems.push(
      pod === undefined
        ? `beads runner ${RUNNER_POD} does not exist`
        : `beads runner ${RUNNER_POD} is not ready (phase ${pod.phase}${pod.deletionTimestamp === undefined ? '' : ', being deleted'})`,
    );

  const direct = isLoopbackHost(dolt.host) ? undefined : await pingDolt({ ...dolt, host: dialHost }, DAEMON_PING_MS);
  if (direct?.ok === true) {
    notes.push(`dolt ${dolt.host}:${dolt.port} answers${dialHost === dolt.host ? '' : ` at ${dialHost}`} (version ${direct.version})`);
  } else if (runnerOk) {
    if (direct !== undefined) notes.push(`from the daemon: ${direct.cause}`);
    const cause = await doltFromRunner(service, settings, dolt, signal);
    if (cause === undefined) notes.push(`dolt ${dolt.host}:${dolt.port} reachable from the runner`);
    else problems.push(cause);
  } else if (direct !== undefined) {
    problems.push(direct.reached ? direct.cause : `${direct.cause} (and no runner to check from inside the cluster)`);
  }
  return { ok: problems.length === 0, problems, notes };
}

async function doltFromRunner(
  service: BeadsService,
  settings: PodSettings,
  dolt: DoltTarget,
  signal: AbortSignal,
): Promise<string | undefined> {
  // A store bd can read proves Dolt answers SQL with the runner's credentials.
  const stores = await service.registry.list(signal);
  const first = stores[0];
  if (first !== undefined) {
    try {
      const r = await service.runOnce(
        settings,
        { workdir: first.workdir, idempotent: true },
        ['list', '--json', '--limit=1', '--flat'],
        signal,
      );
      if (r.exitCode === 0) return undefined;
      return `dolt via store ${first.workdir}: ${bdError(r)}`;
    } catch (err) {
      return `dolt via store ${first.workdir}: ${messageOf(err)}`;
    }
  }
  const r = await service.execInRunner(['timeout', '5', 'bash', '-c', TCP_CHECK, 'gc-dolt-check', dolt.host, String(dolt.port)], signal);
  return r.exitCode === 0
    ? undefined
    : `dolt ${dolt.host}:${dolt.port} is not reachable from the runner${r.stderr.trim() === '' ? '' : `: ${r.stderr.trim()}`}`;
}

export function assertImage(settings: PodSettings, op: string): void {
  if (settings.image === '') throw new GcK8sError('CONFIG_INVALID', `${op}: GC_K8S_IMAGE is required`);
}
