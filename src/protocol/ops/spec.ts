// What the clients and the daemon agree on about each op: whether it reads stdin and how much,
// whether it may be sent again after the daemon died mid-call, and one line for the README. The
// daemon's half of each op (its argument parser and handler) is keyed by these same names in
// src/daemon/handlers/*, typed so that an op in this table without a handler does not compile.

export const KiB = 1024;
export const MiB = 1024 * KiB;

export interface OpSpec {
  /** the most bytes of stdin the op accepts; absent = the op never reads stdin */
  readonly stdin?: number;
  /** sent again (same request id) when the daemon died mid-call: reads, idempotent writes */
  readonly retrySafe?: true;
  /**
   * the positional arguments it cannot do without, in order, as its "<op>: missing <what>" message
   * names them: both clients refuse a call without them before starting or asking the daemon
   */
  readonly args?: readonly string[];
  /** argv after the op, as the README shows it */
  readonly usage: string;
  readonly summary: string;
}

export type OpTable = Readonly<Record<string, OpSpec>>;
