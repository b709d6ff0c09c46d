// core/v1 URL paths. Names are validated by the API server, but still encoded: a name that
// came from user data must never be able to change which URL is requested.

export function namespacedPath(namespace: string, resource: string, name?: string, subresource?: string): string {
  let path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/${resource}`;
  if (name !== undefined) path += `/${encodeURIComponent(name)}`;
  if (subresource !== undefined) path += `/${subresource}`;
  return path;
}
