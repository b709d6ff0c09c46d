// The wire format both persistent channels speak (the session exec channel and the bd channel):
// requests are NUL-terminated fields; each reply is a header line `\x1e<tag> <exit> <stdout bytes>
// <stderr bytes>\n` followed by exactly that many raw bytes of stdout and stderr, so nothing in a
// reply is ever escaped or parsed as text. The tag tells the two programs apart ("gc", "gcbd").

import { GcK8sError } from '../errors.js';
import type { ExecResult } from '../kube/ports.js';

const RS = 0x1e;
const NL = 0x0a;
/** a header longer than this is not a header */
const MAX_HEADER = 64;

/** Fields as the loops read them: each one followed by a NUL (so a field can never contain one). */
export function nulFields(fields: readonly (string | Uint8Array)[]): Buffer {
  const parts: Buffer[] = [];
  for (const f of fields) {
    const bytes = typeof f === 'string' ? Buffer.from(f, 'utf8') : Buffer.from(f);
    if (bytes.includes(0)) throw new GcK8sError('BAD_REQUEST', 'a channel field contains NUL');
    parts.push(bytes, Buffer.from([0]));
  }
  return Buffer.concat(parts);
}

/** Incremental reply parser: feed stdout chunks, get complete replies out, in order. */
export class FrameParser {
  private buffer: Buffer = Buffer.alloc(0);
  private readonly header: RegExp;

  constructor(private readonly tag: string) {
    this.header = new RegExp(`^${tag} (\\d+) (\\d+) (\\d+)\\n$`);
  }

  push(chunk: Buffer): ExecResult[] {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const out: ExecResult[] = [];
    for (;;) {
      if (this.buffer.length > 0 && this.buffer[0] !== RS) throw this.garbage();
      const nl = this.buffer.subarray(0, MAX_HEADER + 1).indexOf(NL);
      if (nl < 0) {
        if (this.buffer.length > MAX_HEADER) throw this.garbage();
        return out;
      }
      const m = this.header.exec(this.buffer.subarray(1, nl + 1).toString('latin1'));
      if (m === null) throw this.garbage();
      const start = nl + 1;
      const outEnd = start + Number(m[2]);
      const end = outEnd + Number(m[3]);
      if (this.buffer.length < end) return out;
      out.push({
        exitCode: Number(m[1]),
        stdout: Buffer.from(this.buffer.subarray(start, outEnd)),
        stderr: Buffer.from(this.buffer.subarray(outEnd, end)),
      });
      this.buffer = this.buffer.subarray(end);
    }
  }

  private garbage(): GcK8sError {
    return new GcK8sError(
      'EXEC_FAILED',
      `${this.tag} channel: unexpected output ${JSON.stringify(this.buffer.subarray(0, 80).toString('utf8'))}`,
    );
  }
}
