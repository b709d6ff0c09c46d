// Public surface of the events store: what the daemon, the protocol handlers and the CLI use.
//
// Design in brief (details in each module's header):
// - Layout (layout.ts) is upstream gc-events-k8s's: counter gc-events-seq, one gc-evt-%010d per
//   event; reading is tolerant so script-written events decode too.
// - Writes (writer.ts, counter.ts): one queue per daemon; each counter CAS reserves a block for
//   everything queued; CONFLICT/transient errors retry with jittered backoff.
// - No silent gaps: a reserved seq whose event cannot be written gets a tombstone
//   (gc/component=event-tombstone); if even that fails, watchers skip it after a bounded wait.
// - Reads (seq-index.ts, watch.ts) come from the watch cache, indexed by seq.

export { createEventStore, type EventStore, type EventStoreStats } from './store.js';
export { parseEventInput, formatEventList, formatWatchLine } from './event-json.js';
export { parseFilterJson } from './filter.js';
export { parseAfterSeqArg } from '../protocol/ops/events.js';
export { recordKey } from './record-key.js';
export { pruneEvents } from './prune.js';
export { parseRetentionPolicy, isRetentionEnabled, type RetentionPolicy } from './retention.js';
export { EVENT_CACHE_SELECTOR } from './layout.js';
