// Settings of the daemon process itself (one daemon serves every city of one kubeconfig, so
// these come from its environment at start, never from a city.toml). Listed beside the city
// table in README by `gc-k8s config table`.

import { GcK8sError, messageOf } from '../errors.js';
import { DEFAULT_RATE } from '../k8s/rate-limiter.js';
import { isIP } from 'node:net';
import { parseBool, parseDuration, parseEnum, parseInteger } from './parse.js';

export interface DaemonSettings {
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** client-side rate limit of API requests (<= 0 disables it; 429 Retry-After is always honoured) */
  readonly qps: number;
  readonly burst: number;
  /** a watch that delivered nothing (not even a bookmark) for this long is restarted */
  readonly watchIdleTimeoutMs: number;
  /** a quiet watch is verified by one LIST before a read trusts the cache */
  readonly cacheVerifyAfterMs: number;
  /** a pod whose start has not finished after this long, with no start of it running, is removed */
  readonly abandonedStartAgeMs: number;
  /** where /metrics, /healthz and /readyz are served; undefined: nowhere */
  readonly metricsAddr: { readonly host: string; readonly port: number } | undefined;
  /** a non-loopback metricsAddr is allowed (metrics and readiness are then visible beyond this host) */
  readonly metricsAllowRemote: boolean;
  /** per-session metric series (bounded only by the city's size) */
  readonly metricsSessionLabels: boolean;
  /** the Lease of leader election; '' = no election (this daemon always acts) */
  readonly leaderLease: string;
  /** the Lease's namespace; '' = the service account's (in a pod) or the kubeconfig context's */
  readonly leaderNamespace: string;
  /** on SIGTERM, in-flight ops get this long to finish before they are cancelled */
  readonly drainTimeoutMs: number;
}

/** "127.0.0.1:9464", "[::1]:9464", "localhost:9464": an IP literal (or localhost) and a port. */
export function parseListenAddress(value: string): { host: string; port: number } {
  const m = /^\[([0-9A-Fa-f:.]+)\]:(\d{1,5})$/.exec(value) ?? /^([^:[\]]+):(\d{1,5})$/.exec(value);
  if (m === null) throw new Error(`expected host:port (IPv6 as [addr]:port); got ${JSON.stringify(value.slice(0, 80))}`);
  const host = m[1] ?? '';
  const port = Number(m[2]);
  if (host !== 'localhost' && isIP(host) === 0)
    throw new Error(`expected an IP address or localhost; got ${JSON.stringify(host.slice(0, 80))}`);
  if (port < 1 || port > 65535) throw new Error(`expected a port from 1 to 65535; got ${port}`);
  return { host, port };
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
}

interface DaemonEntry {
  /** the variable, then the names other providers use for it (the first one set wins) */
  readonly env: readonly [string, ...string[]];
  readonly default: string;
  readonly doc: string;
  apply(settings: { -readonly [K in keyof DaemonSettings]: DaemonSettings[K] }, raw: string): void;
}

