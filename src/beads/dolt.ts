// The one place the daemon talks SQL to Dolt (mysql2), for health only: a connection, `SELECT 1`
// and the server version, under a hard deadline. Network-level failures are reported as
// "unreachable from the daemon" so the caller can check Dolt from inside the cluster instead —
// a daemon outside the cluster often cannot route to a ClusterIP at all.

import { createConnection } from 'mysql2/promise';

export interface DoltTarget {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
}

export type DoltPing =
  | { readonly ok: true; readonly version: string }
  /** the server answered but refused us (auth, privileges) or failed the query */
  | { readonly ok: false; readonly reached: true; readonly cause: string }
  /** no server was reached: DNS, routing, refused, timeout */
  | { readonly ok: false; readonly reached: false; readonly cause: string };

const NETWORK_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'EPIPE', 'PROTOCOL_CONNECTION_LOST']);

export async function pingDolt(target: DoltTarget, timeoutMs: number): Promise<DoltPing> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' }));
    }, timeoutMs);
  });
  let conn: Awaited<ReturnType<typeof createConnection>> | undefined;
  const attempt = (async () => {
    conn = await createConnection({ host: target.host, port: target.port, user: target.user, password: target.password, connectTimeout: timeoutMs });
    const [rows] = await conn.query('SELECT VERSION() AS v');
    const v = (rows as { v?: unknown }[])[0]?.v;
    return typeof v === 'string' ? v : String(v);
  })();
  try {
    const version = await Promise.race([attempt, deadline]);
    return { ok: true, version };
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const cause = `dolt ${target.host}:${target.port}: ${(err as Error).message}`;
    attempt.catch(() => undefined);
    return typeof code === 'string' && NETWORK_CODES.has(code) ? { ok: false, reached: false, cause } : { ok: false, reached: true, cause };
  } finally {
    clearTimeout(timer);
    const c = conn;
    if (c !== undefined) c.destroy();
    else void attempt.then((v) => v, () => undefined).finally(() => conn?.destroy());
  }
}
