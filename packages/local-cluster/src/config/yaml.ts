// Config files as YAML: JSON is valid YAML, and every Kubernetes config loader accepts it.

/** JSON is valid YAML, and every Kubernetes config loader accepts it. */
export function yaml(obj: unknown): string {
  return `${JSON.stringify(obj, null, 2)}\n`;
}
