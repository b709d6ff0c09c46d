// Pod compatibility: what a live pod was made with against what this start would make.
import { describe, expect, it } from 'vitest';
import { compatOf, incompatibilities } from '../../../src/session/compat.js';
import { buildAgentPod } from '../../../src/session/manifest.js';
import { DEFAULT_POD_SETTINGS, type PodSettings } from '../../../src/session/settings.js';
import { parseStartRequest } from '../../../src/session/request.js';

const request = parseStartRequest('{"command":"c","env":{"GC_AGENT":"a"}}');
const pod = (s: Partial<PodSettings>) => buildAgentPod('s', request, { ...DEFAULT_POD_SETTINGS, image: 'img:1', ...s });
const recorded = (s: Partial<PodSettings>) => pod(s).metadata.annotations!['gc-k8s.io/compat'];

describe('pod compatibility', () => {
  it('the same settings are compatible; each differing field is named old → new', () => {
    expect(incompatibilities(recorded({}), compatOf(pod({})))).toEqual([]);
    expect(incompatibilities(recorded({}), compatOf(pod({ image: 'img:2' })))).toEqual(['image: img:1 → img:2']);
    expect(incompatibilities(recorded({}), compatOf(pod({ serviceAccount: 'sa' })))).toEqual(['serviceAccount: (default) → sa']);
    expect(incompatibilities(recorded({}), compatOf(pod({ memLimit: '8Gi', cpuLimit: '' })))).toEqual([
      'resources: cpu 500m/2, memory 1Gi/4Gi → cpu 500m/-, memory 1Gi/8Gi',
    ]);
    expect(incompatibilities(recorded({}), compatOf(pod({ workspacePvc: 'ws' })))).toEqual(['workspace: emptyDir → claim ws']);
    expect(incompatibilities(recorded({}), compatOf(pod({ prebaked: true })))).toEqual(['workspace: emptyDir → image']);
  });

  it('settings that do not change the pod (timeouts, the nudge delay) do not make it incompatible', () => {
    expect(incompatibilities(recorded({ terminationGracePeriodSeconds: 30, historyLimit: 5 }), compatOf(pod({})))).toEqual([]);
  });

  it('a pod without a summary (an older version, upstream) or with an unreadable one is taken as it is', () => {
    const wanted = compatOf(pod({ image: 'other' }));
    expect(incompatibilities(undefined, wanted)).toEqual([]);
    expect(incompatibilities('{not json', wanted)).toEqual([]);
    expect(incompatibilities('{"image":7}', wanted)).toEqual([]);
  });
});
