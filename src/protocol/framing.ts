// NDJSON framing with a line-length cap, so a broken peer cannot make either side buffer
// without bound, and linear in the size of what arrives (see util/lines.ts).

import { ByteLineSplitter, LineTooLong } from '../util/lines.js';

/** The longest protocol line: the largest request any op accepts (see limits.ts), JSON-escaped. */
export const MAX_LINE_BYTES = 64 * 1024 * 1024;

export class LineDecoder {
  private readonly splitter: ByteLineSplitter;

  constructor(private readonly maxBytes = MAX_LINE_BYTES) {
    this.splitter = new ByteLineSplitter(maxBytes);
  }

  /** Feeds a chunk and returns the complete lines it finished. */
  push(chunk: Buffer | string): string[] {
    try {
      return this.splitter.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk);
    } catch (err) {
      if (err instanceof LineTooLong) throw new Error(`protocol line longer than ${this.maxBytes} bytes`, { cause: err });
      throw err;
    }
  }
}

export function encodeLine(value: unknown): string {
  return `${JSON.stringify(value)}\n`;
}
