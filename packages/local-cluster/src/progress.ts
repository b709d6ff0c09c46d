// Progress output for long cluster operations: one line per step with the elapsed time, so a
// user watching `gc-k8s cluster up` always knows what is happening and where the log is.

export interface Reporter {
  /** a new step ("starting kube-apiserver") */
  step(message: string): void;
  /** detail under the current step */
  info(message: string): void;
  warn(message: string): void;
}

export function streamReporter(out: NodeJS.WritableStream, prefix = 'cluster'): Reporter {
  const start = Date.now();
  const stamp = (): string => `${((Date.now() - start) / 1000).toFixed(1).padStart(5)}s`;
  return {
    step: (m) => out.write(`[${prefix} ${stamp()}] ${m}\n`),
    info: (m) => out.write(`[${prefix} ${stamp()}]   ${m}\n`),
    warn: (m) => out.write(`[${prefix} ${stamp()}] WARNING: ${m}\n`),
  };
}

export const silentReporter: Reporter = { step: () => undefined, info: () => undefined, warn: () => undefined };

/** Forwards line-oriented tool output (build-upstream heartbeats, apt) as info lines. */
export function lineForwarder(reporter: Reporter, filter?: (line: string) => boolean): (chunk: string) => void {
  let buf = '';
  return (chunk) => {
    buf += chunk;
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i).trimEnd();
      buf = buf.slice(i + 1);
      if (line !== '' && (filter === undefined || filter(line))) reporter.info(line);
    }
  };
}

/** "45s" or "11m02s" (the form scripts/build-upstream.sh prints). */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}
