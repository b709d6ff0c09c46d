// Watch responses are newline-delimited JSON, one event per line, arriving in arbitrary chunks.
// Lines are split on raw bytes (so a multi-byte character split across chunks is never decoded
// half-way), a line longer than the cap is an error instead of unbounded memory, and a line that
// is not a valid event throws: the reflector logs it and restarts rather than silently dropping.

import { GcK8sError } from '../errors.js';
import { obj, str } from './wire.js';
import { ByteLineSplitter, LineTooLong } from '../util/lines.js';

/** Watch lines: a linear byte splitter whose blank lines are skipped and whose cap is a TOO_LARGE. */
export class LineSplitter {
  private readonly bytes: ByteLineSplitter;

  constructor(private readonly maxLineBytes: number) {
    this.bytes = new ByteLineSplitter(maxLineBytes);
  }

  /** Complete, non-blank lines (without the newline) found so far. */
  push(chunk: Buffer): string[] {
    let lines: string[];
    try {
      lines = this.bytes.push(chunk);
    } catch (err) {
      if (err instanceof LineTooLong) throw new GcK8sError('TOO_LARGE', `reading watch stream: line exceeds ${this.maxLineBytes} bytes`);
      throw err;
    }
    return lines.map((l) => l.trim()).filter((l) => l !== '');
  }

  /** Bytes of an unfinished line (non-zero at end of stream means it was cut off). */
  get remainder(): number {
    return this.bytes.remainder;
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
