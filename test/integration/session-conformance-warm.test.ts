// Gas City's session conformance suite (session-conformance-suite.ts) with a warm pool: starts
// claim warm pods, and every case must still hold.
import { describe, expect, it } from 'vitest';
import { sessionConformance } from './session-conformance-suite.js';

sessionConformance({ GC_K8S_WARM_POOL: '3' }, (h) => {
  describe('warm pool', () => {
    it('the sessions above run in claimed warm pods', async () => {
      const claimed = (await h.k(['get', 'pods', '-l', 'gc-k8s.io/warm=claimed', '-o', 'name'])).out.trim().split('\n').filter(Boolean);
      expect(claimed.length).toBeGreaterThan(0);
      expect(claimed.every((p) => p.startsWith('pod/gc-warm-'))).toBe(true);
    });
  });
});
