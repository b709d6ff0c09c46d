// Splits a byte stream into newline-terminated lines in linear time: each chunk is scanned once,
// a line's pieces are joined once when its newline arrives (appending to one string and searching
// it again from the start made a 32 MiB line cost seconds of CPU and stalled every other call),
// and bytes are decoded only whole lines at a time, so a multi-byte character split across chunks
// is never decoded half-way. A line longer than the cap fails as soon as it passes the cap.

export class LineTooLong extends Error {
  constructor(readonly maxBytes: number) {
    super(`line longer than ${maxBytes} bytes`);
  }
}

export class ByteLineSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(private readonly maxLineBytes: number) {}

  /** Complete lines (without the newline) found so far, decoded as UTF-8. */
  push(chunk: Buffer): string[] {
    const lines: string[] = [];
    let start = 0;
    for (let nl = chunk.indexOf(0x0a, start); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
      const part = chunk.subarray(start, nl);
      if (this.pendingBytes + part.length > this.maxLineBytes) throw new LineTooLong(this.maxLineBytes);
      const line = this.pending.length === 0 ? part : Buffer.concat([...this.pending, part]);
      this.pending = [];
      this.pendingBytes = 0;
      lines.push(line.toString('utf8'));
      start = nl + 1;
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      this.pendingBytes += rest.length;
      if (this.pendingBytes > this.maxLineBytes) throw new LineTooLong(this.maxLineBytes);
      this.pending.push(rest);
    }
    return lines;
  }

  /** Bytes of an unfinished line (non-zero at the end of a stream means it was cut off). */
  get remainder(): number {
    return this.pendingBytes;
  }
}