export const DAEMON_TABLE: readonly DaemonEntry[] = [
  {
    env: ['GC_K8S_LOG_LEVEL'],
    default: 'info',
    doc: 'debug, info, warn or error (NDJSON log beside the socket).',
    apply: (s, v) => {
      s.logLevel = parseEnum(['debug', 'info', 'warn', 'error'] as const)(v);
    },
  },
  {
    env: ['GC_K8S_QPS', 'GC_K8S_CLIENT_QPS'],
    default: String(DEFAULT_RATE.qps),
    doc: "Client-side rate limit of API requests per second (0 disables it; the API server's 429 Retry-After is always honoured).",
    apply: (s, v) => {
      s.qps = parseInteger(v, 0, 100_000);
    },
  },
  {
    env: ['GC_K8S_BURST', 'GC_K8S_CLIENT_BURST'],
    default: String(DEFAULT_RATE.burst),
    doc: 'Burst of the client-side rate limit.',
    apply: (s, v) => {
      s.burst = parseInteger(v, 1, 100_000);
    },
  },
  {
    env: ['GC_K8S_WATCH_IDLE_TIMEOUT'],
    default: '105s',
    doc: 'A watch that delivered nothing, not even a bookmark (about one a minute), for this long is restarted.',
    apply: (s, v) => {
      s.watchIdleTimeoutMs = atLeast(parseDuration(v), 1_000);
    },
  },
  {
    env: ['GC_K8S_ABANDONED_START_AGE'],
    default: '5m',
    doc: 'A pod whose start never finished (its daemon was killed) and that no start is working on is removed once it is this old.',
    apply: (s, v) => {
      s.abandonedStartAgeMs = atLeast(parseDuration(v), 10_000);
    },
  },
  {
    env: ['GC_K8S_CACHE_VERIFY_AFTER'],
    default: '20s',
    doc: 'A watch quiet for this long is verified by one LIST before a read trusts the cache (the answer is repaired from the list when the watch missed changes).',
    apply: (s, v) => {
      s.cacheVerifyAfterMs = atLeast(parseDuration(v), 100);
    },
  },
  {
    env: ['GC_K8S_METRICS_ADDR'],
    default: '',
    doc: 'host:port where the daemon serves `/metrics` (Prometheus text format), `/healthz` and `/readyz`; empty: no listener. Loopback only unless `GC_K8S_METRICS_ALLOW_REMOTE=true`; an address in use stops the daemon at start.',
    apply: (s, v) => {
      s.metricsAddr = v === '' ? undefined : parseListenAddress(v);
    },
  },
  {
    env: ['GC_K8S_METRICS_SESSION_LABELS'],
    default: 'false',
    doc: "Add `gc_k8s_session_phase{session=…}`, one series per session. Off by default so a big city's series stay bounded; for small cities.",
    apply: (s, v) => {
      s.metricsSessionLabels = parseBool(v);
    },
  },
  {
    env: ['GC_K8S_METRICS_ALLOW_REMOTE'],
    default: 'false',
    doc: 'Allow a non-loopback `GC_K8S_METRICS_ADDR` (in a pod: its metrics port, for Prometheus to scrape).',
    apply: (s, v) => {
      s.metricsAllowRemote = parseBool(v);
    },
  },
  {
    env: ['GC_K8S_LEADER_LEASE'],
    default: '',
    doc: 'Name of a coordination.k8s.io Lease: the daemon takes part in leader election and acts on sessions only while it holds it (others answer `NOT_LEADER` and report not ready). Set by the in-cluster Deployment; empty: no election.',
    apply: (s, v) => {
      s.leaderLease = objectName(v);
    },
  },
  {
    env: ['GC_K8S_LEADER_NAMESPACE'],
    default: '',
    doc: "Namespace of the leader Lease; empty: the service account's (in a pod), else the kubeconfig context's, else `default`.",
    apply: (s, v) => {
      s.leaderNamespace = objectName(v);
    },
  },
  {
    env: ['GC_K8S_DRAIN_TIMEOUT'],
    default: '20s',
    doc: 'On SIGTERM the daemon stops accepting ops and gives those in flight this long to finish, then cancels them (a cancelled start removes what it made) and releases the leader Lease. Keep a pod’s terminationGracePeriodSeconds above it.',
    apply: (s, v) => {
      s.drainTimeoutMs = parseDuration(v);
    },
  },
];

/** A Kubernetes object name (DNS subdomain), or ''. */
function objectName(v: string): string {
  if (v === '') return v;
  if (v.length > 253 || !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(v))
    throw new Error(`expected a Kubernetes object name (lower-case letters, digits, '-', '.'); got ${JSON.stringify(v.slice(0, 80))}`);
  return v;
}

function atLeast(ms: number, min: number): number {
  if (ms < min) throw new Error(`expected at least ${min} ms; got ${ms} ms`);
  return ms;
}

/** Every setting from its variable, or from the table's default (the one place defaults live). */
export function loadDaemonSettings(env: Readonly<Record<string, string | undefined>>): DaemonSettings {
  const settings = {} as { -readonly [K in keyof DaemonSettings]: DaemonSettings[K] };
  for (const entry of DAEMON_TABLE) {
    const name = entry.env.find((n) => (env[n]?.trim() ?? '') !== '') ?? entry.env[0];
    const given = env[name]?.trim() ?? '';
    try {
      entry.apply(settings, given === '' ? entry.default : given);
    } catch (err) {
      throw new GcK8sError('CONFIG_INVALID', `invalid ${name}: ${messageOf(err)}`, { cause: err });
    }
  }
  if (settings.metricsAddr !== undefined && !settings.metricsAllowRemote && !isLoopback(settings.metricsAddr.host)) {
    throw new GcK8sError(
      'CONFIG_INVALID',
      `invalid GC_K8S_METRICS_ADDR: ${settings.metricsAddr.host} is not a loopback address, and metrics and readiness would be served beyond this host; set GC_K8S_METRICS_ALLOW_REMOTE=true to mean it`,
    );
  }
  return settings;
}

export function daemonTableMarkdown(): string {
  const rows = DAEMON_TABLE.map((e) => `| ${e.env.map((n) => `\`${n}\``).join(' or ')} | \`${e.default}\` | ${e.doc} |`);
  return ['| Daemon environment | Default | Meaning |', '|---|---|---|', ...rows].join('\n');
}
