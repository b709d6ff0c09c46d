// A fake namespace for unit tests of the session core: pods live in a MemoryCache like the
// watch cache would show them, a scripted "kubelet" moves them through phases, and exec is
// answered by a small model of tmux in each pod. Every API call and exec is recorded.

import type {
  Claim,
  ClaimManifest,
  ClusterEvent,
  ContainerStateSummary,
  Job,
  JobManifest,
  Pod,
  PodManifest,
  PodUsage,
  SecretManifest,
  ServiceAddress,
} from '../../src/kube/types.js';
import type {
  CallOptions,
  ClaimApi,
  ConfigMapApi,
  ExecRequest,
  ExecResult,
  JobApi,
  NamespaceClient,
  ObjectCache,
  PodApi,
  PodExec,
  SecretApi,
  ServiceApi,
} from '../../src/kube/ports.js';
import { GcK8sError } from '../../src/errors.js';
import { FakeLeaseApi } from './fake-leases.js';
import { MemoryCache } from './memory-cache.js';

/** tmux's own argv split (cmd-parse.y): `a;` ends a command, `a\\;` is the literal `a;`. */
export function splitTmuxArgv(argv: readonly string[]): string[][] {
  const commands: string[][] = [[]];
  for (const arg of argv) {
    const current = commands[commands.length - 1]!;
    if (arg.endsWith('\\;')) current.push(`${arg.slice(0, -2)};`);
    else if (arg.endsWith(';')) {
      if (arg.length > 1) current.push(arg.slice(0, -1));
      commands.push([]);
    } else current.push(arg);
  }
  return commands.filter((c) => c.length > 0);
}

export interface FakeTmux {
  alive: boolean;
  env: Map<string, string>;
  keys: string[];
  pane: string;
  /** tmux commands other than the ones our argv means to run (an injection would land here) */
  commandsRun?: string[];
  /** clients attached to the session (tmux's #{session_attached}) */
  attached?: number;
}

type Kubelet = (pod: Pod, fake: FakeCluster) => void;

let uidCounter = 0;

export function running(name = 'agent'): ContainerStateSummary {
  return { name, ready: true, restartCount: 0, state: 'running' };
}

export function waiting(reason: string, message = ''): ContainerStateSummary {
  return { name: 'agent', ready: false, restartCount: 0, state: 'waiting', reason, message };
}

export class FakeCluster implements NamespaceClient, PodApi {
  readonly namespace = 'gc';
  readonly agentPods = new MemoryCache<Pod>();
  readonly tmux = new Map<string, FakeTmux>();
  readonly calls: string[] = [];
  readonly execs: { pod: string; command: readonly string[]; stdin?: string }[] = [];
  readonly podEvents = new Map<string, ClusterEvent[]>();
  /** what happens after create: by default the pod runs and tmux comes up */
  kubelet: Kubelet = (pod, fake) => {
    queueMicrotask(() => {
      fake.update(pod.name, { phase: 'Running', containers: [running()] });
      fake.tmux.set(pod.name, { alive: true, env: new Map(), keys: [], pane: '' });
    });
  };
  exec: PodExec = { exec: (r) => this.runExec(r) };
  pods: PodApi = this;
  configMaps: ConfigMapApi = new Proxy({} as ConfigMapApi, {
    get: () => () => Promise.reject(new Error('configmaps not faked')),
  });
  failExec: ((req: ExecRequest) => Error | undefined) | undefined;
  /** Services and Secrets the tests put in place (by name) */
  readonly serviceObjects = new Map<string, ServiceAddress>();
  readonly secretObjects = new Map<string, Record<string, string>>();
  services: ServiceApi = { get: (name) => Promise.resolve(this.serviceObjects.get(name)) };
  /** Secrets created through the API, with their owners (what the garbage collector would follow) */
  readonly createdSecrets = new Map<string, SecretManifest>();
  secrets: SecretApi = {
    value: (name, key) => Promise.resolve(this.secretObjects.get(name)?.[key]),
    keys: (name) => {
      const s = this.secretObjects.get(name);
      return Promise.resolve(s === undefined ? undefined : Object.keys(s));
    },
    create: (manifest) => {
      this.calls.push(`create secret ${manifest.metadata.name}`);
      if (this.createdSecrets.has(manifest.metadata.name))
        return Promise.reject(new GcK8sError('ALREADY_EXISTS', `secrets "${manifest.metadata.name}" already exists`));
      this.createdSecrets.set(manifest.metadata.name, manifest);
      return Promise.resolve();
    },
  };

