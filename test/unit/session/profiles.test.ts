// Per-role profiles: the TOML and JSON forms parsed by the table's own rows, which profile an
// agent gets, and the pod a start makes with it (resources, priority, identity, env, Secrets by
// reference, never a value).
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import { buildAgentSession } from '../../../src/session/manifest.js';
import { parseStartRequest } from '../../../src/session/request.js';
import { profileFor, settingsForStart } from '../../../src/session/profiles.js';
import { warmIneligibility } from '../../../src/session/warm.js';

const TOML = `
[session.k8s]
image = "gc-agent:base"
agent_env = { TEAM = "core", LEVEL = "city" }
profile_map = { "mayor" = "big", "*-reviewer" = "small", "*" = "small" }

[session.k8s.profiles.big]
cpu_request = "2"
mem_request = "4Gi"
cpu_limit = "none"
mem_limit = "8Gi"
priority_class_name = "gc-high"
service_account = "gc-builder"
node_selector = { pool = "big" }
tolerations = [{ key = "dedicated", operator = "Equal", value = "agents", effect = "NoSchedule" }]
agent_env = { LEVEL = "big" }
secret_env = { ANTHROPIC_API_KEY = "anthropic/api-key" }
secret_files = { "/home/gcagent/.ssh/id_ed25519" = "git-ssh/key" }
workspace_size = "50Gi"

[session.k8s.profiles.small]
cpu_request = "100m"
mem_request = "256Mi"
priority_class_name = "gc-low"
`;

const load = (toml: string, env: Record<string, string> = {}) => loadConfig({ env, cityToml: '/city/city.toml', readFile: () => toml });
const agent = (env: Record<string, string>) => ({ command: 'agent', env });

