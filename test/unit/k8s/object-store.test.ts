// The cache's in-memory store against lists and watch events that are behind it: a list taken
// while the watch ran, a watch restarted from an older version. Neither may delete an object the
// cache saw created after the list, nor take one back to an older version. (The events index
// takes a DELETED as proof of pruning, so a stale list used to make watchers skip live events.)
import { describe, expect, it } from 'vitest';
import { ObjectStore } from '../../../src/k8s/object-store.js';
import { compareResourceVersions } from '../../../src/k8s/resource-version.js';

interface Obj {
  name: string;
  resourceVersion: string;
}
const o = (name: string, resourceVersion: string): Obj => ({ name, resourceVersion });
const list = (...objects: Obj[]): Map<string, Obj> => new Map(objects.map((x) => [x.name, x]));

function store(...seed: Obj[]) {
  const s = new ObjectStore<Obj>(() => undefined);
  for (const x of seed) s.apply('ADDED', x);
  const events: string[] = [];
  s.subscribe((e) => events.push(`${e.type} ${e.object.name}@${e.object.resourceVersion}`));
  return { s, events };
}

describe('resourceVersion order', () => {
  it('compares decimal integers of any length, and nothing else', () => {
    expect(compareResourceVersions('9', '10')).toBe(-1);
    expect(compareResourceVersions('100000000000000000001', '100000000000000000000')).toBe(1);
    expect(compareResourceVersions('007', '7')).toBe(0);
    expect(compareResourceVersions('0', '0')).toBe(0);
    expect(compareResourceVersions('abc', '10')).toBeUndefined();
    expect(compareResourceVersions('', '10')).toBeUndefined();
  });
});

describe('ObjectStore against a list behind the watch', () => {
  it('replace keeps what is newer than the list and deletes only what the list should have held', () => {
    // a@13 was modified and c@12 created by the watch after the list (version 11) was taken; b@5 is gone
    const { s, events } = store(o('a', '13'), o('b', '5'), o('c', '12'));
    s.replace(list(o('a', '10'), o('d', '9')), '11');
    expect(events).toEqual(['DELETED b@5', 'ADDED d@9']);
    expect(
      s
        .list()
        .map((x) => `${x.name}@${x.resourceVersion}`)
        .sort(),
    ).toEqual(['a@13', 'c@12', 'd@9']);
  });

  it('with versions that do not compare, the list is the truth (as before)', () => {
    const { s, events } = store(o('a', 'x2'), o('c', 'x3'));
    s.replace(list(o('a', 'x1')), 'x1');
    expect(events).toEqual(['DELETED c@x3', 'MODIFIED a@x1']);
  });

  it('covers: a cache ahead of the list is not a miss; one lacking a listed object, or holding a deleted one, is', () => {
    const { s } = store(o('a', '13'), o('c', '12'));
    expect(s.covers(list(o('a', '10'), o('c', '12')), '12')).toBe(true);
    expect(s.covers(list(o('a', '10')), '11')).toBe(true); // c created after the list
    expect(s.covers(list(o('a', '10')), '12')).toBe(false); // c should have been listed: deleted
    expect(s.covers(list(o('a', '10'), o('e', '4')), '12')).toBe(false); // e missed by the cache
    expect(s.covers(list(o('a', '14'), o('c', '12')), '14')).toBe(false); // a's update missed
  });

  it('a replayed watch event older than what the cache holds changes nothing; newer ones apply', () => {
    const { s, events } = store(o('a', '13'), o('p', '16'));
    s.applyWatched('MODIFIED', o('a', '12'));
    s.applyWatched('DELETED', o('p', '14')); // p was deleted at 14 and re-created at 16
    s.applyWatched('MODIFIED', o('a', '15'));
    s.applyWatched('DELETED', o('p', '17'));
    expect(events).toEqual(['MODIFIED a@15', 'DELETED p@17']);
  });
});
