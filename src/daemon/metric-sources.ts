// What the daemon's metrics read at scrape time, from its runtimes: API request counters, each
// namespace's watch cache, its sessions by phase (from that cache: no request), exec channels,
// event store, beads paths and Dolt pools.

import type { Readiness } from '../metrics/http.js';
import type { MetricSources } from '../metrics/metrics.js';
import { phaseCounts, sessionPhases } from '../session/phases.js';
import type { Runtimes } from './runtimes.js';

export function metricSources(runtimes: Runtimes, readiness: Readiness): MetricSources {
  return {
    notReady: () => readiness.reasons(),
    apiCounts: () => runtimes.requestStats(),
    caches: () =>
      runtimes.inUse().map((r) => {
        const st = r.client.agentPods.status();
        return {
          context: r.context,
          namespace: r.namespace,
          synced: st.synced,
          fresh: st.fresh ?? st.synced,
          restarts: st.restarts,
          objects: st.synced ? r.client.agentPods.list().length : 0,
          ...(st.lastProgressAt === undefined ? {} : { ageSeconds: Math.max(0, (Date.now() - st.lastProgressAt) / 1000) }),
          ...(st.verifications === undefined ? {} : { verifications: st.verifications }),
        };
      }),
    namespaces: () =>
      runtimes.inUse().map((r) => {
        const pods = r.client.agentPods;
        const synced = pods.status().synced;
        const stats = r.stats();
        return {
          ...stats,
          phases: synced ? phaseCounts(pods.list()) : {},
          sessions: () => (synced ? sessionPhases(pods.list()) : []),
        };
      }),
  };
}
