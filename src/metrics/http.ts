// The daemon's HTTP listener for monitoring: GET /metrics (Prometheus text format), /healthz (the
// process answers) and /readyz (200 "ok", or 503 with one reason per line). Nothing else is
// served, and nothing here changes state.

import { createServer, type Server } from 'node:http';
import { GcK8sError } from '../errors.js';
import type { DaemonMetrics } from './metrics.js';

export interface Readiness {
  /** empty: ready; otherwise why not, one short line each */
  reasons(): Promise<readonly string[]>;
}

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/** Listens on `addr`; an address in use or not ours fails here, naming it (the daemon then exits). */
export async function serveMetrics(addr: ListenAddress, metrics: DaemonMetrics, ready: Readiness): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const text = (status: number, body: string): void => {
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(req.method === 'HEAD' ? undefined : body);
    };
    if (path === '/healthz') {
      text(200, 'ok\n');
      return;
    }
    if (path === '/readyz') {
      void ready.reasons().then(
        (why) => {
          text(why.length === 0 ? 200 : 503, why.length === 0 ? 'ok\n' : `${why.join('\n')}\n`);
        },
        (err: unknown) => {
          text(503, `readiness check failed: ${err instanceof Error ? err.message : String(err)}\n`);
        },
      );
      return;
    }
    if (path === '/metrics') {
      void metrics.text().then(
        (body) => {
          res.writeHead(200, { 'content-type': metrics.contentType }).end(req.method === 'HEAD' ? undefined : body);
        },
        (err: unknown) => {
          text(500, `collecting metrics failed: ${err instanceof Error ? err.message : String(err)}\n`);
        },
      );
      return;
    }
    text(404, 'not found: try /metrics, /healthz or /readyz\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      const where = `${addr.host.includes(':') ? `[${addr.host}]` : addr.host}:${addr.port}`;
      const why = err.code === 'EADDRINUSE' ? 'is in use' : err.code === 'EADDRNOTAVAIL' ? 'is not an address of this host' : err.message;
      reject(new GcK8sError('CONFIG_INVALID', `GC_K8S_METRICS_ADDR ${where} ${why}`, { cause: err }));
    });
    server.listen(addr.port, addr.host, () => {
      resolve();
    });
  });
  return server;
}
