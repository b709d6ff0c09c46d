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
        res.end(JSON.stringify({ items: posted.length === 0 ? [pvc] : [] }));
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
});
