// A fake namespace for unit tests of the session core: pods live in a MemoryCache like the
// watch cache would show them, a scripted "kubelet" moves them through phases, and exec is
// answered by a small model of tmux in each pod. Every API call and exec is recorded.

import type { ClusterEvent, ContainerStateSummary, Pod, PodManifest, ServiceAddress } from '../../src/core/k8s-types.js';
import type { CallOptions, ConfigMapApi, ExecRequest, ExecResult, NamespaceClient, ObjectCache, PodApi, PodExec, SecretApi, ServiceApi } from '../../src/core/ports.js';
import { GcK8sError } from '../../src/errors.js';
import { MemoryCache } from './memory-cache.js';

export interface FakeTmux {
  alive: boolean;
  env: Map<string, string>;
  keys: string[];
  pane: string;
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
  secrets: SecretApi = { value: (name, key) => Promise.resolve(this.secretObjects.get(name)?.[key]) };

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
  create(manifest: PodManifest, _o: CallOptions): Promise<Pod> {
    this.calls.push(`create ${manifest.metadata.name}`);
    if (this.agentPods.get(manifest.metadata.name) !== undefined || this.pendingCreates.has(manifest.metadata.name)) {
      return Promise.reject(new GcK8sError('ALREADY_EXISTS', `pods "${manifest.metadata.name}" already exists`));
    }
    const pod = this.makePod({
      name: manifest.metadata.name,
      labels: manifest.metadata.labels ?? {},
      annotations: manifest.metadata.annotations ?? {},
    });
    this.lastManifest = manifest;
    this.pendingCreates.add(pod.name);
    // Like a real watch, the cache learns about the pod a little after create() returns.
    setTimeout(() => {
      this.pendingCreates.delete(pod.name);
      this.agentPods.put(pod);
      this.kubelet(pod, this);
    }, 2);
    return Promise.resolve(pod);
  }

  lastManifest: PodManifest | undefined;
  /** created but not yet visible in the cache */
  readonly pendingCreates = new Set<string>();

  get(name: string, _o: CallOptions): Promise<Pod | undefined> {
    this.calls.push(`get ${name}`);
    return Promise.resolve(this.agentPods.get(name));
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
    if (t === undefined || !t.alive) return req.command[0] === 'tmux' ? fail(1, 'no server running on /tmp/tmux-1000/default') : fail(req.command[2]?.includes('pane_pid') ? 3 : 1, '');
    const [bin, ...rest] = req.command;
    if (bin === 'sh') {
      const script = rest[1] ?? '';
      if (script.includes('pane_pid')) return rest.slice(3).includes('agent-proc') ? ok() : fail(1, '');
      return ok(); // WAIT_FOR_TMUX, setup, untar
    }
    const args = rest[0] === '-u' ? rest.slice(1) : rest;
    switch (args[0]) {
      case 'load-buffer': // load-buffer -b B - ; paste-buffer …: the text lands in the pane
        t.pane += stdin ?? '';
        return ok();
      case 'has-session':
        return ok();
      case 'set-environment':
        if (args[3] === '-u') t.env.delete(args[4]!);
        else t.env.set(args[3]!, args[4]!);
        return ok();
      case 'show-environment': {
        const v = t.env.get(args[3]!);
        return v === undefined ? fail(1, `unknown variable: ${args[3]}`) : ok(`${args[3]}=${v}\n`);
      }
      case 'send-keys':
        t.keys.push(...args.slice(3));
        if (args.slice(3).join(' ') === 'Enter') t.pane += '\n';
        return ok();
      case 'capture-pane':
        return ok(t.pane);
      case 'display-message':
        return ok(args.includes('#{pane_dead}') ? '0\n' : '1700000000\n');
      case 'clear-history':
        t.pane = '';
        return ok();
      default:
        return fail(1, `unknown command ${args[0]}`);
    }
  }
}
