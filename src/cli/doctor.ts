// `gc-k8s doctor`: what stands between this city and running agents, checked against the real
// cluster: reachability, the namespace and its Pod Security levels, whether the API server admits
// the pod this city's settings make (a server-side dry run: Pod Security, quotas, policies all
// answer), pods of Gas City's native provider that a stricter namespace would refuse, and the
// permissions the daemon needs. Prints one line per check; exits 1 when something would fail.

import { GcK8sError, describeError } from '../errors.js';
import { findCityToml, loadConfig, type Config } from '../config/load.js';
import { buildAgentPod, ANNOTATION_ENTRYPOINT } from '../session/manifest.js';
import { parseStartRequest } from '../session/request.js';
import { createKubeClient, AGENT_POD_SELECTOR } from '../k8s/client.js';
import { createLogger } from '../log/logger.js';

interface Io {
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

type Level = 'ok' | 'note' | 'PROBLEM';

/** What the daemon does in a namespace (the Role in contrib/k8s/rbac.yaml grants exactly this). */
const NEEDED: readonly (readonly [string, string, string])[] = [
  ['create', 'pods', ''],
  ['delete', 'pods', ''],
  ['patch', 'pods', ''],
  ['list', 'pods', ''],
  ['watch', 'pods', ''],
  ['get', 'pods/exec', 'exec'],
  ['create', 'pods/exec', 'exec'],
  ['list', 'events', ''],
  ['create', 'configmaps', ''],
  ['update', 'configmaps', ''],
  ['delete', 'configmaps', ''],
  ['list', 'configmaps', ''],
  ['watch', 'configmaps', ''],
  ['create', 'secrets', ''],
  // kept workspaces (workspace = "claim")
  ['create', 'persistentvolumeclaims', ''],
  ['delete', 'persistentvolumeclaims', ''],
  // sessions that run as Jobs (one_shot, workload = "job")
  ['get', 'jobs.batch', ''],
  ['create', 'jobs.batch', ''],
  ['delete', 'jobs.batch', ''],
];

const PSA = 'pod-security.kubernetes.io/';

export async function runDoctor(argv: readonly string[], io: Io): Promise<number> {
  if (argv.length > 0) throw new GcK8sError('BAD_REQUEST', 'usage: gc-k8s doctor   (run it in the city directory, or with GC_CITY set)');
  let problems = 0;
  const line = (level: Level, text: string): void => {
    if (level === 'PROBLEM') problems++;
    io.stdout.write(`${level.padEnd(8)}${text}\n`);
  };

  const cityToml = findCityToml(io.env, io.cwd);
  let config: Config;
  try {
    config = loadConfig({ env: io.env, cityToml });
  } catch (err) {
    line('PROBLEM', describeError(err));
    return 1;
  }
  const ns = config.pod.namespace;
  io.stdout.write(
    `gc-k8s doctor: city ${cityToml === '' ? '(none found: defaults and GC_K8S_* variables)' : cityToml}, namespace ${ns}, context ${config.context || '(current)'}\n`,
  );
  for (const w of config.warnings) line('note', w);
  if (config.pod.image === '') line('PROBLEM', 'no agent image: set image in [session.k8s] (or GC_K8S_IMAGE); start fails without it');

  const signal = AbortSignal.timeout(30_000);
  const kube = await createKubeClient({
    log: createLogger({ level: 'error', destination: io.stderr }),
    env: io.env,
    signal,
    ...(config.context === '' ? {} : { context: config.context }),
  });
  try {
    try {
      const v = await kube.serverVersion(signal);
      line('ok', `cluster ${kube.server} answers (Kubernetes ${v.gitVersion}; ${kube.description})`);
    } catch (err) {
      line('PROBLEM', `cluster ${kube.server} does not answer: ${describeError(err)}`);
      return 1;
    }

    const labels = await kube.namespaceLabels(ns, { signal });
    if (labels === undefined) {
      line('PROBLEM', `namespace ${ns} does not exist (kubectl apply -f contrib/k8s/namespace.yaml, or set namespace in [session.k8s])`);
      return 1;
    }
    const level = (mode: string): string => labels[`${PSA}${mode}`] ?? '-';
    line('ok', `namespace ${ns}: Pod Security enforce=${level('enforce')} warn=${level('warn')} audit=${level('audit')}`);

    // The pod a start of this city would make, minus what only a real start knows.
    const dir = config.cityDir === '' ? io.cwd : config.cityDir;
    const request = parseStartRequest(JSON.stringify({ command: 'bash', work_dir: dir, env: { GC_CITY: dir, GC_AGENT: 'doctor' } }));
    const manifest = buildAgentPod(
      'gc-k8s-doctor-probe',
      request,
      config.pod.image === '' ? { ...config.pod, image: 'doctor.invalid/probe:0' } : config.pod,
      { cityDir: config.cityDir, fingerprint: config.fingerprint },
    );
    const client = kube.forNamespace(ns);
    try {
      await client.pods.create(manifest, { signal, dryRun: true });
      line('ok', `the API server admits this city's agent pods (server-side dry run: Pod Security, quota, admission policies)`);
    } catch (err) {
      line('PROBLEM', `the API server refuses this city's agent pods: ${describeError(err)}`);
    }

    const pods = await client.pods.list(AGENT_POD_SELECTOR, { signal });
    const native = pods.filter((p) => p.annotations[ANNOTATION_ENTRYPOINT] === undefined);
    if (native.length > 0) {
      const names =
        native
          .slice(0, 5)
          .map((p) => p.name)
          .join(', ') + (native.length > 5 ? ', …' : '');
      const strict = level('enforce') === 'restricted';
      line(
        strict ? 'PROBLEM' : 'note',
        `${native.length} agent pod(s) here were made by another provider (Gas City's native one or its script): ${names}. ` +
          (strict
            ? `Their pods violate Pod Security "restricted", which ${ns} enforces: a restart of any of them is refused. While they remain, label the namespace enforce=baseline warn=restricted (README: "Moving from Gas City's native provider").`
            : 'gc-k8s adopts them (peek, nudge, stop work); their containers ignore SIGTERM, so gc-k8s stops them with a 1 s grace period.'),
      );
    }

    const denied: string[] = [];
    for (const [verb, resource, sub] of NEEDED) {
      const [res] = resource.split('/');
      if (!(await kube.canI(ns, verb, res ?? resource, sub, { signal }))) denied.push(`${verb} ${resource}`);
    }
    if (denied.length === 0) line('ok', `permissions in ${ns}: every verb the daemon uses is allowed`);
    else line('PROBLEM', `permissions in ${ns}: denied ${denied.join(', ')} (contrib/k8s/rbac.yaml grants what the daemon needs)`);
  } finally {
    await kube.close();
  }
  io.stdout.write(problems === 0 ? 'gc-k8s doctor: no problems found\n' : `gc-k8s doctor: ${problems} problem(s)\n`);
  return problems === 0 ? 0 : 1;
}
