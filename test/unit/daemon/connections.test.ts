// A daemon whose kubeconfig now points at another cluster (the local cluster was rebuilt: new CA)
// drops its clients and reconnects, instead of failing TLS against the old one forever.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { NamespaceClient } from '../../../src/kube/ports.js';
import { DaemonConnections, type ClusterClient } from '../../../src/daemon/connections.js';
import { kubeconfigWatch } from '../../../src/daemon/kubeconfig-watch.js';
import { silentLogger } from '../../../src/log/logger.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('DaemonConnections and a replaced kubeconfig', () => {
  it('keeps its clients while the kubeconfig content is the same, reconnects once it changes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gck8s-kc-'));
    dirs.push(dir);
    const kubeconfig = join(dir, 'config');
    writeFileSync(kubeconfig, 'server: https://127.0.0.1:1\nca: AAA\n');
    const made: string[] = [];
    const closed: string[] = [];
    const factory = (_context: string): Promise<ClusterClient> => {
      const id = `client-${made.length}`;
      made.push(id);
      return Promise.resolve({
        forNamespace: () => ({ namespace: id }) as unknown as NamespaceClient,
        close: () => {
          closed.push(id);
          return Promise.resolve();
        },
      });
    };
    const connections = new DaemonConnections(factory, silentLogger(), false, kubeconfigWatch([kubeconfig]));
    const signal = AbortSignal.timeout(5_000);
    expect((await connections.namespace('', 'gc', signal)).namespace).toBe('client-0');
    writeFileSync(kubeconfig, 'server: https://127.0.0.1:1\nca: AAA\n'); // rewritten, same content
    expect((await connections.namespace('', 'gc', signal)).namespace).toBe('client-0');
    expect(connections.generation()).toBe(0);
    writeFileSync(kubeconfig, 'server: https://127.0.0.1:2\nca: BBB\n'); // a new cluster
    expect((await connections.namespace('', 'gc', signal)).namespace).toBe('client-1');
    expect(connections.generation()).toBe(1);
    await new Promise((r) => setTimeout(r, 10));
    expect(closed).toEqual(['client-0']);
  });
});
