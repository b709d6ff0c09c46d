// Shared setup for the k8s adapter tests: a mock API server plus a client wired to it through a
// real kubeconfig file, so every test goes through the same loading and transport as production.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { createKubeClient, type KubeClient, type KubeClientOptions } from '../../../src/k8s/client.js';
import { MockApiServer } from '../../helpers/mock-apiserver.js';

export const silent = pino({ level: 'silent' });

export function tempDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'gc-k8s-test-'));
}

export interface Harness {
  readonly server: MockApiServer;
  readonly client: KubeClient;
  readonly kubeconfig: string;
  close(): Promise<void>;
}

export async function startHarness(
  options: { tls?: boolean } & Partial<Omit<KubeClientOptions, 'log' | 'kubeconfigPaths'>> = {},
): Promise<Harness> {
  const { tls, ...clientOptions } = options;
  const server = await MockApiServer.start({ tls: tls ?? true });
  const kubeconfig = server.writeKubeconfig(tempDir());
  const client = await createKubeClient({ log: silent, ...clientOptions, kubeconfigPaths: [kubeconfig] });
  return {
    server,
    client,
    kubeconfig,
    close: async () => {
      await client.close();
      await server.close();
    },
  };
}

/** A signal for one test step: generous, because tests must never assert on wall-clock time. */
export function deadline(ms = 5_000): { signal: AbortSignal } {
  return { signal: AbortSignal.timeout(ms) };
}

/** Polls `condition` until true (bounded), for state that changes asynchronously. */
export async function eventually(condition: () => boolean, what: string, ms = 5_000): Promise<void> {
  const until = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export function pod(name: string, labels: Record<string, string> = { app: 'gc-agent' }, extra: Record<string, unknown> = {}) {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, labels }, spec: { containers: [{ name: 'agent', image: 'x' }] }, ...extra };
}
