// The daemon's object graph below the router: one client per context, one runtime per (context,
// namespace), reconnection when the kubeconfig now describes another cluster, and a top-down close.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { kubeconfigWatch } from '../../../src/daemon/kubeconfig-watch.js';
import { Runtimes, type ClusterClient } from '../../../src/daemon/runtimes.js';
import { silentLogger } from '../../../src/log/logger.js';
import { FakeCluster } from '../../fakes/fake-cluster.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A factory that records what it made and closed, in order. */
function recordingFactory(journal: string[], fail = () => false) {
  let made = 0;
  return (context: string): Promise<ClusterClient> => {
    const id = `client-${made++}`;
    journal.push(`make ${id} ${context}`);
    if (fail()) return Promise.reject(new Error('unreachable'));
    return Promise.resolve({
      forNamespace: (namespace: string) => {
        const fake = new FakeCluster();
        Object.assign(fake, { namespace: `${namespace}@${id}` });
        return fake;
      },
      close: () => {
        journal.push(`close ${id}`);
        return Promise.resolve();
      },
    });
  };
}

describe('Runtimes', () => {
  it('makes one client per context and one runtime per (context, namespace)', async () => {
    const journal: string[] = [];
    const runtimes = new Runtimes(recordingFactory(journal), silentLogger());
    const signal = AbortSignal.timeout(5_000);
    const [a, b] = await Promise.all([runtimes.get('', 'gc', signal), runtimes.get('', 'gc', signal)]);
    expect(a).toBe(b);
    const other = await runtimes.get('', 'other', signal);
    expect(other).not.toBe(a);
    expect(other.namespace).toBe('other@client-0');
    await runtimes.get('prod', 'gc', signal);
    expect(journal).toEqual(['make client-0 ', 'make client-1 prod']);
    expect(runtimes.inUse().map((r) => `${r.context}/${r.namespace}`)).toEqual(['/gc@client-0', '/other@client-0', 'prod/gc@client-1']);
    await runtimes.close();
    expect(journal.slice(2)).toEqual(['close client-0', 'close client-1']);
    expect(runtimes.inUse()).toEqual([]);
  });

  it('does not keep a client that failed to connect: the next request tries again', async () => {
    const journal: string[] = [];
    let failing = true;
    const runtimes = new Runtimes(
      recordingFactory(journal, () => failing),
      silentLogger(),
    );
    await expect(runtimes.get('', 'gc', AbortSignal.timeout(5_000))).rejects.toThrow('unreachable');
    failing = false;
    expect((await runtimes.get('', 'gc', AbortSignal.timeout(5_000))).namespace).toBe('gc@client-1');
    await runtimes.close();
  });

  it('keeps its clients while the kubeconfig content is the same, reconnects once it changes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gck8s-kc-'));
    dirs.push(dir);
    const kubeconfig = join(dir, 'config');
    writeFileSync(kubeconfig, 'server: https://127.0.0.1:1\nca: AAA\n');
    const journal: string[] = [];
    const runtimes = new Runtimes(recordingFactory(journal), silentLogger(), kubeconfigWatch([kubeconfig]));
    const signal = AbortSignal.timeout(5_000);
    expect((await runtimes.get('', 'gc', signal)).namespace).toBe('gc@client-0');
    writeFileSync(kubeconfig, 'server: https://127.0.0.1:1\nca: AAA\n'); // rewritten, same content
    expect((await runtimes.get('', 'gc', signal)).namespace).toBe('gc@client-0');
    writeFileSync(kubeconfig, 'server: https://127.0.0.1:2\nca: BBB\n'); // a new cluster
    expect((await runtimes.get('', 'gc', signal)).namespace).toBe('gc@client-1');
    await new Promise((r) => setTimeout(r, 10));
    expect(journal).toContain('close client-0');
    expect(journal).not.toContain('close client-1');
    await runtimes.close();
  });
});
