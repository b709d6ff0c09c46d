// Settings of the daemon process itself (one daemon serves every city of one kubeconfig, so
// these come from its environment at start, never from a city.toml). Listed beside the city
// table in README by `gc-k8s config table`.

import { GcK8sError, messageOf } from '../errors.js';
import { DEFAULT_RATE } from '../k8s/rate-limiter.js';
import { parseDuration, parseEnum, parseInteger } from './parse.js';

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
];

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
  return settings;
}

export function daemonTableMarkdown(): string {
  const rows = DAEMON_TABLE.map((e) => `| ${e.env.map((n) => `\`${n}\``).join(' or ')} | \`${e.default}\` | ${e.doc} |`);
  return ['| Daemon environment | Default | Meaning |', '|---|---|---|', ...rows].join('\n');
}
