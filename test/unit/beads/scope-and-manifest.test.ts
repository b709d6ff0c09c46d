// Store root → runner directory (upstream's mapping, with a clear refusal outside the city), and
// the runner pod manifest.
import { describe, expect, it } from 'vitest';
import { runnerWorkdir, storeScope } from '../../../src/beads/scope.js';
import { RUNNER_POD, runnerManifest, SPEC_ANNOTATION } from '../../../src/beads/runner/manifest.js';
import { doltCoordinates } from '../../../src/beads/dolt/coordinates.js';
import { DEFAULT_POD_SETTINGS } from '../../../src/session/settings.js';

describe('runner workdir', () => {
  it.each([
    ['', '/city', '/workspace'],
    ['/workspace', '', '/workspace'],
    ['/workspace/rigs/a', '/city', '/workspace/rigs/a'],
    ['/city', '/city', '/workspace'],
    ['/city/', '/city', '/workspace'],
    ['/city/rigs/alpha', '/city/', '/workspace/rigs/alpha'],
    ['/city/rigs/../rigs/b', '/city', '/workspace/rigs/b'],
  ])('%j under city %j → %j', (root, city, want) => {
    expect(runnerWorkdir(root, city)).toBe(want);
  });

  it('refuses roots outside the city, and look-alike prefixes', () => {
    expect(() => runnerWorkdir('/elsewhere', '/city')).toThrow('store root /elsewhere is outside city root /city');
    expect(() => runnerWorkdir('/city2/x', '/city')).toThrow(/outside city root/);
    expect(() => runnerWorkdir('/city/x', '')).toThrow(/GC_CITY_PATH/);
    expect(() => runnerWorkdir('rel', '/city')).toThrow(/not an absolute path/);
  });

  it('takes GC_STORE_ROOT, else the init dir; GC_CITY_PATH, else GC_CITY', () => {
    expect(storeScope({ GC_CITY: '/c', GC_STORE_ROOT: '/c/r', GC_BEADS_PREFIX: 'p' })).toEqual({ workdir: '/workspace/r', prefix: 'p' });
    expect(storeScope({ GC_CITY_PATH: '/c' }, '/c/x', 'q')).toEqual({ workdir: '/workspace/x', prefix: 'q' });
  });
});

describe('dolt coordinates', () => {
  it('replaces a loopback host by the in-cluster Service and requires a port with a host', () => {
    expect(doltCoordinates({ GC_DOLT_HOST: '127.0.0.1', GC_DOLT_PORT: '3307' }, DEFAULT_POD_SETTINGS)).toEqual({
      host: 'dolt.gc.svc.cluster.local',
      port: '3307',
      user: 'root',
    });
    expect(doltCoordinates({ GC_DOLT_HOST: 'db.example', GC_DOLT_PORT: '4000', GC_DOLT_USER: 'gc' }, DEFAULT_POD_SETTINGS)).toEqual({
      host: 'db.example',
      port: '4000',
      user: 'gc',
    });
    expect(() => doltCoordinates({ GC_DOLT_HOST: 'db.example' }, DEFAULT_POD_SETTINGS)).toThrow(
      'requires both GC_DOLT_HOST and GC_DOLT_PORT (only GC_DOLT_HOST is set)',
    );
    // 1.x refuses the other half too (a port alone no longer means "the managed Dolt")
    expect(() => doltCoordinates({ GC_DOLT_PORT: '3307' }, DEFAULT_POD_SETTINGS)).toThrow(
      'requires both GC_DOLT_HOST and GC_DOLT_PORT (only GC_DOLT_PORT is set)',
    );
  });
});

describe('runner manifest', () => {
  const m = runnerManifest({ ...DEFAULT_POD_SETTINGS, image: 'img:1', imagePullSecret: 'pull' });
  const c = m.spec.containers[0]!;

  it('is the singleton, labelled as upstream, hardened, with the requested resources and no token', () => {
    expect(m.metadata.name).toBe(RUNNER_POD);
    expect(m.metadata.labels).toEqual({ 'app.kubernetes.io/managed-by': 'gascity', 'gc/component': 'beads-runner' });
    expect(m.spec).toMatchObject({
      restartPolicy: 'Never',
      automountServiceAccountToken: false,
      securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } },
      imagePullSecrets: [{ name: 'pull' }],
    });
    expect(c).toMatchObject({
      image: 'img:1',
      securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, runAsNonRoot: true },
    });
    expect(c.resources).toEqual({ requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '512Mi' } });
    // one P per bd process, so a bd start-up is not throttled against the 500m limit
    expect(c.env).toContainEqual({ name: 'GOMAXPROCS', value: '1' });
    expect(m.spec.serviceAccountName).toBeUndefined();
  });

  it('references the Dolt password, never embeds it', () => {
    const pw = c.env?.find((e) => e.name === 'BEADS_DOLT_PASSWORD');
    expect(pw).toEqual({
      name: 'BEADS_DOLT_PASSWORD',
      valueFrom: { secretKeyRef: { name: 'gc-dolt-credentials', key: 'password', optional: true } },
    });
  });

  it('carries a spec hash that changes with the image', () => {
    const other = runnerManifest({ ...DEFAULT_POD_SETTINGS, image: 'img:2' });
    expect(m.metadata.annotations?.[SPEC_ANNOTATION]).toMatch(/^[0-9a-f]{8}$/);
    expect(other.metadata.annotations?.[SPEC_ANNOTATION]).not.toBe(m.metadata.annotations?.[SPEC_ANNOTATION]);
  });
});
