// Auth material (headers + TLS) for the current context, refreshed at most every `refreshMs`:
// service-account tokens are projected and rotate, token files get rewritten, exec plugins hand
// out expiring tokens. A failed refresh keeps the last good material (the server will say 401 if
// it is really stale, and 401 invalidates), so a flaky plugin does not take the daemon down.

import { createHash } from 'node:crypto';
import type { RequestOptions } from 'node:https';
import type { SecureContextOptions } from 'node:tls';
import type { KubeConfig } from '@kubernetes/client-node';
import { GcK8sError, messageOf } from '../errors.js';
import { raceSignal } from './signal.js';

export type Headers = Readonly<Record<string, string | readonly string[]>>;

export interface TlsMaterial {
  readonly ca?: SecureContextOptions['ca'];
  readonly cert?: SecureContextOptions['cert'];
  readonly key?: SecureContextOptions['key'];
  readonly rejectUnauthorized: boolean;
  readonly servername?: string;
}

export interface AuthMaterial {
  readonly headers: Headers;
  readonly tls: TlsMaterial;
  /** changes exactly when the TLS material changes: connection pools are keyed on it */
  readonly tlsKey: string;
}

export interface CredentialSourceOptions {
  readonly kc: KubeConfig;
  /** re-reads the config files into `kc` */
  readonly reload: () => void;
  readonly description: string;
  readonly refreshMs?: number;
  readonly now?: () => number;
  readonly onWarning?: (message: string, err: unknown) => void;
}

export class CredentialSource {
  private current: { material: AuthMaterial; at: number } | undefined;
  private pending: Promise<AuthMaterial> | undefined;
  private readonly refreshMs: number;
  private readonly now: () => number;

  constructor(private readonly options: CredentialSourceOptions) {
    this.refreshMs = options.refreshMs ?? 60_000;
    this.now = options.now ?? Date.now;
  }

  /** Current material; refreshes (once, shared by concurrent callers) when older than refreshMs. */
  get(signal: AbortSignal): Promise<AuthMaterial> {
    const current = this.current;
    if (current !== undefined && this.now() - current.at < this.refreshMs) return Promise.resolve(current.material);
    this.pending ??= this.refresh().finally(() => {
      this.pending = undefined;
    });
    return raceSignal(this.pending, signal, `obtaining credentials for ${this.options.description}`);
  }

  /** After a 401: the next get() consults token files / exec plugins again. */
  invalidate(): void {
    if (this.current !== undefined) this.current = { ...this.current, at: -Infinity };
  }

  private async refresh(): Promise<AuthMaterial> {
    try {
      if (this.current !== undefined) this.options.reload(); // the first load was done by the caller
      const opts: RequestOptions = {};
      await this.options.kc.applyToHTTPSOptions(opts);
      const material = toMaterial(opts);
      this.current = { material, at: this.now() };
      return material;
    } catch (err) {
      const message = `obtaining credentials for ${this.options.description}: ${messageOf(err)}`;
      if (this.current === undefined) throw new GcK8sError('CONFIG_INVALID', message, { cause: err });
      this.options.onWarning?.(`${message}; keeping the previous credentials`, err);
      // Try again soon, not on every request.
      this.current = { material: this.current.material, at: this.now() - this.refreshMs + Math.min(5_000, this.refreshMs) };
      return this.current.material;
    }
  }
}

function toMaterial(opts: RequestOptions): AuthMaterial {
  const headers: Record<string, string | readonly string[]> = {};
  for (const [name, value] of Object.entries(opts.headers ?? {})) {
    if (typeof value === 'string') headers[name] = value;
    else if (typeof value === 'number') headers[name] = String(value);
    else if (Array.isArray(value)) headers[name] = value;
  }
  if (typeof opts.auth === 'string' && opts.auth !== '' && opts.auth !== 'undefined:undefined') {
    headers.Authorization = `Basic ${Buffer.from(opts.auth).toString('base64')}`;
  }
  const tls: TlsMaterial = {
    rejectUnauthorized: opts.rejectUnauthorized !== false,
    ...(opts.ca === undefined ? {} : { ca: opts.ca }),
    ...(opts.cert === undefined ? {} : { cert: opts.cert }),
    ...(opts.key === undefined ? {} : { key: opts.key }),
    ...(typeof opts.servername === 'string' && opts.servername !== '' ? { servername: opts.servername } : {}),
  };
  return { headers, tls, tlsKey: fingerprint(tls) };
}

function fingerprint(tls: TlsMaterial): string {
  const hash = createHash('sha256');
  const feed = (value: unknown): void => {
    if (value === undefined) hash.update('\0u');
    else if (Array.isArray(value)) for (const item of value as unknown[]) feed(item);
    else if (Buffer.isBuffer(value)) hash.update(value);
    else hash.update(typeof value === 'string' ? value : JSON.stringify(value));
    hash.update('\0');
  };
  feed(tls.ca);
  feed(tls.cert);
  feed(tls.key);
  feed(String(tls.rejectUnauthorized));
  feed(tls.servername);
  return hash.digest('hex').slice(0, 16);
}
