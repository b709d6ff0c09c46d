import { describe, expect, it } from 'vitest';
import { buildAgentPod, buildAgentSession, needsStaging } from '../../../src/session/manifest.js';
import { buildPodEnv, isCredential, projectDolt } from '../../../src/session/env.js';
import { DEFAULT_POD_SETTINGS, type PodSettings } from '../../../src/session/settings.js';
import { parseStartRequest } from '../../../src/session/request.js';
import { rewriteCityPath, podWorkDir, safeJoin } from '../../../src/session/paths.js';

const settings: PodSettings = { ...DEFAULT_POD_SETTINGS, image: 'gc-agent:test' };
const req = (json: object) => parseStartRequest(JSON.stringify(json));

describe('1.x scheduling, identity and workspace settings', () => {
  const request = req({ command: 'c', env: { GC_AGENT: 'rig-a/polecat', GC_CITY: '/c', TZ: 'Europe/Paris' } });

  it('node selector, tolerations, affinity and priority class go into the pod spec; none of them by default', () => {
    const plain = buildAgentPod('s', request, settings).spec;
    for (const key of ['nodeSelector', 'tolerations', 'affinity', 'priorityClassName']) expect(plain).not.toHaveProperty(key);
    const spec = buildAgentPod('s', request, {
      ...settings,
      nodeSelector: { pool: 'agents' },
      tolerations: [{ key: 'agents', operator: 'Exists', effect: 'NoSchedule' }],
      affinity: { nodeAffinity: {} },
      priorityClassName: 'gc-agents',
    }).spec;
    expect(spec).toMatchObject({
      nodeSelector: { pool: 'agents' },
      tolerations: [{ key: 'agents', operator: 'Exists', effect: 'NoSchedule' }],
      affinity: { nodeAffinity: {} },
      priorityClassName: 'gc-agents',
    });
  });

  it('the service-account map matches the alias, the name, its last segment, then "*", then the default', () => {
    const sa = (map: Record<string, string>, env: Record<string, string> = {}) =>
      buildAgentPod('s', req({ command: 'c', env: { GC_AGENT: 'rig-a/polecat', ...env } }), {
        ...settings,
        serviceAccount: 'gc-default',
        serviceAccountMap: map,
      }).spec.serviceAccountName;
    expect(sa({})).toBe('gc-default');
    expect(sa({ '*': 'any' })).toBe('any');
    expect(sa({ '*': 'any', polecat: 'pc' })).toBe('pc');
    expect(sa({ polecat: 'pc', 'rig-a/polecat': 'full' })).toBe('full');
    expect(sa({ 'rig-a/polecat': 'full', boss: 'b' }, { GC_ALIAS: 'boss' })).toBe('b');
  });

  it("agent env sits under the session's env, and credentials in it are still Secret references", () => {
    const pod = buildAgentSession('s', request, { ...settings, agentEnv: { TZ: 'UTC', LANG: 'C.UTF-8', EXTRA_API_KEY: 'k' } });
    const env = new Map(pod.pod.spec.containers[0]!.env!.map((e) => [e.name, e]));
    expect(env.get('TZ')?.value).toBe('Europe/Paris');
    expect(env.get('LANG')?.value).toBe('C.UTF-8');
    expect(env.get('EXTRA_API_KEY')?.value).toBeUndefined();
    expect(env.get('EXTRA_API_KEY')?.valueFrom?.secretKeyRef?.key).toBe('EXTRA_API_KEY');
    expect(JSON.stringify(pod.pod)).not.toContain('"k"');
  });

  it('CPU limit none leaves only the memory limit; a workspace claim replaces the emptyDir and staging', () => {
    const c = buildAgentPod('s', request, { ...settings, cpuLimit: '' }).spec.containers[0]!;
    expect(c.resources?.limits).toEqual({ memory: '4Gi' });
    expect(c.resources?.requests).toEqual({ cpu: '500m', memory: '1Gi' });
    const staged = req({ command: 'c', work_dir: '/c/rig', env: { GC_CITY: '/c' }, copy_files: [{ src: '/x', rel_dst: 'x' }] });
    expect(needsStaging(staged, settings)).toBe(true);
    const claimed = { ...settings, workspacePvc: 'city-ws' };
    expect(needsStaging(staged, claimed)).toBe(false);
    const pod = buildAgentPod('s', staged, claimed);
    expect(pod.spec.volumes?.find((v) => v.name === 'ws')).toEqual({ name: 'ws', persistentVolumeClaim: { claimName: 'city-ws' } });
    expect(pod.spec.containers[0]!.volumeMounts).toContainEqual({ name: 'ws', mountPath: '/workspace' });
  });

  it('records what makes two pods of a session interchangeable', () => {
    const a = buildAgentPod('s', request, settings).metadata.annotations!['gc-k8s.io/compat'];
    expect(JSON.parse(a!)).toEqual({
      image: 'gc-agent:test',
      serviceAccount: '(default)',
      resources: 'cpu 500m/2, memory 1Gi/4Gi',
      workspace: 'emptyDir',
    });
  });
});

