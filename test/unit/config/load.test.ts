import { describe, expect, it } from 'vitest';
import { configTableMarkdown, loadConfig } from '../../../src/config/load.js';
import { CONFIG_TABLE } from '../../../src/config/table.js';

function load(toml: string | undefined, env: Record<string, string> = {}) {
  return loadConfig({
    env: { GC_CITY: '/city', ...env },
    cityToml: toml === undefined ? '' : '/city/city.toml',
    readFile: () => toml ?? '',
  });
}

describe('loadConfig', () => {
  it('uses upstream defaults without any config', () => {
    const c = load(undefined);
    expect(c.pod).toMatchObject({
      namespace: 'gc',
      cpuRequest: '500m',
      memRequest: '1Gi',
      cpuLimit: '2',
      memLimit: '4Gi',
      prebaked: false,
      image: '',
    });
    expect(c.cityToml).toBe('');
  });

  it('reads [session.k8s] from city.toml, and env wins over TOML', () => {
    const toml =
      '[session]\nprovider = "exec:gc-session-k8s"\n[session.k8s]\nnamespace = "team-a"\nimage = "gc-agent:1"\nprebaked = true\ncpu_limit = "4"\n';
    const c = load(toml, { GC_K8S_IMAGE: 'gc-agent:2' });
    expect(c.pod.namespace).toBe('team-a');
    expect(c.pod.image).toBe('gc-agent:2');
    expect(c.pod.prebaked).toBe(true);
    expect(c.pod.cpuLimit).toBe('4');
    expect(c.cityToml).toBe('/city/city.toml');
  });

  it("takes the 1.x native provider's settings from env (JSON) and from TOML tables", () => {
    const c = load('[session.k8s]\nnode_selector = { pool = "agents" }\ntolerations = [{ key = "agents", operator = "Exists" }]\n', {
      GC_K8S_SERVICE_ACCOUNT_MAP_JSON: '{"mayor":"gc-mayor","*":"gc-agent"}',
      GC_K8S_AGENT_ENV_JSON: '{"TZ":"UTC"}',
      GC_K8S_AFFINITY: '{"nodeAffinity":{}}',
      GC_K8S_PRIORITY_CLASS_NAME: 'gc-agents',
      GC_K8S_CPU_LIMIT: 'none',
      GC_K8S_WORKSPACE_PVC: 'city-ws',
      GC_K8S_WORKSPACE_ROOT: '/workspace',
    });
    expect(c.pod).toMatchObject({
      serviceAccountMap: { mayor: 'gc-mayor', '*': 'gc-agent' },
      agentEnv: { TZ: 'UTC' },
      nodeSelector: { pool: 'agents' },
      tolerations: [{ key: 'agents', operator: 'Exists' }],
      affinity: { nodeAffinity: {} },
      priorityClassName: 'gc-agents',
      cpuLimit: '',
      workspacePvc: 'city-ws',
    });
  });

  it.each([
    ['GC_K8S_SERVICE_ACCOUNT_MAP_JSON', '{"mayor":"Not A Label"}', /expected a lowercase DNS label/],
    ['GC_K8S_SERVICE_ACCOUNT_MAP_JSON', '["x"]', /expected a JSON object of strings/],
    ['GC_K8S_AGENT_ENV_JSON', '{"A B":"x"}', /not an env name/],
    ['GC_K8S_NODE_SELECTOR', '{"pool":1}', /expected a string for "pool"/],
    ['GC_K8S_TOLERATIONS', '{"key":"x"}', /expected a JSON array of objects/],
    ['GC_K8S_AFFINITY', 'not json', /expected an object as JSON/],
    ['GC_K8S_PRIORITY_CLASS_NAME', 'High!', /DNS subdomain/],
    ['GC_K8S_WORKSPACE_ROOT', '/data', /only \/workspace is supported/],
  ])('%s=%s is refused naming the variable', (name, value, message) => {
    expect(() => load('', { [name]: value })).toThrow(name);
    expect(() => load('', { [name]: value })).toThrow(message);
  });

  it('treats an empty env value as unset, as upstream does', () => {
    expect(load('[session.k8s]\nnamespace = "x"\n', { GC_K8S_NAMESPACE: '' }).pod.namespace).toBe('x');
  });

  it('warns about unknown keys, naming them', () => {
    const c = load('[session.k8s]\nimgae = "x"\nnamespace = "gc"\n');
    expect(c.warnings).toHaveLength(1);
    expect(c.warnings[0]).toMatch(/unknown key "imgae" in \[session\.k8s\]/);
  });

  it('fails fast on invalid values, naming the key and its source', () => {
    expect(() => load('[session.k8s]\ncpu_request = "lots"\n')).toThrow(/invalid \[session\.k8s\] cpu_request in \/city\/city\.toml/);
    expect(() => load(undefined, { GC_K8S_MEM_LIMIT: '4 GB' })).toThrow(/invalid GC_K8S_MEM_LIMIT/);
    expect(() => load(undefined, { GC_K8S_POD_SECURITY: 'open' })).toThrow(/restricted, baseline, none/);
    expect(() => load(undefined, { GC_K8S_START_TIMEOUT: 'soon' })).toThrow(/duration/);
  });

  it('reports TOML syntax errors with the file name', () => {
    expect(() => load('[session.k8s\n')).toThrow(/reading \/city\/city\.toml/);
  });

  it('parses durations like gc writes them', () => {
    expect(load(undefined, { GC_K8S_START_TIMEOUT: '1m30s', GC_K8S_NUDGE_ENTER_DELAY: '150ms' }).session).toMatchObject({
      startTimeoutMs: 90_000,
      nudgeEnterDelayMs: 150,
    });
  });

  it('documents every key in one table', () => {
    const md = configTableMarkdown();
    for (const e of CONFIG_TABLE) expect(md).toContain(`\`${e.key}\``);
  });
});

describe('README', () => {
  it('shows the configuration table exactly as the code defines it', async () => {
    const { readFileSync } = await import('node:fs');
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    expect(readme).toContain(configTableMarkdown());
    const { daemonTableMarkdown } = await import('../../../src/config/daemon.js');
    expect(readme).toContain(daemonTableMarkdown());
  });
});
