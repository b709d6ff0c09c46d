// After a daemon crash: the seqs it had reserved but not written are tombstoned at once, so
// watchers (here and in other daemons) move on instead of waiting out gap_timeout. Only the
// counter's last reservation is known, and only a reserver that is certainly dead counts.

import type { Logger } from 'pino';
import type { ConfigMapApi } from '../kube/ports.js';
import { hasCode } from '../errors.js';
import { buildTombstoneConfigMap, decodeReservation, SEQ_CONFIGMAP } from './layout.js';
import { ownerIsDead, parseOwner } from './owner.js';
import type { SeqIndex } from './seq-index.js';

export interface ReclaimDeps {
  readonly configMaps: ConfigMapApi;
  readonly index: SeqIndex;
  readonly log: Logger;
  readonly isDead?: (owner: string) => boolean;
}

function deadOwner(text: string): boolean {
  const owner = parseOwner(text);
  return owner !== undefined && ownerIsDead(owner);
}

/** Tombstones the unwritten seqs of a dead reserver's last block; returns how many. */
export async function reclaimDeadReservation(deps: ReclaimDeps, signal: AbortSignal): Promise<number> {
  const reservation = decodeReservation(await deps.configMaps.get(SEQ_CONFIGMAP, { signal }));
  if (reservation === undefined || !(deps.isDead ?? deadOwner)(reservation.owner)) return 0;
  const floor = deps.index.prunedFloor();
  let tombstoned = 0;
  for (let seq = reservation.first; seq < reservation.first + reservation.count; seq++) {
    if (seq <= floor || deps.index.get(seq) !== undefined) continue;
    try {
      deps.index.upsert(
        await deps.configMaps.create(buildTombstoneConfigMap(seq, `reserved by ${reservation.owner}, which died before writing it`), {
          signal,
        }),
      );
      tombstoned++;
    } catch (err) {
      if (!hasCode(err, 'ALREADY_EXISTS')) throw err; // written after all (the watch had not shown it yet)
    }
  }
  if (tombstoned > 0) {
    deps.log.warn(
      { owner: reservation.owner, first: reservation.first, count: reservation.count, tombstoned },
      'events: tombstoned seqs a dead daemon had reserved but not written',
    );
  }
  return tombstoned;
}
