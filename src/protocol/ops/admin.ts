// The daemon's own ops (gc-k8s status, stats, stop-daemon).

import type { OpTable } from './spec.js';

export const ADMIN_OPS = {
  ping: { retrySafe: true, usage: '', summary: 'version, pid and uptime' },
  status: { retrySafe: true, usage: '', summary: 'daemon and watch-cache health for the current config' },
  stats: { retrySafe: true, usage: '', summary: 'API requests the daemon made, by verb and resource' },
  shutdown: { usage: '', summary: 'stop the daemon' },
} as const satisfies OpTable;
