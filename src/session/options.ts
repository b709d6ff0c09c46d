// Timing knobs of the session provider, all overridable from config.

export interface SessionOptions {
  /** start must finish within this (gc kills the script at 120 s) */
  readonly startTimeoutMs: number;
  /** other ops (gc kills the script at 30 s) */
  readonly opTimeoutMs: number;
  /** how long stop waits for the pod to be gone */
  readonly stopTimeoutMs: number;
  /** a pod younger than this with tmux not yet up counts as initializing, not stale */
  readonly startupGraceMs: number;
  /** pause between pasting a nudge and pressing Enter */
  readonly nudgeEnterDelayMs: number;
  /** after tmux is up, how long to watch for the agent dying immediately */
  readonly settleMs: number;
  /** the same for a start from a warm pod */
  readonly warmSettleMs: number;
  /** staging refuses more than this many bytes per start */
  readonly maxStageBytes: number;
  /** peek output cap */
  readonly maxPeekBytes: number;
  /** after an exec failure in unknown words, how long to wait for the pod to say the container ended */
  readonly containerExitWaitMs: number;
  /** after an agent died at start, how long to wait for its pod to report why (its last screen) */
  readonly diedReportWaitMs: number;
  /** a pod the scheduler finds no room for (CPU, memory, pods) this long fails start with exit 75 */
  readonly capacityWaitMs: number;
}

export const DEFAULT_SESSION_OPTIONS: SessionOptions = {
  startTimeoutMs: 110_000,
  opTimeoutMs: 25_000,
  stopTimeoutMs: 25_000,
  startupGraceMs: 240_000,
  nudgeEnterDelayMs: 150,
  settleMs: 200,
  warmSettleMs: 20,
  maxStageBytes: 512 * 1024 * 1024,
  maxPeekBytes: 16 * 1024 * 1024,
  containerExitWaitMs: 3_000,
  diedReportWaitMs: 5_000,
  capacityWaitMs: 15_000,
};
