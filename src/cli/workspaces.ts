// `gc-k8s workspaces list|delete <session>|prune --unused-for D [--json]`: the kept workspace
// claims of this city's namespace (src/session/workspace-admin.ts). Talks to the API directly,
// like `events prune`; arguments are checked before anything is read.

import { parseArgs } from 'node:util';
import { parseDuration } from '../config/parse.js';
import { GcK8sError, messageOf, quote } from '../errors.js';
import { withNamespaceClient, type CliCommandIo } from './namespace-client.js';
import { ago, textTable } from './text-table.js';
import { deleteWorkspace, listWorkspaces, pruneWorkspaces, type WorkspaceInfo } from '../session/workspace-admin.js';
import { validateSessionName } from '../session/names.js';

const USAGE = 'usage: gc-k8s workspaces list [--json] | delete <session> | prune --unused-for <duration> [--json]';
const DEADLINE_MS = 60_000;

function table(rows: readonly WorkspaceInfo[], now: number): string {
  return textTable(
    ['SESSION', 'CLAIM', 'SIZE', 'CLASS', 'STATUS', 'AGE', 'LAST USED', 'NODE', 'USED BY'],
    rows.map((w) => [
      w.session,
      w.claim,
      w.size,
      w.storageClass || '(default)',
      w.deleting ? 'Deleting' : w.phase,
      ago(w.created, now),
      `${ago(w.lastUsed, now)} ago`,
      w.node || '-',
      w.usedBy.join(',') || '-',
    ]),
  );
}

export async function runWorkspaces(argv: readonly string[], io: CliCommandIo): Promise<number> {
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

  const signal = AbortSignal.timeout(DEADLINE_MS);
  const now = Date.now();
  return withNamespaceClient(io, async (ns) => {
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
        : `${result.deleted.map((w) => `deleted ${w.claim} (session ${quote(w.session)}, last used ${ago(w.lastUsed, now)} ago)\n`).join('')}${result.deleted.length} deleted, ${result.kept} kept\n`,
    );
    return 0;
  });
}
