// pino, configured once: NDJSON, secrets redacted. The daemon logs to a file it owns; clients
// never log to stdout because stdout carries protocol output.

import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger } from 'pino';

export const REDACT_PATHS = [
  'token',
  'password',
  'authorization',
  'headers.authorization',
  '*.token',
  '*.password',
  '*.authorization',
  'env.GC_DOLT_PASSWORD',
  'env.BEADS_DOLT_PASSWORD',
  'env.GITHUB_TOKEN',
  'env.ANTHROPIC_API_KEY',
  'env.OPENAI_API_KEY',
];

export function createLogger(options: { level?: string; destination?: DestinationStream; name?: string } = {}): Logger {
  return pino(
    {
      name: options.name ?? 'gc-k8s',
      level: options.level ?? 'info',
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination,
  );
}

/** A logger that drops everything, for tests and one-shot commands. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
