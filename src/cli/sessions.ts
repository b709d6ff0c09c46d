// `gc-k8s sessions [--json]`: this city's namespace at a glance (src/session/inventory.ts), with
// the warm pools the daemon keeps (their size and, when short, why) from its status.

import { parseArgs } from 'node:util';
import { messageOf } from '../errors.js';
import { withNamespaceClient, type CliCommandIo } from './namespace-client.js';
import { ago, textTable } from './text-table.js';
import { inventory, type SessionRow } from '../session/inventory.js';
import type { WarmPoolStatus } from '../session/warm-pool.js';

const DEADLINE_MS = 60_000;

/** "ended (OOMKilled, exit 137)": the state, and how an ended session ended */
function stateOf(s: SessionRow): string {
  const how = [s.reason, s.exitCode === null ? '' : `exit ${s.exitCode}`].filter((x) => x !== '');
  return how.length === 0 ? s.state : `${s.state} (${how.join(', ')})`;
}

export async function runSessions(
  argv: readonly string[],
  io: CliCommandIo,
  daemonPools: () => Promise<WarmPoolStatus[]>,
): Promise<number> {
  let json: boolean;
  try {
    json = parseArgs({ args: [...argv], options: { json: { type: 'boolean' } } }).values.json === true;
  } catch (err) {
    io.stderr.write(`gc-k8s sessions: ${messageOf(err).slice(0, 200)}\nusage: gc-k8s sessions [--json]\n`);
    return 2;
  }
  return withNamespaceClient(io, async (ns, { log }) => {
    const [inv, pools] = await Promise.all([
      inventory(ns, AbortSignal.timeout(DEADLINE_MS)),
      daemonPools().catch((err: unknown) => {
        log.warn({ err }, 'no warm pool status from the daemon');
        return [] as WarmPoolStatus[];
      }),
    ]);
    const byKey = new Map(pools.map((p) => [p.key, p]));
    const poolRows = [...new Set([...inv.pools.map((p) => p.pool), ...pools.map((p) => p.key)])].map((key) => {
      const seen = inv.pools.find((p) => p.pool === key);
      const kept = byKey.get(key);
      return {
        pool: key,
        city: seen?.city ?? '',
        ready: seen?.ready ?? 0,
        starting: seen?.starting ?? 0,
        size: kept?.size ?? null,
        shortBecause: kept?.shortBecause ?? '',
      };
    });
    if (json) {
      io.stdout.write(`${JSON.stringify({ namespace: ns.namespace, sessions: inv.sessions, warmPools: poolRows })}\n`);
      return 0;
    }
    const now = Date.now();
    io.stdout.write(
      inv.sessions.length === 0
        ? `no sessions in namespace ${ns.namespace}\n`
        : `${textTable(
            ['SESSION', 'STATE', 'POD', 'JOB', 'AGE', 'FROM', 'WORKSPACE', 'SIZE'],
            inv.sessions.map((s) => [
              s.session,
              stateOf(s),
              s.pod || '-',
              s.job || '-',
              ago(s.since, now),
              s.from === 'cold' && s.coldBecause !== '' ? `cold: ${s.coldBecause}` : s.from || '-',
              s.workspace || '-',
              s.size || '-',
            ]),
          )}\n`,
    );
    if (poolRows.length > 0) {
      io.stdout.write(
        `\n${textTable(
          ['WARM POOL', 'CITY', 'READY', 'STARTING', 'SIZE', 'NOTE'],
          poolRows.map((p) => [
            p.pool,
            p.city || '-',
            String(p.ready),
            String(p.starting),
            p.size === null ? '(not kept by the daemon)' : String(p.size),
            p.shortBecause,
          ]),
        )}\n`,
      );
    }
    return 0;
  });
}
