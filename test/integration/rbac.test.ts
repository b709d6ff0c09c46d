// The daemon works with nothing but contrib/k8s/rbac.yaml and admission-policy.yaml: a kubeconfig
// holding only the gc-k8s service account's token runs a whole session (credentials included) and
// the event store, and is refused the rest, by RBAC and, where RBAC cannot tell (which pod, which
// Secret), by the ValidatingAdmissionPolicy.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_IMAGE, Harness, ROOT, until } from './harness.js';

const h = new Harness();
let saKubeconfig = '';

beforeAll(async () => {
  await h.setup();
  const rbac = readFileSync(join(ROOT, 'contrib/k8s/rbac.yaml'), 'utf8').replace('namespace: gc', `namespace: ${h.namespace}`);
  writeFileSync(join(h.dir, 'rbac.yaml'), rbac);
  const applied = await h.k(['apply', '-f', join(h.dir, 'rbac.yaml'), '-f', join(ROOT, 'contrib/k8s/admission-policy.yaml')]);
  if (applied.code !== 0) throw new Error(applied.err);
  const token = (await h.k(['create', 'token', 'gc-k8s', '--duration=1h'])).out.trim();
  const server = (await h.k(['config', 'view', '--minify', '--raw', '-o', 'jsonpath={.clusters[0].cluster.server}'])).out;
  const ca = (await h.k(['config', 'view', '--minify', '--raw', '-o', 'jsonpath={.clusters[0].cluster.certificate-authority-data}'])).out;
  saKubeconfig = join(h.dir, 'sa.kubeconfig');
  writeFileSync(
    saKubeconfig,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'c', cluster: { server, 'certificate-authority-data': ca } }],
      users: [{ name: 'gc-k8s', user: { token } }],
      contexts: [{ name: 'gc-k8s', context: { cluster: 'c', user: 'gc-k8s', namespace: h.namespace } }],
      'current-context': 'gc-k8s',
    }),
  );
});
afterAll(async () => {
  await h.k(['delete', '-f', join(ROOT, 'contrib/k8s/admission-policy.yaml'), '--ignore-not-found']);
  await h.teardown();
});

/** kubectl as the daemon's service account (its token only). */
const asDaemon = (args: readonly string[], stdin = '') =>
  h.run(h.kubectl, ['--kubeconfig', saKubeconfig, '-n', h.namespace, ...args], stdin, h.env());

interface ProbePod {
  apiVersion: 'v1';
  kind: 'Pod';
  metadata: { name: string; labels: Record<string, string> };
  spec: {
    automountServiceAccountToken: boolean;
    serviceAccountName?: string;
    hostNetwork?: boolean;
    volumes?: object[];
    securityContext: object;
    containers: { name: string; image: string; command: string[]; env?: object[]; securityContext: Record<string, unknown> }[];
  };
}

function podSpec(change: (p: ProbePod) => void): string {
  const pod: ProbePod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `probe-${Math.random().toString(36).slice(2, 8)}`, labels: { app: 'gc-agent' } },
    spec: {
      automountServiceAccountToken: false,
      securityContext: { runAsNonRoot: true, runAsUser: 1000 },
      containers: [
        {
          name: 'agent',
          image: AGENT_IMAGE,
          command: ['sleep', '1'],
          securityContext: {
            allowPrivilegeEscalation: false,
            capabilities: { drop: ['ALL'] },
            runAsNonRoot: true,
            seccompProfile: { type: 'RuntimeDefault' },
          },
        },
      ],
    },
  };
  change(pod);
  return JSON.stringify(pod);
}

