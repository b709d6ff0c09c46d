// Watch responses are newline-delimited JSON, one event per line, arriving in arbitrary chunks.
// Lines are split on raw bytes (so a multi-byte character split across chunks is never decoded
// half-way), a line longer than the cap is an error instead of unbounded memory, and a line that
// is not a valid event throws: the reflector logs it and restarts rather than silently dropping.

import { GcK8sError } from '../errors.js';
import { obj, str } from './wire.js';

export class LineSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(private readonly maxLineBytes: number) {}

  /** Complete, non-blank lines (without the newline) found so far. */
  push(chunk: Buffer): string[] {
    const lines: string[] = [];
    let start = 0;
    for (let nl = chunk.indexOf(0x0a, start); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
      const part = chunk.subarray(start, nl);
      const line = this.pending.length === 0 ? part : Buffer.concat([...this.pending, part]);
      this.pending = [];
      this.pendingBytes = 0;
      this.checkSize(line.length);
      const text = line.toString('utf8').trim();
      if (text !== '') lines.push(text);
      start = nl + 1;
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      this.pendingBytes += rest.length;
      this.checkSize(this.pendingBytes);
      this.pending.push(rest);
    }
    return lines;
  }

  /** Bytes of an unfinished line (non-zero at end of stream means it was cut off). */
  get remainder(): number {
    return this.pendingBytes;
  }

  private checkSize(bytes: number): void {
    if (bytes > this.maxLineBytes) {
      throw new GcK8sError('TOO_LARGE', `reading watch stream: line exceeds ${this.maxLineBytes} bytes`);
    }
  }
}

export type WatchEventKind = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
const KINDS: ReadonlySet<string> = new Set(['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK', 'ERROR']);

export interface RawWatchEvent {
  readonly type: WatchEventKind;
  readonly object: unknown;
}

export function parseWatchLine(line: string, what: string): RawWatchEvent {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line) as unknown;
  } catch (err) {
    throw new GcK8sError('K8S_UNAVAILABLE', `${what}: invalid JSON in watch stream (${line.slice(0, 80)})`, { cause: err });
  }
  const event = obj(parsed);
  const type = str(event.type);
  if (type === undefined || !KINDS.has(type) || event.object === undefined) {
    throw new GcK8sError('K8S_UNAVAILABLE', `${what}: unexpected watch event (${line.slice(0, 80)})`);
  }
  return { type: type as WatchEventKind, object: event.object };
}
