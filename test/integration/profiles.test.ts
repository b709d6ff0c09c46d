// Per-role profiles on the real local cluster: two profiles in one city, each pod with its
// profile's resources, priority class (admitted by the API server's Priority plugin), service
// account, env, and Secret references, no secret value anywhere (pod spec, annotations, the
// daemon's log, events); the Secret reaches the agent by reference; an unknown priority class, a
// missing Secret or a missing key fails the start before any pod exists.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_IMAGE, Harness } from './harness.js';

const h = new Harness();
const SECRET_VALUE = 'sk-ant-PROFILESECRET';
const priorityClasses = ['gct-prof-high', 'gct-prof-low'];

function city(extra = ''): void {
  writeFileSync(
    join(h.dir, 'city.toml'),
    `[session.k8s]
namespace = "${h.namespace}"
image = "${AGENT_IMAGE}"
profile_map = { "mayor" = "big", "*-reviewer" = "small" }

[session.k8s.profiles.big]
cpu_request = "50m"
mem_request = "96Mi"
mem_limit = "300Mi"
priority_class_name = "gct-prof-high"
service_account = "gc-builder"
agent_env = { ROLE_TIER = "big" }
secret_env = { ANTHROPIC_API_KEY = "team-keys/anthropic" }
secret_files = { "/home/gcagent/keys" = "team-keys" }

[session.k8s.profiles.small]
cpu_request = "10m"
mem_request = "40Mi"
mem_limit = "128Mi"
priority_class_name = "gct-prof-low"
agent_env = { ROLE_TIER = "small" }
${extra}
`,
  );
}

const ok = (argv: string[], stdin = '', extra: Record<string, string> = {}): Promise<string> =>
  h.sessionOk(argv, stdin, { GC_CITY: h.dir, ...extra });
const podJson = async (name: string) =>
  JSON.parse((await h.k(['get', 'pod', name, '-o', 'json'])).out) as {
    metadata: { annotations: Record<string, string> };
    spec: {
      priorityClassName?: string;
      serviceAccountName?: string;
      containers: { resources: object; env: { name: string; value?: string; valueFrom?: object }[] }[];
    };
  };

beforeAll(async () => {
  await h.setup();
  for (const [i, pc] of priorityClasses.entries()) {
    const made = await h.run(
      h.kubectl,
      ['apply', '-f', '-'],
      JSON.stringify({ apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: pc }, value: 1000 - i * 500 }),
    );
    expect(made, made.err).toMatchObject({ code: 0 });
  }
  expect((await h.k(['create', 'serviceaccount', 'gc-builder'])).code).toBe(0);
  expect(
    (await h.k(['create', 'secret', 'generic', 'team-keys', `--from-literal=anthropic=${SECRET_VALUE}`, '--from-literal=extra=file-ok']))
      .code,
  ).toBe(0);
  city();
});
afterAll(async () => {
  await h.k(['delete', 'priorityclass', ...priorityClasses, '--ignore-not-found']);
  await h.teardown();
});

