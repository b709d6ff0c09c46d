// `gc-k8s top [--json]`: this city's sessions with CPU, memory, restarts, age and last activity,
// the everyday view a `kubectl top pod` user expects (src/session/top.ts reads it).

import { parseArgs } from 'node:util';
import { messageOf } from '../errors.js';
import { top } from '../session/top.js';
import { withNamespaceClient, type CliCommandIo } from './namespace-client.js';
import { ago, textTable } from './text-table.js';

const DEADLINE_MS = 60_000;
const USAGE = 'usage: gc-k8s top [--json]';

/** "250m" below a core, "1.25" from one up: the way kubectl top shows CPU. */
function cpu(cores: number | null): string {
  if (cores === null) return '-';
  return cores < 1 ? `${Math.round(cores * 1000)}m` : cores.toFixed(2);
}

function memory(bytes: number | null): string {
  if (bytes === null) return '-';
  return bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(1)}Gi` : `${Math.round(bytes / 2 ** 20)}Mi`;
}

export async function runTop(argv: readonly string[], io: CliCommandIo): Promise<number> {
  let json: boolean;
  try {
    json = parseArgs({ args: [...argv], options: { json: { type: 'boolean' } } }).values.json === true;
  } catch (err) {
    io.stderr.write(`gc-k8s top: ${messageOf(err).slice(0, 200)}\n${USAGE}\n`);
    return 2;
  }
  return withNamespaceClient(io, async (ns, { log }) => {
    const t = await top(ns, AbortSignal.timeout(DEADLINE_MS), (pod, err) => {
      log.warn({ pod, err }, 'no last activity');
    });
    if (json) {
      io.stdout.write(
        `${JSON.stringify({ namespace: ns.namespace, sessions: t.rows, ...(t.metricsNote === '' ? {} : { note: t.metricsNote }) })}\n`,
      );
      return 0;
    }
    const now = Date.now();
    io.stdout.write(
      t.rows.length === 0
        ? `no sessions in namespace ${ns.namespace}\n`
        : `${textTable(
            ['SESSION', 'STATE', 'CPU', 'MEMORY', 'RESTARTS', 'AGE', 'LAST ACTIVITY', 'POD', 'NODE'],
            t.rows.map((r) => [
              r.session,
              r.phase,
              cpu(r.cpuCores),
              memory(r.memoryBytes),
              String(r.restarts),
              ago(r.created, now),
              r.lastActivity === '' ? '-' : `${ago(r.lastActivity, now)} ago`,
              r.pod,
              r.node || '-',
            ]),
          )}\n`,
    );
    if (t.metricsNote !== '') io.stderr.write(`note: ${t.metricsNote}\n`);
    return 0;
  });
}
