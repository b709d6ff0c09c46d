// The one place the daemon talks SQL to Dolt (mysql2): a health ping (a connection and the server
// version under a hard deadline) and a small pool for the read path of bead ops. Network-level
// failures are reported as "unreachable from the daemon" so the caller can go through the runner
// instead — a daemon outside the cluster often cannot route to a ClusterIP at all.

import { createConnection, createPool, type Pool, type RowDataPacket } from 'mysql2/promise';
import { GcK8sError, messageOf } from '../../errors.js';

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

const NETWORK_CODES = new Set([
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNRESET',
  'EPIPE',
  'PROTOCOL_CONNECTION_LOST',
]);

export async function pingDolt(target: DoltTarget, timeoutMs: number): Promise<DoltPing> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' }));
    }, timeoutMs);
  });
  let conn: Awaited<ReturnType<typeof createConnection>> | undefined;
  const attempt = (async () => {
    conn = await createConnection({
      host: target.host,
      port: target.port,
      user: target.user,
      password: target.password,
      connectTimeout: timeoutMs,
    });
    const [rows] = await conn.query('SELECT VERSION() AS v');
    const v = (rows as { v?: unknown }[])[0]?.v;
    return typeof v === 'string' ? v : String(v);
  })();
  try {
    const version = await Promise.race([attempt, deadline]);
    return { ok: true, version };
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const cause = `dolt ${target.host}:${target.port}: ${messageOf(err)}`;
    attempt.catch(() => undefined);
    return typeof code === 'string' && NETWORK_CODES.has(code) ? { ok: false, reached: false, cause } : { ok: false, reached: true, cause };
  } finally {
    clearTimeout(timer);
    const c = conn;
    if (c !== undefined) c.destroy();
    else
      void attempt
        .then(
          (v) => v,
          () => undefined,
        )
        .finally(() => conn?.destroy());
  }
}

export type SqlRow = Readonly<Record<string, unknown>>;

/** Read-only SQL on one Dolt server; every query has a deadline. */
export interface DoltSql {
  query(sql: string, params: readonly (string | number)[], timeoutMs: number): Promise<SqlRow[]>;
  close(): Promise<void>;
}

function isNetworkError(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && (NETWORK_CODES.has(code) || code === 'PROTOCOL_SEQUENCE_TIMEOUT');
}

/**
 * A few keep-alive connections to one server. Dates come back as text and JSON as its text,
 * exactly as stored, so values are formatted the way bd prints them and never re-encoded.
 */
export function doltPool(target: DoltTarget, connectTimeoutMs = 2000, database?: string): DoltSql {
  const pool: Pool = createPool({
    ...(database === undefined ? {} : { database }),
    host: target.host,
    port: target.port,
    user: target.user,
    password: target.password,
    connectionLimit: 4,
    maxIdle: 2,
    idleTimeout: 60_000,
    enableKeepAlive: true,
    connectTimeout: connectTimeoutMs,
    dateStrings: true,
    jsonStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
  });
  const where = `dolt ${target.host}:${target.port}`;
  return {
    async query(sql, params, timeoutMs) {
      try {
        const [rows] = await pool.query<RowDataPacket[]>({ sql, timeout: timeoutMs }, [...params]);
        return rows;
      } catch (err) {
        const message = `${where}: ${messageOf(err)}`;
        throw isNetworkError(err)
          ? new GcK8sError('DOLT_UNREACHABLE', message, { cause: err })
          : new GcK8sError('DOLT_QUERY', message, { cause: err });
      }
    },
    async close() {
      await pool.end().catch(() => undefined);
    },
  };
}
