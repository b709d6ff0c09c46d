// Which waiting reasons end a start at once, and which the kubelet gets over by itself.
import { describe, expect, it } from 'vitest';
import { fatalReason } from '../../../src/session/diagnose.js';
import { FakeCluster, waiting } from '../../fakes/fake-cluster.js';

const pod = (reason: string, message: string) => new FakeCluster().makePod({ name: 'p', containers: [waiting(reason, message)] });

describe('fatalReason', () => {
  it('a missing Secret or a crash loop ends the start, naming it', () => {
    expect(fatalReason(pod('CreateContainerConfigError', 'secret "team-keys" not found'))).toMatch(
      /CreateContainerConfigError \(secret "team-keys" not found\)/,
    );
    expect(fatalReason(pod('CrashLoopBackOff', 'back-off 10s'))).toMatch(/CrashLoopBackOff/);
  });

  it("the kubelet's Secret or ConfigMap cache not synced yet is waited for", () => {
    expect(
      fatalReason(pod('CreateContainerConfigError', 'failed to sync secret cache: timed out waiting for the condition')),
    ).toBeUndefined();
    expect(
      fatalReason(pod('CreateContainerConfigError', 'failed to sync configmap cache: timed out waiting for the condition')),
    ).toBeUndefined();
  });
});
