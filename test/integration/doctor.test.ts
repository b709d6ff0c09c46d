// `gc-k8s doctor` tells a user whose namespace refuses the pods their city will make, by asking the
// API server itself (a server-side dry run), and warns about native-provider pods that a namespace
// enforcing "restricted" would refuse to restart.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_IMAGE, Harness, ROOT } from './harness.js';

const h = new Harness();
const cities = mkdtempSync(join(tmpdir(), 'gck8s-doctor-'));

function city(name: string, extra: string): string {
  const dir = join(cities, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'city.toml'),
    `[workspace]\nname = "${name}"\n[session.k8s]\nnamespace = "${h.namespace}"\nimage = "${AGENT_IMAGE}"\n${extra}`,
  );
  return dir;
}

const doctor = (dir: string) => h.run(process.execPath, [join(ROOT, 'bin', 'gc-k8s.js'), 'doctor'], '', h.supervisorEnv(), dir);

beforeAll(async () => {
  await h.setup();
  expect((await h.k(['label', 'namespace', h.namespace, 'pod-security.kubernetes.io/enforce=restricted', '--overwrite'])).code).toBe(0);
});
afterAll(async () => {
  await h.teardown();
  rmSync(cities, { recursive: true, force: true });
});

describe('gc-k8s doctor', () => {
  it('passes for a city whose pods the namespace admits', async () => {
    const r = await doctor(city('good', ''));
    expect(r.out, r.err).toMatch(/^ok +the API server admits this city's agent pods/m);
    expect(r.out).toMatch(/Pod Security enforce=restricted/);
    expect(r.out).toMatch(/no problems found/);
    expect(r.code).toBe(0);
  });

  it("names the refusal when the namespace would refuse the city's pods", async () => {
    const r = await doctor(city('loose', 'pod_security = "none"\n'));
    expect(r.out).toMatch(/^PROBLEM +the API server refuses this city's agent pods: .*violates PodSecurity "restricted/m);
    expect(r.code).toBe(1);
    // a dry run creates nothing
    expect((await h.k(['get', 'pods', '-o', 'name'])).out.trim()).toBe('');
  });

  it('warns about pods of the native provider that a restricted namespace will not let restart', async () => {
    // a native-provider pod: root, no security context, `sleep infinity` under a shell
    expect((await h.k(['label', 'namespace', h.namespace, 'pod-security.kubernetes.io/enforce=baseline', '--overwrite'])).code).toBe(0);
    const native = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'coder-gc-1', labels: { app: 'gc-agent', 'gc-session': 'coder' } },
      spec: {
        containers: [
          {
            name: 'agent',
            image: AGENT_IMAGE,
            command: ['sh', '-c', 'tmux new-session -d -s main bash && sleep infinity'],
            securityContext: { runAsUser: 0 },
          },
        ],
      },
    };
    expect((await h.run(h.kubectl, ['-n', h.namespace, 'create', '-f', '-'], JSON.stringify(native), h.env())).code).toBe(0);
    expect((await h.k(['label', 'namespace', h.namespace, 'pod-security.kubernetes.io/enforce=restricted', '--overwrite'])).code).toBe(0);
    const r = await doctor(city('migrating', ''));
    expect(r.out).toMatch(/^PROBLEM +1 agent pod\(s\) here were made by another provider .*coder-gc-1.*enforce=baseline warn=restricted/m);
    expect(r.code).toBe(1);
  });
});
