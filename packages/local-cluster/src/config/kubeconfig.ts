// Kubeconfigs of the cluster's clients (config/*.kubeconfig, the worktree's .kube/config): one
// cluster, user and context, with the CA and the client certificate embedded (self-contained,
// copyable).

export interface KubeconfigInput {
  /** cluster, context and (with "-user") user name */
  readonly name: string;
  readonly server: string;
  /** base64 of the PEM files */
  readonly caData: string;
  readonly certData: string;
  readonly keyData: string;
  readonly namespace?: string;
}

export function kubeconfigYaml(i: KubeconfigInput): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: ${i.name}`,
    '  cluster:',
    `    server: ${i.server}`,
    `    certificate-authority-data: ${i.caData}`,
    'users:',
    `- name: ${i.name}-user`,
    '  user:',
    `    client-certificate-data: ${i.certData}`,
    `    client-key-data: ${i.keyData}`,
    'contexts:',
    `- name: ${i.name}`,
    '  context:',
    `    cluster: ${i.name}`,
    `    user: ${i.name}-user`,
    ...(i.namespace === undefined ? [] : [`    namespace: ${i.namespace}`]),
    `current-context: ${i.name}`,
    '',
  ].join('\n');
}
