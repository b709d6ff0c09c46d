// Wall-clock time with nanosecond resolution for auto-filled event timestamps. The Clock port
// only has millisecond precision, so the sub-millisecond part comes from the monotonic hrtime,
// anchored to the clock. When the clock and the anchor disagree (NTP step, a fake clock in
// tests) we re-anchor, so timestamps never drift away from Clock.now().

import type { Clock } from '../kube/ports.js';

/** Allowed disagreement before re-anchoring: Date.now() itself is truncated to whole ms. */
const MAX_DRIFT_MS = 2;

export function wallClockNanos(clock: Clock, hrtime: () => bigint = () => process.hrtime.bigint()): () => bigint {
  let anchorNs = BigInt(clock.now()) * 1_000_000n;
  let anchorHr = hrtime();
  return () => {
    const hr = hrtime();
    const nowMs = clock.now();
    const ns = anchorNs + (hr - anchorHr);
    if (Math.abs(Number(ns / 1_000_000n) - nowMs) <= MAX_DRIFT_MS) return ns;
    anchorNs = BigInt(nowMs) * 1_000_000n;
    anchorHr = hr;
    return anchorNs;
  };
}
