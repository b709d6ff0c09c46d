// Gas City's exec events protocol (gc-events-k8s).

import { GcK8sError, quote } from '../../errors.js';
import { KiB, MiB, type OpTable } from './spec.js';

export const EVENTS_OPS = {
  'ensure-running': { retrySafe: true, usage: '', summary: 'make sure the store (the seq ConfigMap) exists' },
  record: {
    stdin: 1 * MiB,
    retrySafe: true,
    usage: '(event JSON on stdin)',
    summary: 'store one event; a retry of the same call is stored once',
  },
  list: {
    stdin: 64 * KiB,
    retrySafe: true,
    usage: '(filter JSON on stdin)',
    summary: 'stored events matching the filter, as a JSON array',
  },
  'latest-seq': { retrySafe: true, usage: '', summary: 'the highest seq stored' },
  watch: { retrySafe: true, usage: '[<afterSeq>]', summary: 'events after afterSeq, then new ones as they come (NDJSON)' },
} as const satisfies OpTable;

/** Parses the `<afterSeq>` argument of `watch` (gc passes strconv.FormatUint; empty = 0). */
export function parseAfterSeqArg(text: string | undefined): number {
  const trimmed = (text ?? '').trim();
  if (trimmed === '') return 0;
  const value = Number(trimmed);
  if (!/^\d+$/.test(trimmed) || !Number.isSafeInteger(value)) {
    throw new GcK8sError('BAD_REQUEST', `watch: afterSeq must be a non-negative integer, got ${quote(text)}`);
  }
  return value;
}
