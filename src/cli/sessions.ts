// `gc-k8s sessions [--json]`: this city's namespace at a glance (src/session/inventory.ts), with
// the warm pools the daemon keeps (their size and, when short, why) from its status.

import { parseArgs } from 'node:util';
import { findCityToml, loadConfig } from '../config/load.js';
import { messageOf } from '../errors.js';
import { createKubeClient } from '../k8s/client.js';
import { createLogger } from '../log/logger.js';
import { inventory } from '../session/inventory.js';
import type { WarmPoolStatus } from '../session/warm-pool.js';

const DEADLINE_MS = 60_000;

function ago(iso: string, now: number): string {
  const s = Math.floor((now - Date.parse(iso)) / 1000);
  if (Number.isNaN(s)) return '-';
  if (s < 120) return `${Math.max(0, s)}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172_800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  return [head, ...rows]
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export async function runSessions(
  argv: readonly string[],
  io: { env: NodeJS.ProcessEnv; cwd: string; stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream },
  daemonPools: () => Promise<WarmPoolStatus[]>,
): Promise<number> {
  let json: boolean;
  try {
    json = parseArgs({ args: [...argv], options: { json: { type: 'boolean' } } }).values.json === true;
  } catch (err) {
    io.stderr.write(`gc-k8s sessions: ${messageOf(err).slice(0, 200)}\nusage: gc-k8s sessions [--json]\n`);
    return 2;
  }
  const config = loadConfig({ env: io.env, cityToml: findCityToml(io.env, io.cwd) });
  const log = createLogger({ level: io.env['GC_K8S_LOG_LEVEL'] ?? 'warn', destination: io.stderr });
  const kube = await createKubeClient({ log, env: io.env, ...(config.context === '' ? {} : { context: config.context }) });
  try {
    const ns = kube.forNamespace(config.pod.namespace);
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
        : `${table(
            ['SESSION', 'STATE', 'POD', 'AGE', 'FROM', 'WORKSPACE', 'SIZE'],
            inv.sessions.map((s) => [
              s.session,
              s.state,
              s.pod || '-',
              ago(s.since, now),
              s.from === 'cold' && s.coldBecause !== '' ? `cold: ${s.coldBecause}` : s.from || '-',
              s.workspace || '-',
              s.size || '-',
            ]),
          )}\n`,
    );
    if (poolRows.length > 0) {
      io.stdout.write(
        `\n${table(
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
  } finally {
    await kube.close();
  }
}