  /** PersistentVolumeClaims by name; what a provisioner does with a new one: bind it, leave it Pending, or fail it */
  readonly claimObjects = new Map<string, Claim>();
  readonly claimEvents = new Map<string, ClusterEvent[]>();
  claimProvisioning: 'bind' | 'pending' | 'fail' = 'bind';
  /** warm launches run (pod, env argv) and whether the next one fails */
  readonly warmLaunches: { pod: string; argv: readonly string[] }[] = [];
  failWarmLaunch = false;
  /** markers `test -f` finds in pods (a kept workspace's staging marker) */
  readonly stagedWorkspaces = new Set<string>();
  claims: ClaimApi = {
    get: (name) => Promise.resolve(this.claimObjects.get(name)),
    list: () => Promise.resolve([...this.claimObjects.values()]),
    create: (manifest: ClaimManifest) => {
      this.calls.push(`create claim ${manifest.metadata.name}`);
      if (this.claimObjects.has(manifest.metadata.name))
        return Promise.reject(new GcK8sError('ALREADY_EXISTS', `persistentvolumeclaims "${manifest.metadata.name}" already exists`));
      const claim: Claim = {
        name: manifest.metadata.name,
        namespace: 'gc',
        uid: `uid-${++uidCounter}`,
        resourceVersion: '1',
        labels: manifest.metadata.labels ?? {},
        annotations: manifest.metadata.annotations ?? {},
        creationTimestamp: new Date().toISOString(),
        phase: this.claimProvisioning === 'bind' ? 'Bound' : 'Pending',
        requested: manifest.spec.resources.requests.storage,
        ...(manifest.spec.storageClassName === undefined ? {} : { storageClassName: manifest.spec.storageClassName }),
      };
      this.claimObjects.set(claim.name, claim);
      if (this.claimProvisioning === 'fail') {
        const cls = manifest.spec.storageClassName ?? 'standard';
        this.claimEvents.set(claim.name, [
          {
            type: 'Warning',
            reason: 'ProvisioningFailed',
            message: `storageclass.storage.k8s.io "${cls}" not found`,
            count: 1,
            lastSeen: new Date().toISOString(),
          },
        ]);
      }
      return Promise.resolve(claim);
    },
    delete: (name, o) => {
      this.calls.push(`delete claim ${name}`);
      const claim = this.claimObjects.get(name);
      if (claim === undefined) return Promise.resolve(false);
      if (o.uid !== undefined && o.uid !== claim.uid) return Promise.reject(new GcK8sError('CONFLICT', 'uid precondition failed'));
      this.claimObjects.delete(name);
      return Promise.resolve(true);
    },
    annotate: (name, annotations) => {
      const claim = this.claimObjects.get(name);
      if (claim === undefined) return Promise.reject(new GcK8sError('NOT_FOUND', `persistentvolumeclaims "${name}" not found`));
      const next = new Map(Object.entries(claim.annotations));
      for (const [k, v] of Object.entries(annotations)) {
        if (v === null) next.delete(k);
        else next.set(k, v);
      }
      const updated = { ...claim, annotations: Object.fromEntries(next) };
      this.claimObjects.set(name, updated);
      return Promise.resolve(updated);
    },
    events: (name) => Promise.resolve(this.claimEvents.get(name) ?? []),
  };

