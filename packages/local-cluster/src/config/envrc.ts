// The KUBECONFIG line gc-k8s keeps in a worktree's .envrc (direnv), added and removed as text.

export const ENVRC_LINE = 'export KUBECONFIG="$PWD/.kube/config"  # gc-k8s cluster';

/** The .envrc text with our line appended; undefined when it is there already. */
export function withEnvrcLine(text: string): string | undefined {
  if (text.includes(ENVRC_LINE)) return undefined;
  return (text === '' || text.endsWith('\n') ? text : `${text}\n`) + `${ENVRC_LINE}\n`;
}

/** The .envrc text without our line; undefined when nothing else is left (the file goes). */
export function withoutEnvrcLine(text: string): string | undefined {
  const rest = text
    .split('\n')
    .filter((l) => l !== ENVRC_LINE)
    .join('\n');
  return rest.trim() === '' ? undefined : rest;
}
