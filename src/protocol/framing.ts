// NDJSON framing with a line-length cap, so a broken peer cannot make either side buffer
// without bound.

export const MAX_LINE_BYTES = 64 * 1024 * 1024;

export class LineDecoder {
  private buffer = '';

  constructor(private readonly maxBytes = MAX_LINE_BYTES) {}

  /** Feeds a chunk and returns the complete lines it finished. */
  push(chunk: string): string[] {
    this.buffer += chunk;
    const lines: string[] = [];
    for (let nl = this.buffer.indexOf('\n'); nl >= 0; nl = this.buffer.indexOf('\n')) {
      lines.push(this.buffer.slice(0, nl));
      this.buffer = this.buffer.slice(nl + 1);
    }
    if (this.buffer.length > this.maxBytes) throw new Error(`protocol line longer than ${this.maxBytes} bytes`);
    return lines;
  }
}

export function encodeLine(value: unknown): string {
  return `${JSON.stringify(value)}\n`;
}