describe('profiles', () => {
  it('two profiles in one city: each pod has its own resources, priority, service account, env and Secret reference; no secret value anywhere', async () => {
    const agent = (name: string) => JSON.stringify({ command: 'bash', env: { GC_AGENT: name, GC_CITY: h.dir } });
    await ok(['start', 'mayor'], agent('mayor'));
    // as gc's supervisor runs the script: from /, no GC_CITY or GC_K8S_* in its env; the city is in the payload
    const rev = await h.asSupervisor('gc-session-k8s', ['start', 'rev'], agent('code-reviewer'));
    expect(rev, rev.err).toMatchObject({ code: 0 });
    const big = await podJson('mayor');
    const small = await podJson('rev');
    expect(big.metadata.annotations['gc-k8s.io/profile']).toBe('big');
    expect(small.metadata.annotations['gc-k8s.io/profile']).toBe('small');
    expect(big.spec).toMatchObject({ priorityClassName: 'gct-prof-high', serviceAccountName: 'gc-builder' });
    expect(small.spec.priorityClassName).toBe('gct-prof-low');
    expect(small.spec.serviceAccountName ?? 'default').toBe('default');
    expect(big.spec.containers[0]!.resources).toMatchObject({ requests: { cpu: '50m', memory: '96Mi' }, limits: { memory: '300Mi' } });
    expect(small.spec.containers[0]!.resources).toMatchObject({ requests: { cpu: '10m', memory: '40Mi' }, limits: { memory: '128Mi' } });
    const env = (p: typeof big, n: string) => p.spec.containers[0]!.env.find((e) => e.name === n);
    expect(env(big, 'ROLE_TIER')?.value).toBe('big');
    expect(env(small, 'ROLE_TIER')?.value).toBe('small');
    expect(env(big, 'ANTHROPIC_API_KEY')).toEqual({
      name: 'ANTHROPIC_API_KEY',
      valueFrom: { secretKeyRef: { name: 'team-keys', key: 'anthropic' } },
    });
    expect(env(small, 'ANTHROPIC_API_KEY')).toBeUndefined();
    // the agent has the value (by reference) and the files
    expect(await ok(['exec', 'mayor'], 'printenv ANTHROPIC_API_KEY; cat /home/gcagent/keys/extra')).toBe(`${SECRET_VALUE}\nfile-ok`);
    // the priority the scheduler got is the class's
    expect((await h.k(['get', 'pod', 'mayor', '-o', 'jsonpath={.spec.priority}'])).out).toBe('1000');
    for (const where of [
      JSON.stringify(big),
      JSON.stringify(small),
      (await h.k(['get', 'events', '-o', 'json'])).out,
      readFileSync(h.socket.replace(/\.sock$/, '.log'), 'utf8'),
    ])
      expect(where).not.toContain(SECRET_VALUE);
    await ok(['stop', 'mayor']);
    await ok(['stop', 'rev']);
  });

  it('a profile without resources gets the namespace LimitRange defaults (the API server fills them in)', async () => {
    const limits = {
      apiVersion: 'v1',
      kind: 'LimitRange',
      metadata: { name: 'agent-defaults' },
      spec: { limits: [{ type: 'Container', defaultRequest: { cpu: '15m', memory: '24Mi' }, default: { memory: '160Mi' } }] },
    };
    const made = await h.run(h.kubectl, ['-n', h.namespace, 'create', '-f', '-'], JSON.stringify(limits));
    expect(made, made.err).toMatchObject({ code: 0 });
    try {
      city(`\n[session.k8s.profiles.bare]\ncpu_request = "none"\nmem_request = "none"\ncpu_limit = "none"\nmem_limit = "none"\n`);
      writeFileSync(
        join(h.dir, 'city.toml'),
        readFileSync(join(h.dir, 'city.toml'), 'utf8').replace('"*-reviewer" = "small"', '"*-reviewer" = "small", "plain" = "bare"'),
      );
      await ok(['start', 'plain'], JSON.stringify({ command: 'bash', env: { GC_AGENT: 'plain', GC_CITY: h.dir } }));
      expect((await podJson('plain')).spec.containers[0]!.resources).toEqual({
        requests: { cpu: '15m', memory: '24Mi' },
        limits: { memory: '160Mi' },
      });
      await ok(['stop', 'plain']);
    } finally {
      await h.k(['delete', 'limitrange', 'agent-defaults']);
      city();
    }
  });

  it('an unknown priority class, a missing Secret and a missing key fail the start before any pod exists, each named; nothing is left', async () => {
    city(`\n[session.k8s.profiles.ghost]\npriority_class_name = "no-such-class"\n`);
    const toml = readFileSync(join(h.dir, 'city.toml'), 'utf8').replace(
      '"*-reviewer" = "small"',
      '"*-reviewer" = "small", "ghost" = "ghost"',
    );
    writeFileSync(join(h.dir, 'city.toml'), toml);
    const r = await h.session(['start', 'ghost'], JSON.stringify({ command: 'bash', env: { GC_AGENT: 'ghost', GC_CITY: h.dir } }), {
      GC_CITY: h.dir,
    });
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/no-such-class/);
    expect((await h.k(['get', 'pods', '-o', 'name'])).out.trim()).toBe('');
    // a Secret, or a key of one, that does not exist: named before any pod is made
    for (const [ref, said] of [
      ['no-such-secret/token', 'secret_env TOKEN: Secret "no-such-secret" does not exist in namespace'],
      ['team-keys/no-such-key', 'secret_env TOKEN: Secret "team-keys" has no key "no-such-key"'],
    ] as const) {
      city(`\n[session.k8s.profiles.ghost]\nsecret_env = { TOKEN = "${ref}" }\n`);
      writeFileSync(
        join(h.dir, 'city.toml'),
        readFileSync(join(h.dir, 'city.toml'), 'utf8').replace('"*-reviewer" = "small"', '"*-reviewer" = "small", "ghost" = "ghost"'),
      );
      const missing = await h.session(['start', 'ghost'], JSON.stringify({ command: 'bash', env: { GC_AGENT: 'ghost', GC_CITY: h.dir } }), {
        GC_CITY: h.dir,
      });
      expect(missing.code).not.toBe(0);
      expect(missing.err).toContain(`profile "ghost": ${said}`);
      expect((await h.k(['get', 'pods', '-o', 'name'])).out.trim()).toBe('');
    }
    // no pod named ghost was ever made (the scheduler would have left an event)
    expect((await h.k(['get', 'events', '--field-selector', 'involvedObject.name=ghost', '-o', 'name'])).out.trim()).toBe('');
    city();
  });
});
