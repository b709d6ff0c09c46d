// The package's one HTTP client for the cluster's endpoints: the API server (bootstrap, node
// readiness, the provisioner), etcd's and the components' health. TLS verification is always on:
// an https endpoint needs the CA its certificate must chain to, and without one the call is an
// error (CONFIG_INVALID), never an unverified request. Plain http is only for the health ports
// that serve nothing else (kubelet, kube-proxy, CoreDNS). Dependency-free, so that
// scripts/local-provisioner.mjs runs its compiled form inside the node's network namespace.

import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { ClusterError } from '../errors.js';

/** PEM files that authenticate a TLS endpoint (ca) and, optionally, us to it (cert + key). */
export interface TlsFiles {
  readonly ca: string;
  readonly cert?: string;
  readonly key?: string;
}

/** An API server and how to reach it: its URL, its CA and our client certificate. */
export interface KubeCreds extends TlsFiles {
  readonly server: string;
}

export interface HttpResponse {
  readonly status: number;
  readonly body: string;
}

export interface CallOptions {
  readonly method?: string;
  readonly body?: unknown;
  readonly timeoutMs?: number;
}

interface TlsMaterial {
  readonly ca: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
}

/** Reads the PEM files; a missing or unreadable CA, or half a client certificate, is CONFIG_INVALID. */
export function loadTls(files: TlsFiles, what: string): TlsMaterial {
  const ca: unknown = files.ca; // JavaScript callers (the provisioner) may pass nothing at all
  if (typeof ca !== 'string' || ca === '')
    throw new ClusterError('CONFIG_INVALID', `${what}: no CA file to verify the server with (TLS verification is never turned off)`);
  if ((files.cert === undefined) !== (files.key === undefined)) {
    throw new ClusterError('CONFIG_INVALID', `${what}: a client certificate needs both cert and key`);
  }
  const read = (kind: string, path: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (e) {
      throw new ClusterError('CONFIG_INVALID', `${what}: ${kind} ${path}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
  };
  return {
    ca: read('CA', ca),
    ...(files.cert === undefined || files.key === undefined ? {} : { cert: read('certificate', files.cert), key: read('key', files.key) }),
  };
}

/**
 * One request. https needs `tls` (the server is verified against its CA); http takes none.
 * Resolves for any HTTP status; rejects with K8S_UNAVAILABLE on network and TLS errors.
 */
export function httpCall(url: string, tls: TlsMaterial | undefined, opts: CallOptions = {}): Promise<HttpResponse> {
  const u = new URL(url);
  const method = opts.method ?? 'GET';
  if (u.protocol === 'https:' && tls === undefined) {
    return Promise.reject(
      new ClusterError('CONFIG_INVALID', `${method} ${url}: no CA to verify the server with (TLS verification is never turned off)`),
    );
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:')
    return Promise.reject(new ClusterError('BAD_REQUEST', `${method} ${url}: not an http(s) URL`));
  return new Promise((resolve, reject) => {
    const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (payload !== undefined) headers['content-type'] = 'application/json';
    const common = { method, headers, timeout: opts.timeoutMs ?? 5000 };
    const req =
      u.protocol === 'https:' && tls !== undefined
        ? httpsRequest(u, { ...common, ...tls, rejectUnauthorized: true })
        : httpRequest(u, common);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => {
      reject(new ClusterError('K8S_UNAVAILABLE', `${method} ${url}: ${e.message}`, { cause: e }));
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', reject);
    });
    req.end(payload);
  });
}

/** true when GET url answers 2xx within the timeout (https: verified against tls.ca). */
export async function probe(url: string, tls?: TlsFiles, timeoutMs = 2000): Promise<boolean> {
  try {
    const r = await httpCall(url, tls === undefined ? undefined : loadTls(tls, `GET ${url}`), { timeoutMs });
    return r.status >= 200 && r.status < 300;
  } catch {
    return false;
  }
}

/** A client of one API server with our client certificate (files read once, here). */
export class KubeClient {
  private readonly tls: TlsMaterial;
  private readonly timeoutMs: number;

  constructor(
    readonly creds: KubeCreds,
    opts: { readonly timeoutMs?: number } = {},
  ) {
    const server: unknown = creds.server;
    if (typeof server !== 'string' || !server.startsWith('https://')) {
      throw new ClusterError('CONFIG_INVALID', `kube client: ${String(server)}: the API server is reached over https only`);
    }
    this.tls = loadTls(creds, `kube client ${creds.server}`);
    this.timeoutMs = opts.timeoutMs ?? 5000;
  }

  /** Any method on an API path; resolves for every HTTP status. */
  request(method: string, path: string, body?: unknown): Promise<HttpResponse> {
    return httpCall(this.creds.server + path, this.tls, { method, timeoutMs: this.timeoutMs, ...(body === undefined ? {} : { body }) });
  }

  /** GET and parse; undefined on 404, K8S_UNAVAILABLE on any other non-2xx. */
  async get<T>(path: string): Promise<T | undefined> {
    const r = await this.request('GET', path);
    if (r.status === 404) return undefined;
    if (r.status >= 300) throw new ClusterError('K8S_UNAVAILABLE', `GET ${path}: HTTP ${r.status}: ${r.body.slice(0, 300)}`);
    return JSON.parse(r.body) as T;
  }

  /** POST; an existing object (409) counts as success. */
  async ensure(path: string, body: unknown): Promise<void> {
    const r = await this.request('POST', path, body);
    if (r.status === 409 || (r.status >= 200 && r.status < 300)) return;
    throw new ClusterError('K8S_UNAVAILABLE', `POST ${path}: HTTP ${r.status}: ${r.body.slice(0, 300)}`);
  }
}
