// The Kubernetes remotecommand WebSocket protocol (v4/v5.channel.k8s.io): every binary message
// is one channel byte followed by payload. Constants from k8s.io/apimachinery remotecommand.

import { arr, obj, str } from './wire.js';

export const PROTOCOL_V5 = 'v5.channel.k8s.io';
export const PROTOCOL_V4 = 'v4.channel.k8s.io';

export const CHANNEL_STDIN = 0;
export const CHANNEL_STDOUT = 1;
export const CHANNEL_STDERR = 2;
export const CHANNEL_STATUS = 3;
/** v5 only: [255, channel] half-closes a stream */
export const CHANNEL_CLOSE = 255;

export type ExecOutcome =
  { readonly kind: 'exit'; readonly exitCode: number } | { readonly kind: 'failure'; readonly message: string; readonly reason?: string };

/**
 * Interprets the status channel's V1Status; undefined while the bytes are not (yet) complete JSON.
 * Success → exit 0; NonZeroExitCode with an ExitCode cause → that code; anything else → failure.
 */
export function parseExecStatus(payload: Buffer): ExecOutcome | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
  const status = obj(parsed);
  if (str(status.status) === 'Success') return { kind: 'exit', exitCode: 0 };
  const reason = str(status.reason);
  const message = str(status.message) ?? 'command failed without a message';
  if (reason === 'NonZeroExitCode') {
    for (const cause of arr(obj(status.details).causes)) {
      const c = obj(cause);
      const code = Number(str(c.message));
      if (str(c.reason) === 'ExitCode' && Number.isInteger(code)) return { kind: 'exit', exitCode: code };
    }
  }
  return { kind: 'failure', message, ...(reason === undefined ? {} : { reason }) };
}

export function frame(channel: number, payload?: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(1 + (payload?.length ?? 0));
  out[0] = channel;
  if (payload !== undefined) out.set(payload, 1);
  return out;
}

/** Query string for the exec subresource: `command` is repeated once per argv element. */
export function execQuery(container: string, command: readonly string[], stdin: boolean): string {
  const params = new URLSearchParams();
  params.append('container', container);
  for (const arg of command) params.append('command', arg);
  params.append('stdout', 'true');
  params.append('stderr', 'true');
  if (stdin) params.append('stdin', 'true');
  return params.toString();
}
