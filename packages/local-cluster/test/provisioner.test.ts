// scripts/local-provisioner.mjs (compiled client: needs `npm run build`) against a fake API server
// over TLS: it refuses to start without a CA, creates nothing for a server that does not chain to
// its CA, and provisions a pending claim through the verified client.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_CLUSTER_ROOT } from '../src/names.js';
import { ensureCa, ensureLeaves } from '../src/pki.js';

const SCRIPT = join(LOCAL_CLUSTER_ROOT, 'scripts', 'local-provisioner.mjs');
const built = existsSync(join(LOCAL_CLUSTER_ROOT, 'dist', 'kube', 'client.js'));
const tmp = mkdtempSync(join(tmpdir(), 'gck-prov-'));
const pem = (name: string): string => join(tmp, name);
const posted: unknown[] = [];
let server: Server;
let url = '';

const pvc = {
  metadata: { namespace: 'ns', name: 'claim', uid: 'u-1' },
  spec: { storageClassName: 'standard', resources: { requests: { storage: '2Gi' } } },
  status: { phase: 'Pending' },
};

/** the claims the fake API lists (each until its PV was posted) */
let claims: { metadata: { uid: string } }[] = [pvc];
const made = (): string[] => posted.map((p) => (p as { metadata: { name: string } }).metadata.name);

beforeAll(async () => {
  const ca = await ensureCa(tmp, 'ca', 'test-ca');
  await ensureCa(tmp, 'other-ca', 'other-ca');
  await ensureLeaves(tmp, ca, [
    { name: 'server', cn: 'server', sans: ['127.0.0.1'], server: true },
    { name: 'client', cn: 'gc-k8s:local-provisioner' },
  ]);
  server = createServer({ key: readFileSync(pem('server.key')), cert: readFileSync(pem('server.crt')) }, (req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      if (req.method === 'POST') {
        posted.push(JSON.parse(body));
        res.writeHead(201).end('{}');
      } else if (req.url?.startsWith('/api/v1/persistentvolumeclaims') === true)
        res.end(JSON.stringify({ items: claims.filter((c) => !made().includes(`pvc-${c.metadata.uid}`)) }));
      else res.end(JSON.stringify({ items: [] }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => {
  server.close();
  rmSync(tmp, { recursive: true, force: true });
});

function args(ca: string | undefined): string[] {
  return [
    SCRIPT,
    '--server',
    url,
    ...(ca === undefined ? [] : ['--ca', ca]),
    '--cert',
    pem('client.crt'),
    '--key',
    pem('client.key'),
    '--dir',
    join(tmp, 'pv'),
    '--class',
    'standard',
    '--wait-class',
    'standard-wffc',
    '--name',
    'gc-k8s.io/local-hostpath',
    '--node',
    'n1',
    '--heartbeat',
    join(tmp, 'hb'),
  ];
}

/** Runs the provisioner until `done` or 8 s, then stops it; returns its output. */
async function runFor(ca: string, done: (out: string) => boolean): Promise<string> {
  const child = spawn(process.execPath, args(ca), { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  const deadline = Date.now() + 8000;
  while (!done(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  return out;
}

describe.skipIf(!built)('local-provisioner.mjs (built package)', () => {
  it('refuses to start without a CA', () => {
    const r = spawnSync(process.execPath, args(undefined), { encoding: 'utf8', timeout: 10_000 });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/no CA file .*never turned off/);
  });

  it('does not talk to a server that does not chain to its CA', async () => {
    const out = await runFor(pem('other-ca.crt'), (o) => o.includes('error:'));
    expect(out).toMatch(/error: GET .*certificate/);
    expect(posted).toEqual([]);
    expect(existsSync(join(tmp, 'hb'))).toBe(false);
  }, 15_000);

  it('provisions a pending claim through the verified client', async () => {
    const out = await runFor(pem('ca.crt'), () => posted.length > 0 && existsSync(join(tmp, 'hb')));
    expect(out).toMatch(/provisioned pvc-u-1 for ns\/claim/);
    expect(posted).toMatchObject([
      {
        kind: 'PersistentVolume',
        metadata: { name: 'pvc-u-1' },
        spec: { capacity: { storage: '2Gi' }, local: { path: join(tmp, 'pv', 'ns-claim-u-1') } },
      },
    ]);
  }, 15_000);

  it('provisions a late-binding claim only once the scheduler has placed its pod on this node', async () => {
    const late = (uid: string, node?: string) => ({
      metadata: {
        namespace: 'ns',
        name: `late-${uid}`,
        uid,
        ...(node === undefined ? {} : { annotations: { 'volume.kubernetes.io/selected-node': node } }),
      },
      spec: { storageClassName: 'standard-wffc', resources: { requests: { storage: '1Gi' } } },
      status: { phase: 'Pending' },
    });
    claims = [late('u-2'), late('u-3', 'n1'), late('u-4', 'another-node')];
    const out = await runFor(pem('ca.crt'), () => made().includes('pvc-u-3'));
    expect(out).toMatch(/provisioned pvc-u-3 for ns\/late-u-3/);
    expect(made()).not.toContain('pvc-u-2'); // no pod placed yet
    expect(made()).not.toContain('pvc-u-4'); // placed elsewhere
    expect(posted.find((p) => (p as { metadata: { name: string } }).metadata.name === 'pvc-u-3')).toMatchObject({
      spec: { storageClassName: 'standard-wffc' },
    });
  }, 15_000);
});
