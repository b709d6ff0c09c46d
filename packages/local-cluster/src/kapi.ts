// A minimal JSON REST client for the local cluster's own bootstrap and health checks (node:https
// with client certificates). The daemon uses src/k8s; this stays dependency-free on purpose.

import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { ClusterError } from './errors.js';

export interface ApiCreds {
  readonly server: string;
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

export interface ApiResponse {
  readonly status: number;
  readonly body: string;
}

/** One HTTP(S) request; never throws for HTTP status, throws K8S_UNAVAILABLE on network errors. */
export function httpCall(
  url: string,
  opts: { method?: string; body?: unknown; creds?: ApiCreds; timeoutMs?: number; insecure?: boolean } = {},
): Promise<ApiResponse> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (payload !== undefined) headers['content-type'] = 'application/json';
    const common = { method: opts.method ?? 'GET', headers, timeout: opts.timeoutMs ?? 5000 };
    const req =
      u.protocol === 'https:'
        ? httpsRequest(u, {
            ...common,
            ...(opts.creds === undefined
              ? { rejectUnauthorized: false }
              : {
                  ca: readFileSync(opts.creds.ca),
                  cert: readFileSync(opts.creds.cert),
                  key: readFileSync(opts.creds.key),
                  rejectUnauthorized: opts.insecure !== true,
                }),
          })
        : httpRequest(u, common);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => {
      reject(new ClusterError('K8S_UNAVAILABLE', `${common.method} ${url}: ${e.message}`, { cause: e }));
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

/** true when GET url answers 2xx within the timeout */
export async function probe(url: string, creds?: ApiCreds, timeoutMs = 2000): Promise<boolean> {
  try {
    const r = await httpCall(url, { ...(creds === undefined ? {} : { creds }), timeoutMs });
    return r.status >= 200 && r.status < 300;
  } catch {
    return false;
  }
}

export class KubeApi {
  constructor(private readonly creds: ApiCreds) {}

  async get<T>(path: string): Promise<T | undefined> {
    const r = await httpCall(this.creds.server + path, { creds: this.creds });
    if (r.status === 404) return undefined;
    if (r.status >= 300) throw new ClusterError('K8S_UNAVAILABLE', `GET ${path}: HTTP ${r.status}: ${r.body.slice(0, 300)}`);
    return JSON.parse(r.body) as T;
  }

  /** POST; an existing object (409) counts as success. */
  async ensure(path: string, body: unknown): Promise<void> {
    const r = await httpCall(this.creds.server + path, { method: 'POST', body, creds: this.creds });
    if (r.status === 409 || (r.status >= 200 && r.status < 300)) return;
    throw new ClusterError('K8S_UNAVAILABLE', `POST ${path}: HTTP ${r.status}: ${r.body.slice(0, 300)}`);
  }
}
