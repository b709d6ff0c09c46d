// The public entry points of @gc-k8s/local-cluster: what the gc-k8s CLI, its scripts and its
// tests use. Everything else in src/ is internal to the package.

export {
  clusterDown,
  clusterLeftovers,
  clusterStatus,
  ensureCluster,
  ensureImage,
  listLocalClusters,
  pruneLocalClusters,
  restartClusterComponent,
  type BackendName,
  type ClusterInfo,
  type ClusterOptions,
  type ClusterStatus,
  type ComponentStatus,
  type ImageName,
  type KubeletTargets,
  type LocalClusterEntry,
  type MonitoringTargets,
  type ScrapeTls,
} from './api.js';
export { prometheusScrapeConfigs } from './local/monitoring.js';
export { CLUSTER_USAGE, runClusterCommand, type ClusterIo } from './cli.js';
export { CLUSTER_ERROR_CODES, ClusterError, describeError, hasCode, isClusterError, type ClusterErrorCode } from './errors.js';
export { ensureBinaries, listSlots, netPlan, type NetPlan, type SlotRecord, type UpstreamComponent } from './host.js';
export { IMAGE_NAMES } from './images.js';
export { LOCAL_CLUSTER_ROOT, PACKAGE_ROOT, clusterName, findWorktree, worktreePaths, type WorktreePaths } from './names.js';
export { cmdline } from './proc.js';
export { silentReporter, streamReporter, type Reporter } from './progress.js';
