// A TLS-terminating proxy in front of the API server that can stall watch connections: the bytes
// of every connection that carried a `watch=true` request stop flowing both ways while the
// connection stays open — the silent watch a flaky network or an overloaded API server produces.
// Other requests keep working. The daemon under test gets a kubeconfig that points at the proxy
// (with the proxy's own CA); the proxy reaches the API server with the original credentials.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, TLSSocket, type ConnectionOptions } from 'node:tls';
import { KubeConfig } from '@kubernetes/client-node';
import type { Socket } from 'node:net';

interface Link {
  readonly client: TLSSocket;
  readonly upstream: TLSSocket;
  watch: boolean;
  stalled: boolean;
  readonly held: { toUpstream: Buffer[]; toClient: Buffer[] };
}

export class StallProxy {
  private readonly links = new Set<Link>();
  private stalling = false;

  private constructor(
    private readonly server: Server,
    private readonly dir: string,
    readonly kubeconfig: string,
  ) {}

  /** Starts the proxy for the current context of `kubeconfig`; returns with its kubeconfig written. */
  static async start(kubeconfig: string): Promise<StallProxy> {
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);
    const cluster = kc.getCurrentCluster();
    if (cluster === null) throw new Error(`no current cluster in ${kubeconfig}`);
    const target = new URL(cluster.server);
    const https: { ca?: unknown; cert?: unknown; key?: unknown; headers?: Record<string, string> } = {};
    await kc.applyToHTTPSOptions(https as never);
    const upstreamTls: ConnectionOptions = {
      host: target.hostname,
      port: Number(target.port || 443),
      servername: target.hostname.match(/^[\d.]+$/) ? undefined : target.hostname,
      ca: https.ca as string,
      ...(https.cert === undefined ? {} : { cert: https.cert as string, key: https.key as string }),
    };

    const dir = mkdtempSync(join(tmpdir(), 'gck8s-stall-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    const cert = readFileSync(join(dir, 'cert.pem'));
    const key = readFileSync(join(dir, 'key.pem'));

    const box: { proxy?: StallProxy } = {};
    const server = createServer((raw: Socket) => {
      const client = new TLSSocket(raw, { isServer: true, cert, key });
      const upstream = tlsConnect(upstreamTls);
      const link: Link = { client, upstream, watch: false, stalled: false, held: { toUpstream: [], toClient: [] } };
      box.proxy?.add(link);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;

    // The daemon's kubeconfig: the same user (a token still travels in its header), the proxy as
    // server, trusted through the proxy's own certificate.
    const user = kc.getCurrentUser();
    const doc = {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        { name: 'stall', cluster: { server: `https://127.0.0.1:${port}`, 'certificate-authority-data': cert.toString('base64') } },
      ],
      users: [{ name: 'stall', user: user?.token === undefined ? {} : { token: user.token } }],
      contexts: [{ name: 'stall', context: { cluster: 'stall', user: 'stall' } }],
      'current-context': 'stall',
    };
    const path = join(dir, 'kubeconfig');
    writeFileSync(path, JSON.stringify(doc));
    box.proxy = new StallProxy(server, dir, path);
    return box.proxy;
  }

  /** Watch connections (open now or opened later) stop moving bytes until resume(). */
  stallWatches(): void {
    this.stalling = true;
    for (const link of this.links) if (link.watch) link.stalled = true;
  }

  /** Stalled connections deliver what they held and flow again. */
  resume(): void {
    this.stalling = false;
    for (const link of this.links) {
      if (!link.stalled) continue;
      link.stalled = false;
      for (const b of link.held.toUpstream.splice(0)) link.upstream.write(b);
      for (const b of link.held.toClient.splice(0)) link.client.write(b);
    }
  }

  get stalledCount(): number {
    return [...this.links].filter((l) => l.stalled).length;
  }

  async close(): Promise<void> {
    for (const link of this.links) {
      link.client.destroy();
      link.upstream.destroy();
    }
    await new Promise<void>((resolve) => {
      this.server.close(() => {
        resolve();
      });
    });
    rmSync(this.dir, { recursive: true, force: true });
  }

  private add(link: Link): void {
    this.links.add(link);
    const end = (): void => {
      link.client.destroy();
      link.upstream.destroy();
      this.links.delete(link);
    };
    link.client.on('data', (b: Buffer) => {
      // a request line naming watch=true marks the connection (TLS is terminated here)
      if (!link.watch && /^GET [^\r\n]*[?&]watch=true/m.test(b.toString('latin1'))) {
        link.watch = true;
        if (this.stalling) link.stalled = true;
      }
      if (link.stalled) link.held.toUpstream.push(b);
      else link.upstream.write(b);
    });
    link.upstream.on('data', (b: Buffer) => {
      if (link.stalled) link.held.toClient.push(b);
      else link.client.write(b);
    });
    link.client.on('close', end);
    link.upstream.on('close', end);
    link.client.on('error', end);
    link.upstream.on('error', end);
  }
}
