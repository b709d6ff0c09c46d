// Coexistence with upstream's gc-events-k8s bash script in one namespace.

import { afterEach, describe, expect, it } from 'vitest';
import type { ConfigMapManifest } from '../../../src/kube/types.js';
import { parseEventInput } from '../../../src/events/event-json.js';
import { parseSelector } from '../../fakes/fake-configmaps.js';
import { Namespace, signal, startWatch } from './helpers/harness.js';

let ns: Namespace;
afterEach(() => {
  ns.close();
});

/** What the script's `record` leaves behind: labels sanitized with '_', second-precision ts. */
function upstreamEvent(seq: number, type: string, actor: string, extra = ''): ConfigMapManifest {
  const san = (v: string): string => v.replace(/[^a-zA-Z0-9._-]/g, '_').slice(0, 63);
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: `gc-evt-${String(seq).padStart(10, '0')}`,
      labels: { 'app.kubernetes.io/managed-by': 'gascity', 'gc/component': 'event', 'gc/type': san(type), 'gc/actor': san(actor) },
    },
    data: {
      event: `{"seq":${seq},"type":${JSON.stringify(type)},"ts":"2025-06-15T12:00:0${seq}Z","actor":${JSON.stringify(actor)}${extra}}`,
    },
  };
}

describe('upstream gc-events-k8s compatibility', () => {
  it('reads events the script wrote, continues its counter and labels it', async () => {
    ns = new Namespace();
    // `kubectl create configmap gc-events-seq --from-literal=seq=0` (the label step failed), then two records.
    ns.server.put({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'gc-events-seq' }, data: { seq: '2' } });
    ns.server.put(upstreamEvent(1, 'bead.created', 'rig/mayor', ',"subject":"gc-1","payload":{"id":1}'));
    ns.server.put(upstreamEvent(2, 'a/b', 'human')); // ('human:' would give the invalid label 'human_': upstream's apply fails)
    const { store } = ns.daemon();
    expect(await store.latestSeq(signal())).toBe(2);
    const listed = await store.list({}, signal());
    expect(listed).toEqual([
      { seq: 1, type: 'bead.created', ts: '2025-06-15T12:00:01Z', actor: 'rig/mayor', subject: 'gc-1', payload: '{"id":1}' },
      { seq: 2, type: 'a/b', ts: '2025-06-15T12:00:02Z', actor: 'human' },
    ]);
    expect((await store.list({ actor: 'rig/mayor' }, signal())).map((e) => e.seq)).toEqual([1]);
    expect((await store.list({ actor: 'rig_mayor' }, signal())).map((e) => e.seq)).toEqual([]); // exact, not by label
    expect((await startWatch(store, 0).until(2)).map((e) => e.seq)).toEqual([1, 2]);

    await store.ensureRunning(signal());
    expect(ns.server.object('gc-events-seq')).toMatchObject({
      data: { seq: '2' },
      labels: { 'gc/component': 'event-seq', 'app.kubernetes.io/managed-by': 'gascity' },
    });
    expect((await store.record(parseEventInput('{"type":"session.woke","actor":"mayor"}'), signal())).seq).toBe(3);
  });

  it('writes events the script can read: its selectors and jq fields work', async () => {
    ns = new Namespace();
    const { store } = ns.daemon();
    await store.record(parseEventInput('{"type":"session.woke","actor":"mayor","ts":"2025-06-15T12:00:00Z","message":"m"}'), signal());
    const cm = ns.server.object('gc-evt-0000000001')!;
    // `kubectl get configmaps -l gc/component=event,gc/type=session.woke` finds it
    expect(parseSelector('gc/component=event,gc/type=session.woke,gc/actor=mayor')(cm.labels)).toBe(true);
    // jq '.data.event | fromjson | .seq, .ts'
    expect(JSON.parse(cm.data.event!)).toEqual({ seq: 1, type: 'session.woke', ts: '2025-06-15T12:00:00Z', actor: 'mayor', message: 'm' });
    // `kubectl get configmap gc-events-seq -o jsonpath={.data.seq}`
    expect(ns.server.object('gc-events-seq')!.data.seq).toBe('1');
  });
});
