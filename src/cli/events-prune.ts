// `gc-k8s events prune --max-age 24h --max-count 10000`: the retention pass the daemon runs on a
// timer, as a one-shot command (the CronJob in contrib/k8s runs it in-cluster with its own
// service account). Talks to the API directly; no daemon involved.

import { parseArgs } from 'node:util';
import { GcK8sError } from '../errors.js';
import { isRetentionEnabled, parseRetentionPolicy, pruneEvents } from '../events/index.js';
import { withNamespaceClient, type CliCommandIo } from './namespace-client.js';
import { systemClock } from '../util/clock.js';

export async function runEventsPrune(argv: readonly string[], io: CliCommandIo): Promise<number> {
  const { values } = parseArgs({ args: [...argv], options: { 'max-age': { type: 'string' }, 'max-count': { type: 'string' } } });
  const policy = parseRetentionPolicy({ maxAge: values['max-age'], maxCount: values['max-count'] });
  if (!isRetentionEnabled(policy)) throw new GcK8sError('BAD_REQUEST', 'events prune: give --max-age and/or --max-count');
  return withNamespaceClient(io, async (ns, { config, log }) => {
    const result = await pruneEvents({ configMaps: ns.configMaps, clock: systemClock, log }, policy, AbortSignal.timeout(10 * 60_000));
    io.stdout.write(`${JSON.stringify({ namespace: config.pod.namespace, ...result })}\n`);
    return result.failed > 0 ? 1 : 0;
  });
}
