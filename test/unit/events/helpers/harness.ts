// Builds event stores on a shared fake namespace, with a fake clock and captured logs.

import { pino, type Logger } from 'pino';
import type { ConfigMap } from '../../../../src/kube/types.js';
import { createEventStore, type EventStore, type EventStoreOptions } from '../../../../src/events/store.js';
import { EVENT_CACHE_SELECTOR } from '../../../../src/events/layout.js';
import type { GcEvent } from '../../../../src/events/event-json.js';
import { FakeConfigMapServer } from '../../../fakes/fake-configmaps.js';
import type { MemoryCache } from '../../../fakes/memory-cache.js';
import { FakeClock } from './fake-clock.js';

export interface LogRecord {
  readonly level: number;
  readonly msg: string;
  readonly [key: string]: unknown;
}

export function captureLogger(): { log: Logger; records: LogRecord[] } {
  const records: LogRecord[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => records.push(JSON.parse(line) as LogRecord) });
  return { log, records };
}

export interface Daemon {
  readonly store: EventStore;
  readonly cache: MemoryCache<ConfigMap>;
  readonly records: LogRecord[];
}

export class Namespace {
  readonly clock: FakeClock;
  readonly server: FakeConfigMapServer;
  private readonly daemons: Daemon[] = [];

  constructor(clock = new FakeClock()) {
    this.clock = clock;
    this.server = new FakeConfigMapServer({ now: () => clock.now() });
  }

  /** One "daemon": its own cache and store over the shared fake API. */
  daemon(options: EventStoreOptions = {}): Daemon {
    const cache = this.server.cache(EVENT_CACHE_SELECTOR);
    const { log, records } = captureLogger();
    const store = createEventStore({ configMaps: this.server.api(), cache, clock: this.clock, log, namespace: 'test', options });
    const d = { store, cache, records };
    this.daemons.push(d);
    return d;
  }

  close(): void {
    for (const d of this.daemons) d.store.close();
  }
}

export const signal = (): AbortSignal => new AbortController().signal;

/** Collects the first `n` events of a watch, then stops it. */
export async function take(iterable: AsyncIterable<GcEvent>, n: number): Promise<GcEvent[]> {
  const out: GcEvent[] = [];
  if (n === 0) return out;
  for await (const event of iterable) {
    out.push(event);
    if (out.length >= n) break;
  }
  return out;
}

/** A watch consumed in the background, with a way to await a given number of events. */
export function startWatch(
  store: EventStore,
  afterSeq: number,
): { events: GcEvent[]; until: (n: number) => Promise<GcEvent[]>; stop: () => void; done: Promise<void> } {
  const controller = new AbortController();
  const events: GcEvent[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  const done = (async () => {
    for await (const event of store.watch(afterSeq, controller.signal)) {
      events.push(event);
      for (const w of [...waiters]) {
        if (events.length >= w.n) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve();
        }
      }
    }
  })();
  return {
    events,
    until: async (n) => {
      if (events.length < n) await new Promise<void>((resolve) => waiters.push({ n, resolve }));
      return events.slice(0, n);
    },
    stop: () => {
      controller.abort();
    },
    done,
  };
}

/** Lets pending I/O and watch deliveries run (event-driven, not timed). */
export async function flush(ns: Namespace, rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    await ns.server.settled();
    await new Promise((resolve) => setImmediate(resolve));
  }
}
