// /readyz of the daemon's metrics listener: ready when its socket listens, it acts on sessions
// (leads, when leader election is on; is not draining) and every namespace it serves has a
// synced, fresh watch cache of its agent pods whose watch reaches the API server. Each reason
// not to be is one short line.

import type { Server } from 'node:net';
import type { Readiness } from '../metrics/http.js';
import type { Runtimes } from './runtimes.js';

export function readinessOf(
  server: () => Server | undefined,
  runtimes: Pick<Runtimes, 'inUse'>,
  /** the daemon's own reasons (not the leader, draining) */
  more: () => readonly string[] = () => [],
): Readiness {
  return {
    reasons: () => {
      const why: string[] = [];
      if (server()?.listening !== true) why.push('socket: not listening yet');
      why.push(...more());
      for (const r of runtimes.inUse()) {
        const st = r.client.agentPods.status();
        const where = `pods of namespace ${r.namespace}${r.context === '' ? '' : ` (context ${r.context})`}`;
        const last = st.lastFailure ?? st.lastError;
        // a namespace that is gone or no longer ours (its RoleBinding deleted with it) is that
        // city's problem, which its ops report; it does not make the daemon unfit to serve others
        if (st.lastError !== undefined && /\b(forbidden|not ?found)\b/i.test(st.lastError)) continue;
        const cause = last === undefined ? '' : `: ${last.slice(0, 200)}`;
        if (st.connected === false) why.push(`watch of ${where}: the API server is not reachable${cause}`);
        else if (!st.synced) why.push(`watch of ${where}: not synced yet`);
        else if (st.fresh === false) why.push(`watch of ${where}: no progress lately (reads verify by LIST)`);
      }
      return Promise.resolve(why);
    },
  };
}