describe('profiles', () => {
  it('parses [session.k8s.profiles.<name>] with the same rules as the top-level keys', () => {
    const { pod } = load(TOML);
    expect(pod.profiles['big']).toEqual({
      cpuRequest: '2',
      memRequest: '4Gi',
      cpuLimit: '',
      memLimit: '8Gi',
      priorityClassName: 'gc-high',
      serviceAccount: 'gc-builder',
      nodeSelector: { pool: 'big' },
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'agents', effect: 'NoSchedule' }],
      agentEnv: { LEVEL: 'big' },
      secretEnv: { ANTHROPIC_API_KEY: { secret: 'anthropic', key: 'api-key' } },
      secretFiles: [{ mountPath: '/home/gcagent/.ssh/id_ed25519', secret: 'git-ssh', key: 'key' }],
      workspaceSize: '50Gi',
    });
    // the JSON env form is the same thing
    const json = load('', {
      GC_K8S_PROFILES_JSON: JSON.stringify({ tiny: { cpu_request: '50m' } }),
      GC_K8S_PROFILE_MAP_JSON: '{"*":"tiny"}',
    });
    expect(json.pod.profiles).toEqual({ tiny: { cpuRequest: '50m' } });
  });

  it('an exact agent name wins over a pattern, patterns go in order, * last; no map entry: the city defaults', () => {
    const { pod } = load(TOML);
    expect(profileFor(pod, { GC_AGENT: 'mayor' })).toBe('big');
    expect(profileFor(pod, { GC_AGENT: 'rigs/alpha/mayor' })).toBe('big'); // its last segment
    expect(profileFor(pod, { GC_ALIAS: 'mayor', GC_AGENT: 'x-reviewer' })).toBe('big');
    expect(profileFor(pod, { GC_AGENT: 'code-reviewer' })).toBe('small');
    expect(profileFor(pod, { GC_AGENT: 'polecat' })).toBe('small');
    expect(profileFor(load('[session.k8s]\nimage = "x"\n').pod, { GC_AGENT: 'mayor' })).toBeUndefined();
    expect(settingsForStart(load('[session.k8s]\nimage = "x"\n').pod, { GC_AGENT: 'mayor' }).profileName).toBe('');
  });

  it("a start's pod has its profile's resources, priority, identity, env and Secret references, and no secret value", () => {
    const { pod: city } = load(TOML);
    const req = parseStartRequest(JSON.stringify(agent({ GC_AGENT: 'mayor', ANTHROPIC_API_KEY: 'sk-from-session' })));
    const settings = settingsForStart(city, req.env);
    const { pod, credentials } = buildAgentSession('mayor', req, settings);
    const c = pod.spec.containers[0]!;
    expect(c.resources).toEqual({ requests: { cpu: '2', memory: '4Gi' }, limits: { memory: '8Gi' } });
    expect(pod.spec).toMatchObject({ priorityClassName: 'gc-high', serviceAccountName: 'gc-builder', nodeSelector: { pool: 'big' } });
    expect(pod.metadata.annotations?.['gc-k8s.io/profile']).toBe('big');
    const env = new Map(c.env?.map((e) => [e.name, e]));
    expect(env.get('LEVEL')?.value).toBe('big');
    expect(env.get('TEAM')?.value).toBe('core');
    // the platform's Secret wins; the session's value goes nowhere
    expect(env.get('ANTHROPIC_API_KEY')).toEqual({
      name: 'ANTHROPIC_API_KEY',
      valueFrom: { secretKeyRef: { name: 'anthropic', key: 'api-key' } },
    });
    expect(credentials).toBeUndefined();
    expect(JSON.stringify(pod)).not.toContain('sk-from-session');
    expect(pod.spec.volumes).toContainEqual({
      name: 'secret-file-0',
      secret: { secretName: 'git-ssh', items: [{ key: 'key', path: 'key' }] },
    });
    expect(c.volumeMounts).toContainEqual({
      name: 'secret-file-0',
      mountPath: '/home/gcagent/.ssh/id_ed25519',
      readOnly: true,
      subPath: 'key',
    });

    const small = buildAgentSession(
      'rev',
      parseStartRequest(JSON.stringify(agent({ GC_AGENT: 'code-reviewer' }))),
      settingsForStart(city, { GC_AGENT: 'code-reviewer' }),
    ).pod;
    expect(small.spec.containers[0]!.resources?.requests).toEqual({ cpu: '100m', memory: '256Mi' });
    expect(small.spec.priorityClassName).toBe('gc-low');
    // the compat annotation is computed from what was applied: two profiles, two different pods
    expect(small.metadata.annotations?.['gc-k8s.io/compat']).not.toBe(pod.metadata.annotations?.['gc-k8s.io/compat']);
  });

  it('a profile without resources (none) leaves them out, for the namespace LimitRange to fill', () => {
    const { pod: city } = load(
      `[session.k8s]\nimage = "x"\nprofile_map = { "*" = "bare" }\n[session.k8s.profiles.bare]\ncpu_request = "none"\nmem_request = "none"\ncpu_limit = "none"\nmem_limit = "none"\n`,
    );
    const req = parseStartRequest(JSON.stringify(agent({ GC_AGENT: 'any' })));
    expect(buildAgentSession('a', req, settingsForStart(city, req.env)).pod.spec.containers[0]!.resources).toEqual({});
    const half = load(`[session.k8s]\nimage = "x"\nmem_request = "none"\n`).pod;
    expect(buildAgentSession('a', req, half).pod.spec.containers[0]!.resources).toEqual({
      requests: { cpu: '500m' },
      limits: { cpu: '2', memory: '4Gi' },
    });
  });

  it('a session with a profile starts cold (a warm pod has the city settings), and says so', () => {
    const { pod: city } = load(TOML + '\n');
    const warmCity = { ...city, warmPool: 2 };
    const req = parseStartRequest(JSON.stringify(agent({ GC_AGENT: 'code-reviewer' })));
    const settings = settingsForStart(warmCity, req.env);
    expect(warmIneligibility(req, settings, buildAgentSession('r', req, settings), 'start')).toMatch(/profile "small"/);
  });

  it('bad input is a config error naming the profile, the key and the value', () => {
    const bad =
      (profile: string, extra = '') =>
      () =>
        load(`[session.k8s]\n${extra}\n[session.k8s.profiles.p]\n${profile}\n`);
    expect(bad('cpu_request = "2 cores"')).toThrow(/profiles .*profile "p": cpu_request: expected a Kubernetes quantity .*"2 cores"/);
    expect(bad('tolerations = "[{not json"')).toThrow(/profile "p": tolerations: expected an array as JSON/);
    expect(bad('namespace = "other"')).toThrow(/profile "p": "namespace" is not a profile setting/);
    expect(bad('secret_env = { TOKEN = "no-key" }')).toThrow(/profile "p": secret_env: expected secret\/key; got "no-key"/);
    expect(bad('secret_files = { "relative/path" = "s" }')).toThrow(/expected an absolute path/);
    expect(bad('cpu_request = "1"', 'profile_map = { mayor = "huge" }')).toThrow(
      /agent "mayor" maps to profile "huge", which is not defined \(profiles: p\)/,
    );
    expect(() => load('', { GC_K8S_PROFILES_JSON: '{"Big!": {}}' })).toThrow(/GC_K8S_PROFILES_JSON: profile name "Big!"/);
  });
});