  /** Jobs by name, the manifests they were made from, their events; what the job controller does with a new one */
  readonly jobObjects = new Map<string, Job>();
  readonly jobManifests = new Map<string, JobManifest>();
  readonly jobEvents = new Map<string, ClusterEvent[]>();
  jobController: 'pod' | 'none' = 'pod';
  readonly leases = new FakeLeaseApi();
  jobs: JobApi = {
    get: (name) => Promise.resolve(this.jobObjects.get(name)),
    create: (manifest: JobManifest) => {
      const name = manifest.metadata.name;
      this.calls.push(`create job ${name}`);
      if (this.jobObjects.has(name)) return Promise.reject(new GcK8sError('ALREADY_EXISTS', `jobs.batch "${name}" already exists`));
      const job: Job = {
        name,
        namespace: 'gc',
        uid: `uid-${++uidCounter}`,
        resourceVersion: '1',
        labels: manifest.metadata.labels ?? {},
        annotations: manifest.metadata.annotations ?? {},
        creationTimestamp: new Date().toISOString(),
      };
      this.jobObjects.set(name, job);
      this.jobManifests.set(name, manifest);
      if (this.jobController === 'pod') {
        // the controller makes the pod from the template, owned by the Job, a little later
        setTimeout(() => {
          if (this.jobObjects.get(name)?.uid !== job.uid) return;
          void this.create(
            {
              apiVersion: 'v1',
              kind: 'Pod',
              metadata: {
                name: `${name}-${(uidCounter++).toString(36).padStart(5, 'x')}`,
                labels: manifest.spec.template.metadata.labels ?? {},
                annotations: manifest.spec.template.metadata.annotations ?? {},
                ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name, uid: job.uid, controller: true }],
              },
              spec: manifest.spec.template.spec,
            },
            { signal: new AbortController().signal },
          );
        }, 2);
      }
      return Promise.resolve(job);
    },
    delete: (name, o) => {
      this.calls.push(`delete job ${name}`);
      const job = this.jobObjects.get(name);
      if (job === undefined) return Promise.resolve(false);
      if (o.uid !== undefined && o.uid !== job.uid) return Promise.reject(new GcK8sError('CONFLICT', 'uid precondition failed'));
      this.jobObjects.delete(name);
      // the garbage collector takes its pods (Background)
      setTimeout(() => {
        for (const pod of this.agentPods.list())
          if (pod.controller?.uid === job.uid && pod.deletionTimestamp === undefined) void this.delete(pod.name, { signal: o.signal });
      }, 3);
      return Promise.resolve(true);
    },
    events: (name) => Promise.resolve(this.jobEvents.get(name) ?? []),
  };

  configMapCache(): ObjectCache<never> {
    throw new Error('not faked');
  }

  close(): void {
    /* nothing */
  }

  addPod(pod: Partial<Pod> & { name: string }): Pod {
    const full = this.makePod(pod);
    this.agentPods.put(full);
    return full;
  }

  makePod(pod: Partial<Pod> & { name: string }): Pod {
    const full: Pod = {
      namespace: 'gc',
      uid: `uid-${++uidCounter}`,
      resourceVersion: '1',
      labels: { app: 'gc-agent' },
      annotations: {},
      creationTimestamp: new Date().toISOString(),
      phase: 'Pending',
      conditions: [],
      initContainers: [],
      containers: [],
      ...pod,
    };
    return full;
  }

  update(name: string, patch: Partial<Pod>): void {
    const pod = this.agentPods.get(name);
    if (pod !== undefined) this.agentPods.put({ ...pod, ...patch });
  }

  // PodApi
  annotate(name: string, uid: string, annotations: Readonly<Record<string, string | null>>, _o: CallOptions): Promise<Pod> {
    this.calls.push(`annotate ${name}`);
    const pod = this.agentPods.get(name);
    if (pod === undefined) return Promise.reject(new GcK8sError('NOT_FOUND', `pods "${name}" not found`));
    if (pod.uid !== uid) return Promise.reject(new GcK8sError('CONFLICT', 'uid precondition failed'));
    const next = new Map(Object.entries(pod.annotations));
    for (const [k, v] of Object.entries(annotations)) {
      if (v === null) next.delete(k);
      else next.set(k, v);
    }
    const updated = { ...pod, annotations: Object.fromEntries(next) };
    this.agentPods.put(updated);
    return Promise.resolve(updated);
  }

  claim(
    name: string,
    resourceVersion: string,
    change: { labels: Readonly<Record<string, string | null>>; annotations: Readonly<Record<string, string | null>> },
    _o: CallOptions,
  ): Promise<Pod> {
    this.calls.push(`claim ${name}`);
    const pod = this.agentPods.get(name);
    if (pod === undefined) return Promise.reject(new GcK8sError('NOT_FOUND', `pods "${name}" not found`));
    if (pod.resourceVersion !== resourceVersion) return Promise.reject(new GcK8sError('CONFLICT', 'the object has been modified'));
    const merge = (base: Readonly<Record<string, string>>, with_: Readonly<Record<string, string | null>>) => {
      const next = new Map(Object.entries(base));
      for (const [k, v] of Object.entries(with_)) {
        if (v === null) next.delete(k);
        else next.set(k, v);
      }
      return Object.fromEntries(next);
    };
    const updated = {
      ...pod,
      resourceVersion: String(Number(pod.resourceVersion) + 1),
      labels: merge(pod.labels, change.labels),
      annotations: merge(pod.annotations, change.annotations),
    };
    this.agentPods.put(updated);
    return Promise.resolve(updated);
  }

  create(manifest: PodManifest, _o: CallOptions): Promise<Pod> {
    this.calls.push(`create ${manifest.metadata.name}`);
    if (this.agentPods.get(manifest.metadata.name) !== undefined || this.pendingCreates.has(manifest.metadata.name)) {
      return Promise.reject(new GcK8sError('ALREADY_EXISTS', `pods "${manifest.metadata.name}" already exists`));
    }
    const gates = manifest.spec.schedulingGates?.map((g) => g.name) ?? [];
    const owner = manifest.metadata.ownerReferences?.find((r) => r.controller === true);
    const pod = this.makePod({
      name: manifest.metadata.name,
      labels: manifest.metadata.labels ?? {},
      annotations: manifest.metadata.annotations ?? {},
      ...(gates.length === 0 ? {} : { schedulingGates: gates }),
      ...(owner === undefined ? {} : { controller: { kind: owner.kind, name: owner.name, uid: owner.uid } }),
    });
    this.lastManifest = manifest;
    this.pendingCreates.add(pod.name);
    // Like a real watch, the cache learns about the pod a little after create() returns; a gated
    // pod is not scheduled (the kubelet never sees it) until its gates are removed.
    setTimeout(() => {
      this.pendingCreates.delete(pod.name);
      const ungated = this.ungatedEarly.delete(pod.name);
      const visible = ungated ? (({ schedulingGates: _g, ...rest }) => rest)(pod) : pod;
      this.agentPods.put(visible);
      if (gates.length === 0 || ungated) this.kubelet(visible, this);
    }, 2);
    return Promise.resolve(pod);
  }

  /** pods ungated before the cache saw them */
  private readonly ungatedEarly = new Set<string>();

  ungate(name: string, uid: string, _o: CallOptions): Promise<void> {
    this.calls.push(`ungate ${name}`);
    if (this.pendingCreates.has(name)) {
      this.ungatedEarly.add(name);
      return Promise.resolve();
    }
    const pod = this.agentPods.get(name);
    if (pod === undefined) return Promise.reject(new GcK8sError('NOT_FOUND', `pods "${name}" not found`));
    if (pod.uid !== uid) return Promise.reject(new GcK8sError('CONFLICT', 'uid precondition failed'));
    const { schedulingGates: _gone, ...rest } = pod;
    this.agentPods.put(rest);
    this.kubelet(rest, this);
    return Promise.resolve();
  }

  lastManifest: PodManifest | undefined;
  /** created but not yet visible in the cache */
  readonly pendingCreates = new Set<string>();

  /** what GET answers instead of the cache's object (the API server ahead of a lagging watch) */
  readonly apiOverride = new Map<string, Pod>();

  get(name: string, _o: CallOptions): Promise<Pod | undefined> {
    this.calls.push(`get ${name}`);
    return Promise.resolve(this.apiOverride.get(name) ?? this.agentPods.get(name));
  }

  /** the grace period of the last delete of each pod */
  readonly graces = new Map<string, number | undefined>();

  list(selector: string, _o: CallOptions): Promise<Pod[]> {
    this.calls.push(`list ${selector}`);
    return Promise.resolve(this.agentPods.list());
  }

  delete(name: string, o: CallOptions & { gracePeriodSeconds?: number; uid?: string }): Promise<boolean> {
    this.calls.push(`delete ${name}`);
    this.graces.set(name, o.gracePeriodSeconds);
    const pod = this.agentPods.get(name);
    if (pod === undefined) return Promise.resolve(false);
    if (o.uid !== undefined && o.uid !== pod.uid) return Promise.reject(new GcK8sError('CONFLICT', 'uid precondition failed'));
    this.update(name, { deletionTimestamp: new Date().toISOString() });
    setTimeout(() => {
      this.tmux.delete(name);
      this.agentPods.remove(name);
    }, 5);
    return Promise.resolve(true);
  }

  /** what the metrics API says, by pod name (undefined: no metrics API) */
  podUsage: Map<string, PodUsage> | undefined = undefined;
  usage(_selector: string, _o: CallOptions): Promise<PodUsage[] | undefined> {
    return Promise.resolve(this.podUsage === undefined ? undefined : [...this.podUsage.values()]);
  }

  events(podName: string, _o: CallOptions): Promise<ClusterEvent[]> {
    return Promise.resolve(this.podEvents.get(podName) ?? []);
  }

  // PodExec: a tiny tmux
  async runExec(req: ExecRequest): Promise<ExecResult> {
    // This fake has no shell: a persistent channel cannot start (callers fall back to one-shot).
    if (req.command[0] === 'bash') return { exitCode: 127, stdout: Buffer.alloc(0), stderr: Buffer.from('bash: not found') };
    let stdin: string | undefined;
    if (req.stdin instanceof Uint8Array) stdin = Buffer.from(req.stdin).toString('utf8');
    else if (req.stdin !== undefined) {
      const parts: Uint8Array[] = [];
      for await (const c of req.stdin) parts.push(c);
      stdin = Buffer.concat(parts).toString('utf8');
    }
    this.execs.push({ pod: req.pod, command: req.command, ...(stdin === undefined ? {} : { stdin }) });
    const injected = this.failExec?.(req);
    if (injected !== undefined) throw injected;
    const t = this.tmux.get(req.pod);
    const ok = (stdout = ''): ExecResult => ({ exitCode: 0, stdout: Buffer.from(stdout), stderr: Buffer.alloc(0) });
    const fail = (code: number, stderr: string): ExecResult => ({ exitCode: code, stdout: Buffer.alloc(0), stderr: Buffer.from(stderr) });
    if (t === undefined || !t.alive)
      return req.command[0] === 'tmux'
        ? fail(1, 'no server running on /tmp/tmux-1000/default')
        : fail(req.command[2]?.includes('pane_pid') ? 3 : 1, '');
    const [bin, ...rest] = req.command;
    // a warm pod's claim: pre_start and the launch run under env(1); the launch starts tmux `main`
    if (bin === 'env') {
      const script = rest[rest.indexOf('-c') + 1] ?? '';
      if (this.failWarmLaunch && script.includes('.gc-k8s-claimed')) return fail(1, 'tmux new-session failed');
      if (script.includes('.gc-k8s-claimed')) {
        t.env = new Map(rest.flatMap((a, i) => (rest[i - 1] === '-e' && a.includes('=') ? [a.split('=', 2) as [string, string]] : [])));
        this.warmLaunches.push({ pod: req.pod, argv: rest });
        return ok('0\n'); // after its settle, the pane is alive
      }
      return ok();
    }
    // `test -f <marker>`: a kept workspace staged by an earlier pod
    if (bin === 'test') return this.stagedWorkspaces.has(rest[1] ?? '') ? ok() : fail(1, '');
    if (bin === 'sh') {
      const script = rest[1] ?? '';
      if (script.includes('pane_pid')) return rest.slice(3).includes('agent-proc') ? ok() : fail(1, '');
      return ok(); // WAIT_FOR_TMUX, setup, untar
    }
    // tmux splits its argv into commands at every argument ending in an unescaped `;`
    let result = ok();
    for (const command of splitTmuxArgv(rest[0] === '-u' ? rest.slice(1) : rest)) {
      result = this.tmuxCommand(t, command, stdin, ok, fail);
      if (result.exitCode !== 0) return result;
    }
    return result;
  }

  private tmuxCommand(
    t: FakeTmux,
    command: string[],
    stdin: string | undefined,
    ok: (s?: string) => ExecResult,
    fail: (c: number, e: string) => ExecResult,
  ): ExecResult {
    const [name, ...rawArgs] = command;
    // options: `-t main`, `-u`, `-p`…, ended by `--` or the first operand
    const operands: string[] = [];
    let flags = true;
    for (let i = 0; i < rawArgs.length; i++) {
      const a = rawArgs[i]!;
      if (flags && a === '--') {
        flags = false;
        continue;
      }
      if (flags && a === '-t') {
        i++;
        continue;
      }
      if (flags && a.startsWith('-') && a.length > 1) {
        if (a === '-u') operands.push(a);
        continue;
      }
      flags = false;
      operands.push(a);
    }
    switch (name) {
      case 'load-buffer': // load-buffer -b B - ; paste-buffer …: the text lands in the pane
        t.pane += stdin ?? '';
        return ok();
      case 'paste-buffer':
      case 'has-session':
        return ok();
      case 'set-environment':
        if (operands[0] === '-u') t.env.delete(operands[1]!);
        else t.env.set(operands[0]!, operands[1]!);
        return ok();
      case 'show-environment': {
        const v = t.env.get(operands[0]!);
        return v === undefined ? fail(1, `unknown variable: ${operands[0]}`) : ok(`${operands[0]}=${v}\n`);
      }
      case 'send-keys':
        t.keys.push(...operands);
        if (operands.join(' ') === 'Enter') t.pane += '\n';
        return ok();
      case 'capture-pane':
        return ok(t.pane);
      case 'display-message':
        if (command.includes('#{session_attached}')) return ok(`${t.attached ?? 0}\n`);
        return ok(command.includes('#{pane_dead}') ? '0\n' : '1700000000\n');
      case 'clear-history':
        t.pane = '';
        return ok();
      case 'run-shell':
      case 'kill-server':
        (t.commandsRun ??= []).push(command.join(' '));
        if (name === 'kill-server') t.alive = false;
        return ok();
      default:
        return fail(1, `unknown command ${name}`);
    }
  }
}
