// What `gc-k8s install` applies, in order, from contrib/k8s (uninstall removes them in reverse).
// The Namespace comes first so everything after it has somewhere to go. Not here on purpose:
// dolt.yaml (a workload, and it needs its Secret first), create-dolt-secret.sh (makes a password)
// and event-retention-cronjob.yaml (optional; the daemon can prune events itself).

export const INSTALL_FILES: readonly string[] = [
  'namespace.yaml',
  'rbac.yaml',
  'admission-policy.yaml',
  'quota-limits.yaml',
  'priority-classes.yaml',
  'network-policy.yaml',
  'pdb.yaml',
];

/** contrib/k8s of this package: beside dist/ when installed, beside src/ in a checkout. */
export const MANIFEST_DIR = new URL('../../contrib/k8s/', import.meta.url);
