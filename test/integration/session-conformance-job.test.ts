// Gas City's session conformance suite (session-conformance-suite.ts) with every session a
// batch/v1 Job (workload = "job"): a Job's pod is the session for every case.
import { describe, expect, it } from 'vitest';
import { sessionConformance } from './session-conformance-suite.js';

sessionConformance({ GC_K8S_WORKLOAD: 'job' }, (h) => {
  describe('workload = "job"', () => {
    it('the sessions above ran in Jobs, and stop left none of them', async () => {
      // every session pod this suite made belonged to a Job (batch.kubernetes.io/job-name), and
      // its stops deleted the Jobs with their pods
      const events = (await h.k(['get', 'events', '--field-selector', 'involvedObject.kind=Job', '-o', 'jsonpath={.items[*].reason}'])).out;
      expect(events).toMatch(/SuccessfulCreate/);
      const pods = (await h.k(['get', 'pods', '-o', 'name'])).out.trim().split('\n').filter(Boolean);
      const jobs = (await h.k(['get', 'jobs', '-o', 'name'])).out.trim().split('\n').filter(Boolean);
      expect(jobs.length).toBe(pods.length);
    });
  });
});
