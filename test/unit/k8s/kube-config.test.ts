import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveConnection, useInCluster } from '../../../src/k8s/kube-config.js';
import { MockApiServer } from '../../helpers/mock-apiserver.js';
import { deadline, tempDir } from './harness.js';

let server: MockApiServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function serviceAccountDir(token: string, namespace = 'agents'): string {
  const dir = path.join(tempDir(), 'sa');
  mkdirSync(dir);
  writeFileSync(path.join(dir, 'token'), token);
  writeFileSync(path.join(dir, 'namespace'), namespace);
  return dir;
}

describe('choosing in-cluster vs kubeconfig', () => {
  it('uses in-cluster only when the token exists and nothing was given explicitly', () => {
    const sa = serviceAccountDir('t');
    expect(useInCluster({ serviceAccountDir: sa })).toBe(true);
    expect(useInCluster({ serviceAccountDir: sa, context: 'kind' })).toBe(false);
    expect(useInCluster({ serviceAccountDir: sa, kubeconfigPaths: ['/x'] })).toBe(false);
    expect(useInCluster({ serviceAccountDir: path.join(tempDir(), 'none') })).toBe(false);
    expect(useInCluster({ serviceAccountDir: path.join(tempDir(), 'none'), inCluster: true })).toBe(true);
  });
});

describe('kubeconfig', () => {
  it('fails with CONFIG_INVALID naming the missing file', async () => {
    await expect(resolveConnection({ kubeconfigPaths: ['/nonexistent/kubeconfig'] }, deadline().signal)).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: 'loading kubeconfig /nonexistent/kubeconfig: file not found',
    });
  });

  it('fails when no file of KUBECONFIG exists, listing where it looked', async () => {
    await expect(resolveConnection({ env: { KUBECONFIG: '/a/x:/b/y' }, inCluster: false }, deadline().signal)).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: 'loading kubeconfig: no kubeconfig found (looked in /a/x, /b/y)',
    });
  });

  it('fails with CONFIG_INVALID naming an unknown context and the known ones', async () => {
    server = await MockApiServer.start({ tls: false });
    const file = server.writeKubeconfig(tempDir());
    await expect(resolveConnection({ kubeconfigPaths: [file], context: 'prod' }, deadline().signal)).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: `loading kubeconfig ${file}: context "prod" not found (known: mock)`,
    });
  });

  it('merges the KUBECONFIG list first-wins and selects the context namespace', async () => {
    server = await MockApiServer.start({ tls: false });
    const dir = tempDir();
    const first = server.writeKubeconfig(dir, { context: 'one', token: 'first' });
    const second = server.writeKubeconfig(dir, { context: 'two', token: 'second' });
    const conn = await resolveConnection(
      { env: { KUBECONFIG: `${path.join(dir, 'missing')}:${first}:${second}` }, inCluster: false },
      deadline().signal,
    );
    expect(conn.description).toBe(`context one (${first}:${second})`);
    expect(conn.namespace).toBe('gc');
    // both files define user "mock-user": the first file's token wins, as with kubectl
    expect((await conn.credentials.get(deadline().signal)).headers.Authorization).toBe('Bearer first');
    const other = await resolveConnection({ env: { KUBECONFIG: `${first}:${second}` }, context: 'two' }, deadline().signal);
    expect(other.description).toMatch(/^context two/);
  });

  it('re-reads a rotated token-file after the refresh interval, not before', async () => {
    server = await MockApiServer.start({ tls: true });
    const dir = tempDir();
    const tokenFile = path.join(dir, 'token');
    writeFileSync(tokenFile, 'one');
    const file = server.writeKubeconfig(dir, { tokenFile });
    let now = 0;
    const conn = await resolveConnection({ kubeconfigPaths: [file], authRefreshMs: 60_000, now: () => now }, deadline().signal);
    const material = await conn.credentials.get(deadline().signal);
    expect(material.headers.Authorization).toBe('Bearer one');
    expect(material.tls.ca).toBeDefined();
    writeFileSync(tokenFile, 'two');
    now = 59_000;
    expect((await conn.credentials.get(deadline().signal)).headers.Authorization).toBe('Bearer one');
    now = 60_000;
    const rotated = await conn.credentials.get(deadline().signal);
    expect(rotated.headers.Authorization).toBe('Bearer two');
    expect(rotated.tlsKey).toBe(material.tlsKey); // same CA: pools are kept
    // A rotated CA changes the TLS fingerprint: the transport then builds a fresh pool.
    const { readFileSync } = await import('node:fs');
    const config = JSON.parse(readFileSync(file, 'utf8')) as { clusters: { cluster: Record<string, unknown> }[] };
    config.clusters[0]!.cluster['certificate-authority-data'] = Buffer.from('-----BEGIN CERTIFICATE-----\nother\n').toString('base64');
    writeFileSync(file, JSON.stringify(config));
    now = 120_000;
    expect((await conn.credentials.get(deadline().signal)).tlsKey).not.toBe(material.tlsKey);
    writeFileSync(tokenFile, 'three');
    conn.credentials.invalidate(); // what a 401 does
    expect((await conn.credentials.get(deadline().signal)).headers.Authorization).toBe('Bearer three');
  });

  it('keeps the last good credentials when a refresh fails', async () => {
    server = await MockApiServer.start({ tls: false });
    const dir = tempDir();
    const file = server.writeKubeconfig(dir, { token: 'good' });
    let now = 0;
    const warnings: string[] = [];
    const conn = await resolveConnection(
      { kubeconfigPaths: [file], now: () => now, onWarning: (m) => warnings.push(m) },
      deadline().signal,
    );
    writeFileSync(file, '{not yaml: [');
    now = 120_000;
    expect((await conn.credentials.get(deadline().signal)).headers.Authorization).toBe('Bearer good');
    expect(warnings[0]).toMatch(/keeping the previous credentials/);
  });
});

describe('in-cluster', () => {
  it('builds the server from KUBERNETES_SERVICE_HOST/PORT and reads token and namespace files', async () => {
    const sa = serviceAccountDir('sa-token\n');
    const conn = await resolveConnection(
      { serviceAccountDir: sa, env: { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' } },
      deadline().signal,
    );
    expect(conn.server.href).toBe('https://[fd00::1]/');
    expect(conn.namespace).toBe('agents');
    expect((await conn.credentials.get(deadline().signal)).headers.Authorization).toBe('Bearer sa-token');
  });

  it('requires the service host variables', async () => {
    const sa = serviceAccountDir('t');
    await expect(resolveConnection({ serviceAccountDir: sa, env: {} }, deadline().signal)).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
    });
  });
});