describe('least-privilege RBAC', () => {
  it('runs a session and the event store with only the gc-k8s Role', async () => {
    const env = { KUBECONFIG: saKubeconfig, GC_K8S_SOCKET: join(h.dir, 'sa.sock') };
    const start = await h.session(['start', 'rbac-agent'], JSON.stringify({ command: 'bash' }), env);
    expect(start, start.err).toMatchObject({ code: 0 });
    expect((await h.session(['nudge', 'rbac-agent'], 'echo rbac-ok', env)).code).toBe(0);
    let seen = '';
    for (let i = 0; i < 50 && !seen.includes('rbac-ok\n'); i++) seen = (await h.session(['peek', 'rbac-agent', '10'], '', env)).out;
    expect(seen).toContain('rbac-ok');
    expect((await h.script('gc-events-k8s', ['record'], JSON.stringify({ type: 'rbac.test', actor: 'gc' }), env)).code).toBe(0);
    expect(JSON.parse((await h.script('gc-events-k8s', ['list'], '', env)).out)).toHaveLength(1);
    expect((await h.session(['stop', 'rbac-agent'], '', env)).code).toBe(0);
    await h.script('gc-k8s', ['stop-daemon'], '', env);
  });

  it("a session's credentials reach the agent from its own Secret, owned by the pod: no value in the pod spec, and the Secret goes with the pod", async () => {
    const env = { KUBECONFIG: saKubeconfig, GC_K8S_SOCKET: join(h.dir, 'sa.sock') };
    const start = await h.session(
      ['start', 'cred-agent'],
      JSON.stringify({ command: 'bash', env: { ANTHROPIC_API_KEY: 'sk-ant-TOPSECRET', GC_SESSION_ID: 'x' } }),
      env,
    );
    expect(start, start.err).toMatchObject({ code: 0 });
    const pod = JSON.parse((await h.k(['get', 'pod', 'cred-agent', '-o', 'json'])).out) as { metadata: { uid: string } };
    expect(JSON.stringify(pod)).not.toContain('TOPSECRET');
    const secret = JSON.parse((await h.k(['get', 'secret', 'cred-agent-credentials', '-o', 'json'])).out) as {
      metadata: { ownerReferences: { kind: string; uid: string }[] };
    };
    expect(secret.metadata.ownerReferences).toMatchObject([{ kind: 'Pod', uid: pod.metadata.uid }]);
    expect((await h.k(['exec', 'cred-agent', '-c', 'agent', '--', 'printenv', 'ANTHROPIC_API_KEY'])).out).toBe('sk-ant-TOPSECRET\n');
    const events = (await h.k(['get', 'events', '-o', 'json'])).out;
    expect(events).not.toContain('TOPSECRET');
    expect((await h.session(['stop', 'cred-agent'], '', env)).code).toBe(0);
    for (let i = 0; i < 60 && (await h.k(['get', 'secret', 'cred-agent-credentials'])).code === 0; i++)
      await new Promise((r) => setTimeout(r, 500));
    expect((await h.k(['get', 'secret', 'cred-agent-credentials'])).code).not.toBe(0); // garbage-collected with its pod
    expect(readFileSync(join(h.dir, 'sa.log'), 'utf8')).not.toContain('TOPSECRET');
    await h.script('gc-k8s', ['stop-daemon'], '', env);
  });

  it('a kept workspace claim is made and reclaimed with only the Role, and admission refuses any other claim', async () => {
    const env = {
      KUBECONFIG: saKubeconfig,
      GC_K8S_SOCKET: join(h.dir, 'sa-ws.sock'),
      GC_K8S_WORKSPACE: 'claim',
      GC_K8S_WORKSPACE_SIZE: '64Mi',
      GC_K8S_WORKSPACE_RECLAIM: 'delete',
    };
    const start = await h.session(['start', 'rbac-ws'], JSON.stringify({ command: 'bash' }), env);
    expect(start, start.err).toMatchObject({ code: 0 });
    expect((await h.k(['get', 'pvc', 'ws-rbac-ws', '-o', 'jsonpath={.status.phase}'])).out).toBe('Bound');
    expect((await h.session(['stop', 'rbac-ws'], '', env)).code).toBe(0);
    // reclaimed by the daemon's own account
    await until(
      async () => (await h.k(['get', 'pvc', 'ws-rbac-ws', '--ignore-not-found', '-o', 'name'])).out.trim() === '',
      'claim deleted',
    );
    await h.script('gc-k8s', ['stop-daemon'], '', env);
    const claim = (name: string, labels: Record<string, string>) =>
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: { name, labels },
        spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Mi' } } },
      });
    for (const [what, spec] of [
      ['a claim of another shape', claim('stolen', { app: 'x' })],
      [
        'a workspace label on another name',
        claim('data', { 'app.kubernetes.io/component': 'agent-workspace', 'app.kubernetes.io/managed-by': 'gc-k8s' }),
      ],
    ] as const) {
      const r = await asDaemon(['create', '--dry-run=server', '-f', '-'], spec);
      expect(r.code, what).not.toBe(0);
      expect(r.err, what).toMatch(/may only create, change and delete the workspace claims of its sessions/);
    }
  });

  it('a one_shot session runs as a Job with only the Role: its pod (made by the job controller) and its credentials Secret are admitted; stop deletes the Job', async () => {
    const env = { KUBECONFIG: saKubeconfig, GC_K8S_SOCKET: join(h.dir, 'sa-job.sock') };
    const start = await h.session(
      ['start', 'rbac-task'],
      JSON.stringify({
        command: "sh -c 'printenv ANTHROPIC_API_KEY | wc -c'",
        lifecycle: 'one_shot',
        env: { ANTHROPIC_API_KEY: 'sk-ant-TASKSECRET' },
      }),
      env,
    );
    expect(start, start.err).toMatchObject({ code: 0 });
    await until(
      async () => (await h.k(['get', 'job', 'rbac-task', '-o', 'jsonpath={.status.conditions[*].type}'])).out.includes('Complete'),
      'job complete',
      600,
    );
    const job = JSON.parse((await h.k(['get', 'job', 'rbac-task', '-o', 'json'])).out) as { metadata: { uid: string } };
    const secret = JSON.parse((await h.k(['get', 'secret', 'rbac-task-credentials', '-o', 'json'])).out) as {
      metadata: { ownerReferences: { kind: string; uid: string }[] };
    };
    expect(secret.metadata.ownerReferences).toMatchObject([{ kind: 'Job', uid: job.metadata.uid }]);
    // the agent had its credential (17 characters and a newline), from the Secret
    expect((await h.session(['peek', 'rbac-task', '5'], '', env)).out).toMatch(/\b18\s[\s\S]*exit status 0/);
    expect((await h.session(['stop', 'rbac-task'], '', env)).code).toBe(0);
    expect((await h.k(['get', 'job', 'rbac-task', '--ignore-not-found', '-o', 'name'])).out.trim()).toBe('');
    await h.script('gc-k8s', ['stop-daemon'], '', env);
  });

  it('admission refuses what RBAC alone would let the daemon do', async () => {
    const refused = async (what: string, spec: string, message: RegExp) => {
      const r = await asDaemon(['create', '-f', '-'], spec);
      expect(r.code, `${what}: ${r.out}`).not.toBe(0);
      expect(r.err, what).toMatch(message);
    };
    await refused(
      'a Secret volume',
      podSpec((p) => {
        p.spec.volumes = [{ name: 's', secret: { secretName: 'gc-k8s-token-of-someone' } }];
      }),
      /may only mount emptyDir, PersistentVolumeClaims/,
    );
    await refused(
      'another Secret in env',
      podSpec((p) => {
        p.spec.containers[0]!.env = [{ name: 'X', valueFrom: { secretKeyRef: { name: 'other', key: 'k' } } }];
      }),
      /may only reference their own <pod>-credentials Secret/,
    );
    await refused(
      'another service account',
      podSpec((p) => {
        p.spec.serviceAccountName = 'gc-k8s';
      }),
      /may only run as the service accounts the policy lists/,
    );
    await refused(
      'a token mount',
      podSpec((p) => {
        p.spec.automountServiceAccountToken = true;
      }),
      /must not mount a service-account token/,
    );
    await refused(
      'the node network',
      podSpec((p) => {
        p.spec.hostNetwork = true;
      }),
      /may not use the node's network/,
    );
    await refused(
      'a hostPath',
      podSpec((p) => {
        p.spec.volumes = [{ name: 'h', hostPath: { path: '/' } }];
      }),
      /may only mount emptyDir/,
    );
    await refused(
      'a privileged container',
      podSpec((p) => {
        p.spec.containers[0]!.securityContext = { privileged: true };
      }),
      /must run restricted/,
    );
    await refused(
      'a foreign image',
      podSpec((p) => {
        p.spec.containers[0]!.image = 'docker.io/library/busybox:1';
      }),
      /may only run the images the policy lists/,
    );
    await refused(
      'a pod of another shape',
      podSpec((p) => {
        p.metadata.labels = { app: 'miner' };
      }),
      /may only create agent session pods/,
    );
    await refused(
      'an arbitrary Secret',
      JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'stolen' }, stringData: { k: 'v' } }),
      /may only create the <pod>-credentials Secret/,
    );
    const job = (change: (p: ProbePod) => void) => {
      const pod = JSON.parse(podSpec(change)) as ProbePod;
      pod.metadata.labels['app.kubernetes.io/managed-by'] = 'gc-k8s';
      return JSON.stringify({
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: { name: pod.metadata.name },
        spec: { backoffLimit: 0, template: { metadata: { labels: pod.metadata.labels }, spec: { ...pod.spec, restartPolicy: 'Never' } } },
      });
    };
    await refused(
      'a Job of another shape',
      job((p) => {
        p.metadata.labels = { app: 'miner' };
      }),
      /may only create Jobs of agent sessions/,
    );
    // A Job of our shape whose pod breaks the pod policy is admitted, but the job controller's
    // pod is not: the pod policy holds for the pods of the daemon's Jobs too.
    const sneaky = job((p) => {
      p.spec.hostNetwork = true;
    });
    const made = await asDaemon(['create', '-f', '-', '-o', 'name'], sneaky);
    expect(made, made.err).toMatchObject({ code: 0 });
    const name = made.out.trim().replace(/^job\.batch\//, '');
    await until(
      async () =>
        (
          await h.k([
            'get',
            'events',
            '--field-selector',
            `involvedObject.kind=Job,involvedObject.name=${name}`,
            '-o',
            'jsonpath={.items[*].message}',
          ])
        ).out.includes("may not use the node's network"),
      'the job controller is refused the pod',
      300,
    );
    expect((await h.k(['get', 'pods', '-l', `batch.kubernetes.io/job-name=${name}`, '-o', 'name'])).out.trim()).toBe('');
    await h.k(['delete', 'job', name, '--wait=false']);
    // and a pod of our shape is admitted (nothing here needs more than the policy allows)
    const ok = await asDaemon(
      ['create', '--dry-run=server', '-f', '-'],
      podSpec(() => undefined),
    );
    expect(ok, ok.err).toMatchObject({ code: 0 });
  });

  it('grants nothing beyond that', async () => {
    const as = `--as=system:serviceaccount:${h.namespace}:gc-k8s`;
    const can = async (...args: string[]) => (await h.k(['auth', 'can-i', as, ...args])).out.trim();
    expect(await can('create', 'pods/exec')).toBe('yes');
    expect(await can('get', 'pods/exec')).toBe('yes');
    // One named Secret (the Dolt password bd uses), nothing else of that kind.
    expect(await can('get', 'secrets')).toBe('no');
    expect(await can('get', 'secrets/gc-dolt-credentials')).toBe('yes');
    expect(await can('get', 'secrets/other')).toBe('no');
    expect(await can('list', 'secrets')).toBe('no');
    expect(await can('create', 'secrets')).toBe('yes'); // only a session's own, says admission
    expect(await can('update', 'secrets')).toBe('no');
    expect(await can('delete', 'secrets')).toBe('no'); // they go with their pod
    expect(await can('get', 'services')).toBe('yes');
    expect(await can('list', 'services')).toBe('no');
    expect(await can('create', 'pods', '-n', 'default')).toBe('no');
    expect(await can('patch', 'pods')).toBe('yes'); // a start records its progress in annotations
    expect(await can('update', 'pods')).toBe('no');
    expect(await can('patch', 'pods', '--subresource=status')).toBe('no');
    expect(await can('create', 'rolebindings')).toBe('no');
    expect(await can('create', 'persistentvolumeclaims')).toBe('yes'); // only session workspaces, says admission
    expect(await can('update', 'persistentvolumeclaims')).toBe('no');
    expect(await can('get', 'persistentvolumes')).toBe('no');
    expect(await can('create', 'jobs.batch')).toBe('yes'); // only sessions' Jobs, says admission
    expect(await can('delete', 'jobs.batch')).toBe('yes');
    expect(await can('list', 'jobs.batch')).toBe('no');
    expect(await can('update', 'jobs.batch')).toBe('no');
    expect(await can('create', 'cronjobs.batch')).toBe('no');
    const agent = `--as=system:serviceaccount:${h.namespace}:gc-agent`;
    expect((await h.k(['auth', 'can-i', agent, 'get', 'pods'])).out.trim()).toBe('no');
  });
});
