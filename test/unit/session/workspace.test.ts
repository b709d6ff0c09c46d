import { beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import { DEFAULT_POD_SETTINGS, type PodSettings } from '../../../src/session/settings.js';
import { DEFAULT_SESSION_OPTIONS } from '../../../src/session/options.js';
import { SessionProvider } from '../../../src/session/provider.js';
import { parseStartRequest } from '../../../src/session/request.js';
import { buildAgentPod } from '../../../src/session/manifest.js';
import { buildWorkspaceClaim, claimNameFor, sharedSubPath } from '../../../src/session/workspace.js';
import { READY_MARKER } from '../../../src/session/entrypoint.js';
import { silentLogger } from '../../../src/log/logger.js';
import { systemClock } from '../../../src/util/clock.js';
import { KeyedMutex } from '../../../src/util/keyed-mutex.js';
import { DirectRunner } from '../../../src/exec/runner.js';
import { FakeCluster } from '../../fakes/fake-cluster.js';

const CLAIM: PodSettings = { ...DEFAULT_POD_SETTINGS, image: 'gc-agent:test', workspace: 'claim', workspaceSize: '2Gi' };
const req = (json: object = { command: 'agent' }) => parseStartRequest(JSON.stringify(json));

describe('workspace builders', () => {
  it('names claims stably and never two sessions alike (as pod names)', () => {
    expect(claimNameFor('mayor')).toBe('ws-mayor');
    expect(claimNameFor('a/b')).not.toBe(claimNameFor('a-b'));
    expect(claimNameFor('mayor')).toBe(claimNameFor('mayor'));
    expect(sharedSubPath('a/b')).toMatch(/^sessions\/a-b-[0-9a-f]{8}$/);
  });

  it('a claim from the template: size, class, access mode and labels, ours winning', () => {
    const c = buildWorkspaceClaim(
      'mayor',
      {
        ...CLAIM,
        workspaceStorageClass: 'fast',
        workspaceAccessMode: 'ReadWriteOncePod',
        workspaceLabels: { backup: 'daily', 'app.kubernetes.io/managed-by': 'me' },
      },
      new Date(0),
    );
    expect(c.metadata.name).toBe('ws-mayor');
    expect(c.spec).toEqual({
      accessModes: ['ReadWriteOncePod'],
      resources: { requests: { storage: '2Gi' } },
      storageClassName: 'fast',
      volumeMode: 'Filesystem',
    });
    expect(c.metadata.labels).toMatchObject({
      backup: 'daily',
      'app.kubernetes.io/managed-by': 'gc-k8s',
      'app.kubernetes.io/component': 'agent-workspace',
    });
    expect(c.metadata.annotations).toEqual({ 'gc-session-name': 'mayor', 'gc-k8s.io/last-used': '1970-01-01T00:00:00.000Z' });
    // the cluster's default class: no storageClassName at all (an empty one would mean "no class")
    expect(buildWorkspaceClaim('mayor', CLAIM, new Date(0)).spec).not.toHaveProperty('storageClassName');
  });

  it('claim mode mounts the session claim at /workspace; shared mounts its subdirectory, made by an init step as the agent', () => {
    const claim = buildAgentPod('mayor', req(), CLAIM);
    expect(claim.spec.volumes?.[0]).toEqual({ name: 'ws', persistentVolumeClaim: { claimName: 'ws-mayor' } });
    expect(claim.spec.initContainers).toBeUndefined();
    const shared = buildAgentPod('mayor', req(), { ...CLAIM, workspace: 'shared', workspaceClaim: 'team' });
    expect(shared.spec.volumes?.[0]).toEqual({ name: 'ws', persistentVolumeClaim: { claimName: 'team' } });
    expect(shared.spec.containers[0]?.volumeMounts?.[0]).toEqual({ name: 'ws', mountPath: '/workspace', subPath: 'sessions/mayor' });
    const init = shared.spec.initContainers?.[0];
    expect(init?.command).toEqual(['/bin/sh', '-c', 'mkdir -p -- "$1" && chmod 0700 -- "$1"', 'sh', '/gc-k8s-shared/sessions/mayor']);
    expect(init?.securityContext).toMatchObject({ runAsNonRoot: true, allowPrivilegeEscalation: false });
    expect(shared.spec.securityContext?.fsGroup).toBe(1000);
    // the workspace is part of what makes two pods of a session interchangeable
    expect(shared.metadata.annotations?.['gc-k8s.io/compat']).toContain('claim team sessions/mayor');
  });
});

describe('workspace config', () => {
  const load = (env: Record<string, string>) => loadConfig({ env, cityToml: '' });

  it('reads the keys; bad values and combinations fail naming the key', () => {
    const c = load({ GC_K8S_WORKSPACE: 'claim', GC_K8S_WORKSPACE_SIZE: '500Mi', GC_K8S_WORKSPACE_RECLAIM: 'delete' });
    expect([c.pod.workspace, c.pod.workspaceSize, c.pod.workspaceReclaim]).toEqual(['claim', '500Mi', 'delete']);
    expect(() => load({ GC_K8S_WORKSPACE_SIZE: 'ten gigs' })).toThrow(/GC_K8S_WORKSPACE_SIZE/);
    expect(() => load({ GC_K8S_WORKSPACE_SIZE: '500m' })).toThrow(/GC_K8S_WORKSPACE_SIZE: expected a storage size/);
    expect(() => load({ GC_K8S_WORKSPACE_RECLAIM: 'later' })).toThrow(/GC_K8S_WORKSPACE_RECLAIM/);
    expect(() => load({ GC_K8S_WORKSPACE: 'nfs' })).toThrow(/GC_K8S_WORKSPACE/);
    expect(() => load({ GC_K8S_WORKSPACE_LABELS: '{"bad key!":"x"}' })).toThrow(/GC_K8S_WORKSPACE_LABELS: invalid label key/);
    expect(() => load({ GC_K8S_WORKSPACE: 'shared' })).toThrow(/needs workspace_claim/);
    expect(() => load({ GC_K8S_WORKSPACE: 'claim', GC_K8S_WORKSPACE_PVC: 'one' })).toThrow(/exclude each other/);
  });
});

describe('sessions with a kept workspace', () => {
  let fake: FakeCluster;
  let provider: SessionProvider;
  const signal = () => AbortSignal.timeout(5_000);
  function make(settings: Partial<PodSettings> = {}) {
    provider = new SessionProvider({
      client: fake,
      settings: { ...CLAIM, ...settings },
      options: { ...DEFAULT_SESSION_OPTIONS, settleMs: 0, containerExitWaitMs: 150, diedReportWaitMs: 250 },
      clock: systemClock,
      log: silentLogger(),
      locks: new KeyedMutex(),
      runner: new DirectRunner(fake.exec),
    });
  }
  beforeEach(() => {
    fake = new FakeCluster();
    make();
  });

  it('start makes the claim before the pod; stop keeps it; the next start mounts the same one', async () => {
    await provider.start('mayor', req(), signal());
    expect(fake.calls.slice(0, 2)).toEqual(['create claim ws-mayor', 'create mayor']);
    const uid = fake.claimObjects.get('ws-mayor')?.uid;
    await provider.stop('mayor', signal());
    expect(fake.claimObjects.get('ws-mayor')?.uid).toBe(uid);
    fake.calls.length = 0;
    await provider.start('mayor', req(), signal());
    expect(fake.calls).not.toContain('create claim ws-mayor');
    expect(fake.claimObjects.get('ws-mayor')?.uid).toBe(uid);
  });

  it('workspace_reclaim = "delete": stop removes the claim', async () => {
    make({ workspaceReclaim: 'delete' });
    await provider.start('mayor', req(), signal());
    await provider.stop('mayor', signal());
    expect(fake.claimObjects.has('ws-mayor')).toBe(false);
  });

  it('a claim that cannot be provisioned fails the start naming the class, and leaves no claim and no pod', async () => {
    fake.claimProvisioning = 'fail';
    make({ workspaceStorageClass: 'nope' });
    await expect(provider.start('mayor', req(), signal())).rejects.toThrow(
      /workspace claim ws-mayor cannot be provisioned: ProvisioningFailed: storageclass.storage.k8s.io "nope" not found/,
    );
    expect(fake.claimObjects.size).toBe(0);
    expect(fake.calls).not.toContain('create mayor');
  });

  it("a claim of that name that is not the session's is never taken over", async () => {
    await fake.claims.create(
      { ...buildWorkspaceClaim('other', CLAIM, new Date()), metadata: { name: 'ws-mayor', annotations: { 'gc-session-name': 'other' } } },
      { signal: signal() },
    );
    await expect(provider.start('mayor', req(), signal())).rejects.toThrow(
      /claim ws-mayor is not the workspace of session "mayor" \(it belongs to "other"\)/,
    );
    expect(fake.calls).not.toContain('create mayor');
  });

  it('a failed start removes the claim it made, never one the session already had', async () => {
    fake.kubelet = (pod, f) => {
      queueMicrotask(() => {
        f.update(pod.name, { phase: 'Failed' });
      });
    };
    await expect(provider.start('mayor', req(), signal())).rejects.toThrow();
    expect(fake.claimObjects.has('ws-mayor')).toBe(false);
    await fake.claims.create(buildWorkspaceClaim('mayor', CLAIM, new Date()), { signal: signal() });
    await expect(provider.start('mayor', req(), signal())).rejects.toThrow();
    expect(fake.claimObjects.has('ws-mayor')).toBe(true);
  });

  it('a shared claim that does not exist is a clear error before any pod', async () => {
    make({ workspace: 'shared', workspaceClaim: 'team' });
    await expect(provider.start('mayor', req(), signal())).rejects.toThrow(/shared workspace claim "team" does not exist in namespace gc/);
    expect(fake.calls).not.toContain('create mayor');
  });

  it('stages a kept workspace once: a later pod finds the marker and copies nothing', async () => {
    const staged = req({ command: 'agent', copy_files: [{ src: '/etc/hostname', rel_dst: 'h' }] });
    fake.stagedWorkspaces.add(READY_MARKER);
    await provider.start('mayor', staged, signal());
    expect(fake.execs.some((e) => e.command.join(' ').includes('tar'))).toBe(false);
    expect(fake.execs.some((e) => e.command.join(' ') === `test -f ${READY_MARKER}`)).toBe(true);
  });
});