describe('buildAgentPod', () => {
  const pod = buildAgentPod(
    'demo/coder',
    req({
      command: 'claude --x',
      work_dir: '/home/u/city/demo-rig',
      env: { GC_CITY: '/home/u/city', GC_AGENT: 'coder', GC_SESSION_ID: 's-1' },
      pre_start: ['echo hi'],
    }),
    settings,
  );
  const container = pod.spec.containers[0]!;
  const env = new Map(container.env!.map((e) => [e.name, e]));

  it('keeps the labels, annotation, container and restart policy of the upstream providers', () => {
    expect(pod.metadata.labels).toMatchObject({ app: 'gc-agent', 'gc-session': 'demo-coder', 'gc-agent': 'coder' });
    expect(pod.metadata.annotations!['gc-session-name']).toBe('demo/coder');
    expect(pod.metadata.name).toMatch(/^demo-coder-[0-9a-f]{8}$/);
    expect(container.name).toBe('agent');
    expect(pod.spec.restartPolicy).toBe('Never');
    expect(container.workingDir).toBe('/workspace/demo-rig');
    expect(container.imagePullPolicy).toBe('IfNotPresent');
  });

  it('a provisioned box is the same pod, marked, with the entrypoint told not to launch the agent', () => {
    const request = req({ command: 'claude --x', env: { GC_CITY: '/home/u/city' }, pre_start: ['echo hi'] });
    const started = buildAgentSession('demo/coder', request, settings).pod;
    const boxed = buildAgentSession('demo/coder', request, settings, undefined, 'provision').pod;
    expect(started.metadata.annotations!['gc-k8s.io/mode']).toBeUndefined();
    expect(boxed.metadata.annotations!['gc-k8s.io/mode']).toBe('provisioned');
    const boxEnv = boxed.spec.containers[0]!.env!;
    expect(boxEnv).toContainEqual({ name: 'GC_K8S_PROVISION', value: '1' });
    expect(started.spec.containers[0]!.env!.some((e) => e.name === 'GC_K8S_PROVISION')).toBe(false);
    // everything else (image, pre_start, security, resources) is what start makes
    expect(boxEnv.filter((e) => e.name !== 'GC_K8S_PROVISION')).toEqual(started.spec.containers[0]!.env);
    expect(boxed.spec.securityContext).toEqual(started.spec.securityContext);
  });

  it('is secure by default: no token, non-root, nothing escalates, fast termination', () => {
    expect(pod.spec.automountServiceAccountToken).toBe(false);
    expect(pod.spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } });
    expect(container.securityContext).toMatchObject({ allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    expect(pod.spec.terminationGracePeriodSeconds).toBe(5);
  });

  it('mounts ws at /workspace and an emptyDir at the controller city path', () => {
    expect(container.volumeMounts).toEqual(
      expect.arrayContaining([
        { name: 'ws', mountPath: '/workspace' },
        { name: 'city', mountPath: '/home/u/city' },
        { name: 'claude-config', mountPath: '/tmp/claude-secret', readOnly: true },
      ]),
    );
  });

  it('passes command, pre_start and session env through environment variables, not the script', () => {
    expect(env.get('GC_K8S_COMMAND')?.value).toBe('claude --x');
    expect(env.get('GC_K8S_PRE_START_COUNT')?.value).toBe('1');
    expect(env.get('GC_K8S_PRE_START_1')?.value).toBe('echo hi');
    expect(env.get('GC_K8S_SESSION_ENV')?.value?.split(' ')).toEqual(
      expect.arrayContaining(['GC_SESSION_ID', 'GC_CITY', 'GC_TMUX_SESSION']),
    );
    expect(container.command?.[2]).not.toContain('claude --x');
  });

  it('remaps city paths to /workspace', () => {
    expect(env.get('GC_CITY')?.value).toBe('/workspace');
    expect(env.get('GC_DIR')).toBeUndefined();
  });

  it('uses no security context at pod_security=none and no image default user assumption at baseline', () => {
    const none = buildAgentPod('x', req({}), { ...settings, podSecurity: 'none' });
    expect(none.spec.securityContext).toBeUndefined();
    expect(none.spec.containers[0]!.securityContext).toBeUndefined();
    const baseline = buildAgentPod('x', req({}), { ...settings, podSecurity: 'baseline' });
    expect(baseline.spec.securityContext).toBeUndefined();
    expect(baseline.spec.containers[0]!.securityContext?.runAsNonRoot).toBeUndefined();
  });

  it('prebaked images get no workspace volume and no staging', () => {
    const p = buildAgentPod('x', req({ overlay_dir: '/o' }), { ...settings, prebaked: true });
    expect(p.spec.volumes!.map((v) => v.name)).toEqual(['claude-config']);
    expect(needsStaging(req({ overlay_dir: '/o' }), { ...settings, prebaked: true })).toBe(false);
  });
});

