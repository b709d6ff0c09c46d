// What the CLI's direct-to-the-API commands (`events prune`, `sessions`, `workspaces`) share: the
// city's config from cwd/env, a logger on stderr, and a client of the config's namespace, closed
// whatever happens.

import { findCityToml, loadConfig, type Config } from '../config/load.js';
import { createKubeClient } from '../k8s/client.js';
import type { NamespaceClient } from '../kube/ports.js';
import { createLogger, type Logger } from '../log/logger.js';

export interface CliCommandIo {
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

export async function withNamespaceClient<T>(
  io: CliCommandIo,
  work: (ns: NamespaceClient, ctx: { config: Config; log: Logger }) => Promise<T>,
): Promise<T> {
  const config = loadConfig({ env: io.env, cityToml: findCityToml(io.env, io.cwd) });
  const log = createLogger({ level: io.env['GC_K8S_LOG_LEVEL'] ?? 'warn', destination: io.stderr });
  const kube = await createKubeClient({ log, env: io.env, ...(config.context === '' ? {} : { context: config.context }) });
  try {
    return await work(kube.forNamespace(config.pod.namespace), { config, log });
  } finally {
    await kube.close();
  }
}
