// Public surface of the events store: what the daemon, the protocol handlers and the CLI use.

export { createEventStore, type EventStore, type EventStoreDeps, type EventStoreOptions } from './store.js';
export {
  parseEventInput,
  encodeEventJson,
  formatEventList,
  formatWatchLine,
  type EventInput,
  type GcEvent,
  type RawJson,
} from './event-json.js';
export { parseFilterJson, parseAfterSeqArg, matchesFilter, type EventFilter } from './filter.js';
export { pruneEvents, type PruneDeps, type PruneResult } from './prune.js';
export { parseRetentionPolicy, isRetentionEnabled, type RetentionPolicy } from './retention.js';
export { EVENT_CACHE_SELECTOR, SEQ_CONFIGMAP, eventConfigMapName } from './layout.js';
export { MAX_WATCH_LINE_BYTES } from './limits.js';
export type { RetryOptions } from './retry.js';
