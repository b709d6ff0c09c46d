// The environment the provider scripts and the CLI read (the daemon's own settings are in
// src/config/daemon.ts; a city's in src/config/table.ts). One table, so the README shows exactly
// what the code reads; the names are used from here, never spelled again.

export interface ClientEnvEntry {
  readonly env: string;
  readonly default: string;
  readonly doc: string;
  /** set by our own programs for each other, not by users */
  readonly internal?: true;
}

export const CLIENT_ENV = {
  kubeconfig: {
    env: 'KUBECONFIG',
    default: '`~/.kube/config`',
    doc: 'One daemon serves one kubeconfig (the socket path depends on it); the daemon reconnects when the file’s content changes (a rebuilt local cluster). In a pod, the service account is used.',
  },
  socket: {
    env: 'GC_K8S_SOCKET',
    default: '`daemon-<hash of KUBECONFIG>.sock` in `$XDG_RUNTIME_DIR/gc-k8s`, else `~/.cache/gc-k8s`, else `/tmp/gc-k8s-<uid>`',
    doc: 'The daemon’s socket. Its directory must be yours and closed to others, or sticky; clients check that it is the daemon’s and yours before sending anything.',
  },
  noAutostart: {
    env: 'GC_K8S_NO_AUTOSTART',
    default: 'unset',
    doc: '`1`: the scripts fail when no daemon answers instead of starting one (for a supervised daemon).',
  },
  kubectl: { env: 'GC_K8S_KUBECTL', default: '`kubectl`', doc: 'The kubectl `attach` runs.' },
  client: {
    env: 'GC_K8S_CLIENT',
    default: 'native',
    doc: '`node`: the scripts skip the native client (dist/native/gc-k8s-client) and run the Node one.',
  },
  invokedAs: {
    env: 'GC_K8S_INVOKED_AS',
    default: '(the script’s path)',
    doc: 'Set by the scripts for the daemon: a script linked into a city (`gc-k8s link`) names that city.',
    internal: true,
  },
  rid: {
    env: 'GC_K8S_RID',
    default: 'unset',
    doc: 'Set by the native client when it hands a call to the Node client: the request id, so a retried call is applied once.',
    internal: true,
  },
} as const satisfies Record<string, ClientEnvEntry>;

/** The README's table. */
export function clientEnvMarkdown(): string {
  const rows = Object.values(CLIENT_ENV).map(
    (e: ClientEnvEntry) => `| \`${e.env}\` | ${e.default} | ${e.internal === true ? '(internal) ' : ''}${e.doc} |`,
  );
  return ['| Client environment | default | meaning |', '|---|---|---|', ...rows].join('\n');
}