describe('buildPodEnv', () => {
  it('projects loopback Dolt to the managed alias and keeps remote hosts', () => {
    expect(projectDolt({ GC_DOLT_HOST: '127.0.0.1', GC_DOLT_PORT: '33061' }, settings)).toEqual({
      host: 'dolt.gc.svc.cluster.local',
      port: '3307',
    });
    expect(projectDolt({ GC_DOLT_HOST: 'db.example', GC_DOLT_PORT: '3306' }, settings)).toEqual({ host: 'db.example', port: '3306' });
    expect(projectDolt({ GC_DOLT_PORT: '3306' }, settings)).toEqual({ host: 'dolt.gc.svc.cluster.local', port: '3307' });
    expect(projectDolt({}, settings)).toBeUndefined();
    expect(() => projectDolt({ GC_DOLT_HOST: 'db' }, settings)).toThrow(/requires both GC_DOLT_HOST and GC_DOLT_PORT/);
  });

  it('never puts passwords in the pod spec: they are Secret references', () => {
    const { env } = buildPodEnv({ GC_DOLT_PASSWORD: 'hunter2', BEADS_DOLT_PASSWORD: 'x' }, '', settings, 's-credentials');
    const pw = env.find((e) => e.name === 'GC_DOLT_PASSWORD');
    expect(pw?.value).toBeUndefined();
    expect(pw?.valueFrom?.secretKeyRef).toEqual({ name: 'gc-dolt-credentials', key: 'password', optional: true });
    expect(JSON.stringify(env)).not.toContain('hunter2');
  });

  it('projects every credential from the session Secret by reference: no value in the pod spec, none in tmux', () => {
    const secrets = {
      ANTHROPIC_API_KEY: 'sk-ant-123',
      OPENAI_API_KEY: 'sk-oai',
      GH_TOKEN: 'ghp_x',
      MY_SECRET_THING: 's3',
      DB_PASSWORD: 'pw',
      AWS_SECRET_ACCESS_KEY: 'aws',
    };
    const { env, sessionEnvKeys, credentials } = buildPodEnv(
      { ...secrets, GC_SESSION_ID: 'abc', PLAIN_VALUE: 'plain' },
      '',
      settings,
      'mayor-credentials',
    );
    for (const name of Object.keys(secrets)) {
      expect(env.find((e) => e.name === name)).toEqual({ name, valueFrom: { secretKeyRef: { name: 'mayor-credentials', key: name } } });
      expect(sessionEnvKeys).not.toContain(name);
    }
    expect(credentials).toEqual(secrets);
    const spec = JSON.stringify(env);
    for (const value of Object.values(secrets)) expect(spec).not.toContain(value);
    expect(env.find((e) => e.name === 'PLAIN_VALUE')?.value).toBe('plain');
    // the session's own GITHUB_TOKEN wins over upstream's git-credentials convention
    expect(
      buildPodEnv({ GITHUB_TOKEN: 'mine' }, '', settings, 'x').env.find((e) => e.name === 'GITHUB_TOKEN')?.valueFrom?.secretKeyRef,
    ).toEqual({ name: 'x', key: 'GITHUB_TOKEN' });
    expect(buildPodEnv({}, '', settings, 'x').env.find((e) => e.name === 'GITHUB_TOKEN')?.valueFrom?.secretKeyRef).toEqual({
      name: 'git-credentials',
      key: 'token',
      optional: true,
    });
  });

  it('what counts as a credential is configurable (globs, case-insensitive)', () => {
    expect(isCredential('anthropic_api_key', ['*_API_KEY'])).toBe(true);
    expect(isCredential('MY_KEY', ['*_API_KEY'])).toBe(false);
    expect(isCredential('a.b', ['a.b'])).toBe(true);
    expect(isCredential('axb', ['a.b'])).toBe(false); // dots are literal
    const custom = { ...settings, credentialEnv: ['VENDOR_*'] };
    expect(buildPodEnv({ VENDOR_KEY: 'v', OTHER_TOKEN: 't' }, '', custom, 'x').credentials).toEqual({ VENDOR_KEY: 'v' });
  });

  it('a session with credentials is gated until its Secret exists; the Secret is named after the pod and holds the values', () => {
    const session = buildAgentSession('mayor', req({ command: 'agent', env: { ANTHROPIC_API_KEY: 'sk-1' } }), settings);
    expect(session.pod.spec.schedulingGates).toEqual([{ name: 'gc-k8s.io/credentials' }]);
    expect(session.credentials?.metadata.name).toBe('mayor-credentials');
    expect(session.credentials?.data).toEqual({ ANTHROPIC_API_KEY: Buffer.from('sk-1').toString('base64') });
    expect(session.credentials?.immutable).toBe(true);
    expect(JSON.stringify(session.pod)).not.toContain('sk-1');
    expect(buildAgentSession('plain', req({ command: 'agent' }), settings).pod.spec.schedulingGates).toBeUndefined();
  });

  it('drops provider selectors, sorts deterministically and adds GC_TMUX_SESSION', () => {
    const { env } = buildPodEnv({ Z: '1', A: '2', GC_SESSION: 'exec:x', GC_BEADS: 'b', GC_EVENTS: 'e' }, '', settings, 's-credentials');
    const names = env.map((e) => e.name);
    expect(names).toEqual([...names].sort());
    expect(names).not.toContain('GC_SESSION');
    expect(env.find((e) => e.name === 'GC_TMUX_SESSION')?.value).toBe('main');
  });

  it('remaps store and rig roots under the city', () => {
    const { env } = buildPodEnv(
      { GC_CITY: '/c', GC_STORE_ROOT: '/c/rig1', GC_RIG_ROOT: '/elsewhere', GC_DIR: '/c/rig1' },
      '/c/rig1',
      settings,
      's-credentials',
    );
    const get = (n: string) => env.find((e) => e.name === n)?.value;
    expect(get('GC_STORE_ROOT')).toBe('/workspace/rig1');
    expect(get('GC_RIG_ROOT')).toBe('/elsewhere');
    expect(get('GC_DIR')).toBe('/workspace/rig1');
  });
});

