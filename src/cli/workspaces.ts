// `gc-k8s workspaces list|delete <session>|prune --unused-for D [--json]`: the kept workspace
// claims of this city's namespace (src/session/workspace-admin.ts). Talks to the API directly,
// like `events prune`; arguments are checked before anything is read.

import { parseArgs } from 'node:util';
import { findCityToml, loadConfig } from '../config/load.js';
import { parseDuration } from '../config/parse.js';
import { GcK8sError, messageOf, quote } from '../errors.js';
import { createKubeClient } from '../k8s/client.js';
import { createLogger } from '../log/logger.js';
import { deleteWorkspace, listWorkspaces, pruneWorkspaces, type WorkspaceInfo } from '../session/workspace-admin.js';
import { validateSessionName } from '../session/names.js';

const USAGE = 'usage: gc-k8s workspaces list [--json] | delete <session> | prune --unused-for <duration> [--json]';
const DEADLINE_MS = 60_000;

function age(fromIso: string, now: number): string {
  const s = Math.max(0, Math.floor((now - Date.parse(fromIso)) / 1000));
  if (Number.isNaN(s)) return '-';
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172_800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}

function table(rows: readonly WorkspaceInfo[], now: number): string {
  const head = ['SESSION', 'CLAIM', 'SIZE', 'CLASS', 'STATUS', 'AGE', 'LAST USED', 'NODE', 'USED BY'];
  const body = rows.map((w) => [
    w.session,
    w.claim,
    w.size,
    w.storageClass || '(default)',
    w.deleting ? 'Deleting' : w.phase,
    age(w.created, now),
    `${age(w.lastUsed, now)} ago`,
    w.node || '-',
    w.usedBy.join(',') || '-',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? '').length)));
  return [head, ...body]
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export async function runWorkspaces(
  argv: readonly string[],
  io: { env: NodeJS.ProcessEnv; cwd: string; stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream },
): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: { json: { type: 'boolean' }, 'unused-for': { type: 'string' } },
    });
  } catch (err) {
    io.stderr.write(`gc-k8s workspaces: ${messageOf(err).slice(0, 200)}\n${USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [sub, ...args] = positionals;
  let unusedForMs = 0;
  if (sub === 'list' && args.length === 0 && values['unused-for'] === undefined) {
    // ok
  } else if (sub === 'delete' && args.length === 1 && values['unused-for'] === undefined) {
    const invalid = validateSessionName(args[0] ?? '');
    if (invalid !== undefined) throw new GcK8sError('BAD_REQUEST', `workspaces delete: ${invalid}`);
  } else if (sub === 'prune' && args.length === 0) {
    if (values['unused-for'] === undefined) throw new GcK8sError('BAD_REQUEST', 'workspaces prune: --unused-for <duration> is required');
    try {
      unusedForMs = parseDuration(values['unused-for']);
    } catch (err) {
      throw new GcK8sError('BAD_REQUEST', `workspaces prune: --unused-for: ${messageOf(err)}`);
    }
    if (unusedForMs <= 0)
      throw new GcK8sError('BAD_REQUEST', `workspaces prune: --unused-for must be more than 0; got ${quote(values['unused-for'])}`);
  } else {
    io.stderr.write(`${USAGE}\n`);
    return 2;
  }

  const config = loadConfig({ env: io.env, cityToml: findCityToml(io.env, io.cwd) });
  const log = createLogger({ level: io.env['GC_K8S_LOG_LEVEL'] ?? 'warn', destination: io.stderr });
  const kube = await createKubeClient({ log, env: io.env, ...(config.context === '' ? {} : { context: config.context }) });
  const signal = AbortSignal.timeout(DEADLINE_MS);
  const now = Date.now();
  try {
    const ns = kube.forNamespace(config.pod.namespace);
    if (sub === 'list') {
      const rows = await listWorkspaces(ns, signal);
      io.stdout.write(
        values.json === true
          ? `${JSON.stringify(rows)}\n`
          : rows.length === 0
            ? `no kept workspaces in namespace ${ns.namespace}\n`
            : `${table(rows, now)}\n`,
      );
      return 0;
    }
    if (sub === 'delete') {
      const gone = await deleteWorkspace(ns, args[0] ?? '', signal);
      io.stdout.write(`deleted ${gone.claim} (${gone.size}), the workspace of session ${quote(gone.session)}\n`);
      return 0;
    }
    const result = await pruneWorkspaces(ns, unusedForMs, now, signal);
    io.stdout.write(
      values.json === true
        ? `${JSON.stringify(result)}\n`
        : `${result.deleted.map((w) => `deleted ${w.claim} (session ${quote(w.session)}, last used ${age(w.lastUsed, now)} ago)\n`).join('')}${result.deleted.length} deleted, ${result.kept} kept\n`,
    );
    return 0;
  } finally {
    await kube.close();
  }
}
