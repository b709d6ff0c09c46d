// The one client of the package against local HTTPS servers with certificates from pki.ts: the
// server is always verified against the given CA (a wrong CA fails, no CA is refused before any
// request), and the client certificate reaches a server that asks for it.
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasCode } from '../src/errors.js';
import { KubeClient, httpCall, loadTls, probe } from '../src/kube/client.js';
import { ensureCa, ensureLeaves } from '../src/pki.js';

const tmp = mkdtempSync(join(tmpdir(), 'gck-kclient-'));
const pem = (name: string): string => join(tmp, name);
let tlsServer: Server;
let plainServer: Server;
let httpsUrl = '';
let httpUrl = '';

const listen = (s: Server): Promise<string> =>
  new Promise((resolve) => {
    s.listen(0, '127.0.0.1', () => {
      resolve(String((s.address() as AddressInfo).port));
    });
  });

beforeAll(async () => {
  const ca = await ensureCa(tmp, 'ca', 'test-ca');
  await ensureCa(tmp, 'other-ca', 'other-ca');
  await ensureLeaves(tmp, ca, [
    { name: 'server', cn: 'server', sans: ['127.0.0.1'], server: true },
    { name: 'client', cn: 'gc-k8s:test-client' },
  ]);
  // answers with the CN of the client certificate it got ('' without one)
  tlsServer = createHttpsServer(
    {
      key: readFileSync(pem('server.key')),
      cert: readFileSync(pem('server.crt')),
      ca: readFileSync(pem('ca.crt')),
      requestCert: true,
      rejectUnauthorized: false,
    },
    (req, res) => {
      // an empty object when the client sent no certificate
      const peer: { subject?: { CN?: string | string[] } | undefined } =
        req.socket instanceof TLSSocket ? req.socket.getPeerCertificate() : {};
      const cn = String(peer.subject?.CN ?? '');
      const status = req.url === '/missing' ? 404 : req.url === '/conflict' ? 409 : 200;
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ cn, method: req.method }));
    },
  );
  plainServer = createHttpServer((_req, res) => res.end('ok'));
  httpsUrl = `https://127.0.0.1:${await listen(tlsServer)}`;
  httpUrl = `http://127.0.0.1:${await listen(plainServer)}`;
});

afterAll(() => {
  tlsServer.close();
  plainServer.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('KubeClient', () => {
  it('verifies the server against its CA and presents the client certificate', async () => {
    const api = new KubeClient({ server: httpsUrl, ca: pem('ca.crt'), cert: pem('client.crt'), key: pem('client.key') });
    expect(await api.get('/x')).toEqual({ cn: 'gc-k8s:test-client', method: 'GET' });
    expect(await api.get('/missing')).toBeUndefined();
    await expect(api.ensure('/conflict', { a: 1 })).resolves.toBeUndefined();
    expect((await api.request('DELETE', '/x')).status).toBe(200);
  });

  it('fails the handshake when the server does not chain to the given CA', async () => {
    const api = new KubeClient({ server: httpsUrl, ca: pem('other-ca.crt'), cert: pem('client.crt'), key: pem('client.key') });
    const err: unknown = await api.get('/x').catch((e: unknown) => e);
    expect(hasCode(err, 'K8S_UNAVAILABLE')).toBe(true);
    expect((err as Error).message).toMatch(/certificate/);
  });

  it('refuses to exist without a CA, with an unreadable CA, or for a plain-http server', () => {
    expect(() => new KubeClient({ server: httpsUrl, ca: '' })).toThrow(/no CA file .*never turned off/);
    expect(() => new KubeClient({ server: httpsUrl, ca: pem('nope.crt') })).toThrow(/CA .*nope\.crt/);
    expect(() => new KubeClient({ server: httpUrl, ca: pem('ca.crt') })).toThrow(/https only/);
    // what a JavaScript caller (the provisioner) passes when an argument is missing
    expect(() => new KubeClient({ server: httpsUrl } as never)).toThrow(/no CA file/);
    const err: unknown = (() => {
      try {
        return loadTls({ ca: pem('ca.crt'), cert: pem('client.crt') }, 'x');
      } catch (e) {
        return e;
      }
    })();
    expect(hasCode(err, 'CONFIG_INVALID')).toBe(true);
  });
});

describe('httpCall and probe', () => {
  it('an https URL without a CA is an error, not an unverified request', async () => {
    const err: unknown = await httpCall(`${httpsUrl}/x`, undefined).catch((e: unknown) => e);
    expect(hasCode(err, 'CONFIG_INVALID')).toBe(true);
    expect(await probe(`${httpsUrl}/x`)).toBe(false);
  });

  it('probes verified https (with or without a client certificate) and plain http health ports', async () => {
    expect(await probe(`${httpsUrl}/x`, { ca: pem('ca.crt') })).toBe(true);
    expect(await probe(`${httpsUrl}/x`, { ca: pem('ca.crt'), cert: pem('client.crt'), key: pem('client.key') })).toBe(true);
    expect(await probe(`${httpsUrl}/x`, { ca: pem('other-ca.crt') })).toBe(false);
    expect(await probe(`${httpsUrl}/missing`, { ca: pem('ca.crt') })).toBe(false);
    expect(await probe(`${httpUrl}/healthz`)).toBe(true);
  });
});