describe('paths', () => {
  it('rewrites the city path only as a whole path', () => {
    expect(rewriteCityPath('cd /city/rig && run /cityscape/x "/city"', '/city')).toBe('cd /workspace/rig && run /cityscape/x "/workspace"');
  });
  it('maps work dirs outside the city to /workspace', () => {
    expect(podWorkDir('/tmp', '')).toBe('/workspace');
    expect(podWorkDir('/other/x', '/city')).toBe('/workspace');
  });
  it('refuses destinations that escape the workspace', () => {
    expect(safeJoin('/workspace', '../etc')).toBeUndefined();
    expect(safeJoin('/workspace', '/etc')).toBeUndefined();
    expect(safeJoin('/workspace', 'a/../b')).toBe('/workspace/b');
  });
});

describe('parseStartRequest', () => {
  it('rejects bad JSON and wrong types with a clear message', () => {
    expect(() => parseStartRequest('{')).toThrow(/invalid JSON/);
    expect(() => parseStartRequest('[]')).toThrow(/JSON object/);
    expect(() => parseStartRequest('{"env":{"A":{}}}')).toThrow(/env "A"/);
    expect(() => parseStartRequest('{"copy_files":[{"src":""}]}')).toThrow(/copy_files\[0\]/);
  });
  it('accepts the full payload gc sends', () => {
    const r = parseStartRequest(
      JSON.stringify({
        work_dir: '/w',
        command: 'c',
        env: { A: 'b', N: 3 },
        ready_delay_ms: 10,
        process_names: ['claude'],
        nudge: 'hi',
        copy_files: [{ src: '/s', rel_dst: 'd' }],
        pack_overlay_dirs: ['/p'],
      }),
    );
    expect(r.env).toEqual({ A: 'b', N: '3' });
    expect(r.copyFiles).toEqual([{ src: '/s', relDst: 'd' }]);
    expect(r.processNames).toEqual(['claude']);
  });
});
