import { beforeEach, describe, expect, it } from 'vitest';
import { GcK8sError } from '../../../src/errors.js';
import { DEFAULT_POD_SETTINGS } from '../../../src/session/settings.js';
import { DEFAULT_SESSION_OPTIONS } from '../../../src/session/options.js';
import { SessionProvider } from '../../../src/session/provider.js';
import { parseStartRequest } from '../../../src/session/request.js';
import { podNameFor } from '../../../src/session/names.js';
import { silentLogger } from '../../../src/log/logger.js';
import { systemClock } from '../../../src/util/clock.js';
import { KeyedMutex } from '../../../src/util/keyed-mutex.js';
import { DirectRunner } from '../../../src/exec/runner.js';
import { FakeCluster, running, waiting } from '../../fakes/fake-cluster.js';
import type { Pod } from '../../../src/kube/types.js';

let fake: FakeCluster;
let provider: SessionProvider;
const signal = () => AbortSignal.timeout(5_000);
const start = (name: string, json: object = { command: 'agent' }) =>
  provider.start(name, parseStartRequest(JSON.stringify(json)), signal());

function make(options: Partial<typeof DEFAULT_SESSION_OPTIONS> = {}) {
  provider = new SessionProvider({
    client: fake,
    settings: { ...DEFAULT_POD_SETTINGS, image: 'gc-agent:test' },
    // the waits for a container's exit to show are what these tests run into: short here
    options: { ...DEFAULT_SESSION_OPTIONS, settleMs: 0, containerExitWaitMs: 150, diedReportWaitMs: 250, ...options },
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

describe('start', () => {
  it('creates the pod and returns once tmux is up; the session is then running and listed', async () => {
    await start('mayor');
    expect(fake.calls).toEqual(['create mayor', 'annotate mayor']); // the annotation: the start finished
    expect(await provider.isRunning('mayor', signal())).toBe(true);
    expect(await provider.listRunning('', signal())).toEqual(['mayor']);
  });

  it('refuses a live session with the "already exists" wording gc maps to ErrSessionExists', async () => {
    await start('mayor');
    await expect(start('mayor')).rejects.toThrow(/session "mayor" already exists \(pod: mayor\)/);
    expect(fake.calls.filter((c) => c.startsWith('create'))).toHaveLength(1);
  });

  it('rejects concurrent starts of one name consistently: exactly one wins', async () => {
    const results = await Promise.allSettled([start('x'), start('x'), start('x')]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'rejected').map((r) => String(r.reason))).toEqual([
      expect.stringMatching(/already exists/),
      expect.stringMatching(/already exists/),
    ]);
  });

  it('replaces a completed pod of the session', async () => {
    const old = fake.addPod({
      name: 'mayor',
      phase: 'Succeeded',
      annotations: { 'gc-session-name': 'mayor', 'gc-k8s.io/entrypoint': '1' },
    });
    await start('mayor');
    expect(fake.calls).toEqual(['delete mayor', 'create mayor', 'annotate mayor']);
    expect(fake.agentPods.get('mayor')?.uid).not.toBe(old.uid);
  });

  it('treats a young upstream pod whose tmux is not up as initializing, and an old one as stale', async () => {
    fake.addPod({ name: 'coder', phase: 'Running', containers: [running()], labels: { app: 'gc-agent', 'gc-session': 'coder' } });
    await expect(start('coder')).rejects.toMatchObject({ code: 'SESSION_INITIALIZING' });
    fake.update('coder', { creationTimestamp: new Date(Date.now() - 300_000).toISOString() });
    await start('coder');
    expect(fake.calls).toEqual(['delete coder', 'create coder', 'annotate coder']);
  });

  it('a start retried with its request id after its daemon died finishes what is pending, and types the nudge once', async () => {
    // what a daemon killed after create left: the pod, its request id, nothing of the rest done
    fake.addPod({
      name: 'w',
      phase: 'Running',
      containers: [running()],
      labels: { app: 'gc-agent', 'gc-session': 'w' },
      annotations: {
        'gc-session-name': 'w',
        'gc-k8s.io/entrypoint': '1',
        'gc-k8s.io/start-rid': 'rid-1',
        'gc-k8s.io/start-pending': 'start,nudge',
      },
    });
    fake.tmux.set('w', { alive: true, env: new Map(), keys: [], pane: '' });
    await provider.start('w', parseStartRequest(JSON.stringify({ command: 'agent', nudge: 'go' })), signal(), 'rid-1');
    await provider.inputSettled('w');
    expect(fake.calls.filter((c) => c.startsWith('create') || c.startsWith('delete'))).toEqual([]); // adopted, not recreated
    expect(fake.tmux.get('w')!.pane).toBe('go\n');
    expect(fake.agentPods.get('w')!.annotations['gc-k8s.io/start-pending']).toBeUndefined();
    // the same request once more (the client's retry of a start that had finished): success, nothing redone
    fake.calls.length = 0;
    await provider.start('w', parseStartRequest(JSON.stringify({ command: 'agent', nudge: 'go' })), signal(), 'rid-1');
    expect(fake.calls).toEqual([]);
    expect(fake.tmux.get('w')!.pane).toBe('go\n');
  });

  it('only the nudge is left: it is typed, nothing else is redone', async () => {
    fake.addPod({
      name: 'n2',
      phase: 'Running',
      containers: [running()],
      labels: { app: 'gc-agent', 'gc-session': 'n2' },
      annotations: {
        'gc-session-name': 'n2',
        'gc-k8s.io/entrypoint': '1',
        'gc-k8s.io/start-rid': 'r2',
        'gc-k8s.io/start-pending': 'nudge',
      },
    });
    fake.tmux.set('n2', { alive: true, env: new Map(), keys: [], pane: '' });
    await provider.start(
      'n2',
      parseStartRequest(JSON.stringify({ command: 'agent', nudge: 'hi', session_setup: ['touch /tmp/once'] })),
      signal(),
      'r2',
    );
    await provider.inputSettled('n2');
    expect(fake.tmux.get('n2')!.pane).toBe('hi\n');
    expect(fake.execs.some((e) => e.pod === 'n2' && e.command.join(' ').includes('/tmp/once'))).toBe(false);
  });

  it("a new start (another request) replaces the pod of a start a dead daemon left unfinished, instead of answering 'already exists'", async () => {
    fake.addPod({
      name: 'u',
      phase: 'Running',
      containers: [running()],
      labels: { app: 'gc-agent', 'gc-session': 'u' },
      annotations: {
        'gc-session-name': 'u',
        'gc-k8s.io/entrypoint': '1',
        'gc-k8s.io/start-rid': 'old',
        'gc-k8s.io/start-pending': 'start',
      },
    });
    fake.tmux.set('u', { alive: true, env: new Map(), keys: [], pane: '' });
    await provider.start('u', parseStartRequest(JSON.stringify({ command: 'agent' })), signal(), 'new');
    // the API server (not the cache) confirms that start is unfinished before its pod is replaced
    expect(fake.calls).toEqual(['get u', 'delete u', 'create u', 'annotate u']);
    expect(fake.agentPods.get('u')!.annotations['gc-k8s.io/start-rid']).toBe('new');
  });

  it('a start right after another sees it finished even before the watch does: "already exists", the live pod kept', async () => {
    await start('v');
    // the cache still shows the previous start's progress mark (its clearing not delivered yet)
    const pod = fake.agentPods.get('v')!;
    fake.agentPods.put({ ...pod, annotations: { ...pod.annotations, 'gc-k8s.io/start-pending': 'start' } });
    fake.apiOverride.set('v', pod); // what the API server answers
    await expect(start('v')).rejects.toThrow(/already exists/);
    expect(fake.calls.filter((c) => c === 'delete v')).toEqual([]);
  });

  it('a session with credentials: the pod is created gated, its Secret created owned by the pod, then the pod is let go', async () => {
    await start('cred', { command: 'agent', env: { ANTHROPIC_API_KEY: 'sk-ant-secret' } });
    expect(fake.calls).toEqual(['create cred', 'create secret cred-credentials', 'ungate cred', 'annotate cred']);
    const secret = fake.createdSecrets.get('cred-credentials')!;
    const pod = fake.agentPods.get('cred')!;
    expect(secret.metadata.ownerReferences).toEqual([
      { apiVersion: 'v1', kind: 'Pod', name: 'cred', uid: pod.uid, blockOwnerDeletion: false },
    ]);
    expect(Buffer.from(secret.data['ANTHROPIC_API_KEY']!, 'base64').toString()).toBe('sk-ant-secret');
    expect(JSON.stringify(fake.lastManifest)).not.toContain('sk-ant-secret');
    expect(await provider.isRunning('cred', signal())).toBe(true);
  });

  it('fails at the first pull error whose cause is permanent (no back-off wait) and leaves no pod behind', async () => {
    let backOffShown = false;
    fake.kubelet = (pod, f) => {
      queueMicrotask(() => {
        f.update(pod.name, { containers: [waiting('ErrImagePull', 'failed to resolve reference "docker.io/library/nope:1": not found')] });
        setTimeout(() => {
          backOffShown = true;
          f.update(pod.name, { containers: [waiting('ImagePullBackOff', 'Back-off pulling image "nope"')] });
        }, 200);
      });
    };
    await expect(start('bad')).rejects.toThrow(/ErrImagePull \(failed to resolve reference .*not found\)/);
    expect(backOffShown).toBe(false);
    expect(fake.calls).toEqual(['create bad', 'delete bad']);
    await new Promise((r) => setTimeout(r, 20));
    expect(fake.agentPods.get('bad')).toBeUndefined();
  });

  it('waits through a transient pull failure (a timeout) and starts once the pull succeeds', async () => {
    fake.kubelet = (pod, f) => {
      queueMicrotask(() => {
        f.update(pod.name, { containers: [waiting('ErrImagePull', 'dial tcp 10.0.0.1:443: i/o timeout')] });
        f.update(pod.name, { containers: [waiting('ImagePullBackOff', 'Back-off pulling image "img"')] });
        setTimeout(() => {
          f.update(pod.name, { phase: 'Running', containers: [running()] });
          f.tmux.set(pod.name, { alive: true, env: new Map(), keys: [], pane: '' });
        }, 30);
      });
    };
    await expect(start('flaky')).resolves.toBeUndefined();
  });

  it('a back-off after a permanent pull error fails with that error named', async () => {
    fake.kubelet = (pod, f) => {
      queueMicrotask(() => {
        f.update(pod.name, {
          containers: [waiting('ErrImagePull', 'pull access denied, repository does not exist or may require authorization')],
        });
      });
    };
    await expect(start('denied')).rejects.toThrow(/ErrImagePull \(pull access denied/);
  });

  it('says why when the deadline passes (scheduling events), not just "timeout"', async () => {
    make({ startTimeoutMs: 100 });
    fake.kubelet = (pod, f) => {
      f.podEvents.set(pod.name, [
        { type: 'Warning', reason: 'FailedScheduling', message: '0/1 nodes are available: 1 Insufficient memory.', count: 3, lastSeen: '' },
      ]);
    };
    await expect(start('big')).rejects.toThrow(
      /not running before the start deadline: phase Pending; FailedScheduling: 0\/1 nodes are available: 1 Insufficient memory\. \(x3\)/,
    );
    expect(fake.calls).toContain('delete big');
  });

  it("no room in the cluster: fails with CAPACITY (exit 75) naming the scheduler's reason, and removes the pod", async () => {
    make({ capacityWaitMs: 50 });
    fake.kubelet = (pod, f) => {
      queueMicrotask(() => {
        f.update(pod.name, {
          conditions: [
            { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/1 nodes are available: 1 Insufficient cpu.' },
          ],
        });
      });
    };
    await expect(start('crowded')).rejects.toMatchObject({
      code: 'CAPACITY',
      message: expect.stringMatching(/no room in the cluster for pod crowded: 0\/1 nodes are available: 1 Insufficient cpu\./) as unknown,
    });
    expect(fake.calls).toEqual(['create crowded', 'delete crowded']);
  });

  it('a pod unschedulable for another reason (a node selector) is not capacity: it waits, and says why at the deadline', async () => {
    make({ capacityWaitMs: 20, startTimeoutMs: 150 });
    fake.kubelet = (pod, f) => {
      queueMicrotask(() => {
        f.update(pod.name, {
          conditions: [
            {
              type: 'PodScheduled',
              status: 'False',
              reason: 'Unschedulable',
              message: "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector.",
            },
          ],
        });
      });
    };
    await expect(start('picky')).rejects.toMatchObject({ code: 'START_FAILED' });
  });

  it('a full namespace quota or an API server that is down is CAPACITY too, with nothing created', async () => {
    fake.create = () =>
      Promise.reject(
        new GcK8sError('QUOTA_EXCEEDED', 'pods "q" is forbidden: exceeded quota: compute, requested: cpu=1, used: cpu=2, limited: cpu=2'),
      );
    await expect(start('q')).rejects.toMatchObject({
      code: 'CAPACITY',
      message: expect.stringMatching(/namespace quota has no room for session "q": .*exceeded quota: compute, requested: cpu=1/) as unknown,
    });
    fake.create = () => Promise.reject(new GcK8sError('K8S_UNAVAILABLE', 'creating pod gc/down: connect ECONNREFUSED 127.0.0.1:6443'));
    await expect(start('down')).rejects.toMatchObject({
      code: 'CAPACITY',
      message: expect.stringMatching(/API server is not available: .*ECONNREFUSED/) as unknown,
    });
    expect(fake.agentPods.list()).toEqual([]);
  });

  it('one_shot: a task that ends during start started; its Job keeps its last screen and exit status until stop', async () => {
    const ended = (message: string, exitCode: number) => (pod: Pod, f: FakeCluster) => {
      queueMicrotask(() => {
        f.update(pod.name, {
          phase: exitCode === 0 ? 'Succeeded' : 'Failed',
          containers: [{ name: 'agent', ready: false, restartCount: 0, state: 'terminated', reason: 'Completed', message, exitCode }],
        });
      });
    };
    fake.kubelet = ended('build ok\nall done', 3);
    await expect(
      provider.start('task', parseStartRequest(JSON.stringify({ command: 'make', lifecycle: 'one_shot' })), signal()),
    ).resolves.toBeUndefined();
    expect(fake.jobManifests.get('task')?.spec.template.metadata.annotations?.['gc-k8s.io/lifecycle']).toBe('one_shot');
    expect(await provider.isRunning('task', signal())).toBe(false);
    expect(await provider.peek('task', 1, signal())).toBe('all done\n[one-shot session ended: exit status 3]\n');
    expect(fake.calls).not.toContain('delete job task');
    await provider.stop('task', signal());
    expect(fake.calls).toContain('delete job task');
    expect(fake.jobObjects.size).toBe(0);
    expect(fake.agentPods.list()).toEqual([]);
    // a pre_start that failed is a failed start, one-shot or not: its Job goes
    fake.kubelet = ended('pre_start command 1 failed with exit 1', 1);
    await expect(
      provider.start('task2', parseStartRequest(JSON.stringify({ command: 'make', lifecycle: 'one_shot' })), signal()),
    ).rejects.toMatchObject({
      code: 'SESSION_DIED',
      message: expect.stringContaining('pre_start command 1 failed') as unknown,
    });
    expect(fake.jobObjects.size).toBe(0);
    expect(() => parseStartRequest(JSON.stringify({ lifecycle: 'forever' }))).toThrow(
      /field "lifecycle" must be "one_shot" or "persistent"/,
    );
  });

  it('reports a session that dies during startup and removes its pod', async () => {
    make({ settleMs: 5 });
    fake.kubelet = (pod, f) => {
      queueMicrotask(() => {
        f.update(pod.name, { phase: 'Running', containers: [running()] });
        f.tmux.set(pod.name, { alive: true, env: new Map(), keys: [], pane: '' });
        setTimeout(() => {
          f.tmux.get(pod.name)!.alive = false;
        }, 1);
      });
    };
    await expect(start('flaky')).rejects.toMatchObject({ code: 'SESSION_DIED' });
    expect(fake.calls).toContain('delete flaky');
  });

  it('validates everything before touching the cluster', async () => {
    await expect(start('x', { env: { GC_DOLT_HOST: 'db' } })).rejects.toThrow(/requires both GC_DOLT_HOST and GC_DOLT_PORT/);
    await expect(start('')).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    expect(fake.calls).toEqual([]);
  });

  it('delivers the start payload nudge after start', async () => {
    await start('n', { command: 'agent', nudge: 'hello there' });
    await provider.inputSettled('n');
    expect(fake.tmux.get('n')?.pane).toBe('hello there\n');
  });
});

describe('a start its caller cancels', () => {
  it('as it finishes (after its last step, before its answer) is rolled back: gc never hears of the session', async () => {
    make();
    const caller = new AbortController();
    const annotate = fake.annotate.bind(fake);
    fake.annotate = async (name, uid, annotations, o) => {
      const pod = await annotate(name, uid, annotations, o);
      // the start's last step: clearing start-pending; gc's SIGTERM lands right after it
      if (annotations['gc-k8s.io/start-pending'] === null) caller.abort(new Error('SIGTERM'));
      return pod;
    };
    await expect(provider.start('late', parseStartRequest('{"command":"agent"}'), caller.signal)).rejects.toMatchObject({
      code: 'ABORTED',
    });
    expect(fake.calls.filter((c) => c.startsWith('create') || c.startsWith('delete'))).toEqual(['create late', 'delete late']);
    expect(fake.agentPods.list().filter((p) => p.annotations['gc-session-name'] === 'late')).toEqual([]);
  });
});

describe('stop', () => {
  it('returns only when the pod is gone, so nothing reports it running afterwards', async () => {
    await start('mayor');
    await provider.stop('mayor', signal());
    expect(fake.agentPods.get('mayor')).toBeUndefined();
    expect(await provider.isRunning('mayor', signal())).toBe(false);
    expect(await provider.listRunning('', signal())).toEqual([]);
  });

  it('is idempotent', async () => {
    await provider.stop('never-started', signal());
    await start('a');
    await provider.stop('a', signal());
    await provider.stop('a', signal());
    expect(fake.calls.filter((c) => c.startsWith('delete'))).toHaveLength(1);
  });
});

describe('running state comes from the cache, never counting terminating pods', () => {
  it('a pod with a deletionTimestamp is not running anywhere', async () => {
    await start('t');
    fake.update('t', { deletionTimestamp: new Date().toISOString() });
    expect(await provider.isRunning('t', signal())).toBe(false);
    expect(await provider.listRunning('', signal())).toEqual([]);
    expect(await provider.processAlive('t', ['agent-proc'], signal())).toBe(false);
    expect(await provider.peek('t', 10, signal())).toBe('');
  });

  it('is-running of our pods makes no exec at all', async () => {
    await start('q');
    const before = fake.execs.length;
    expect(await provider.isRunning('q', signal())).toBe(true);
    expect(await provider.listRunning('q', signal())).toEqual(['q']);
    expect(fake.execs.length).toBe(before);
  });

  it('an outage is an error, not a silent false', async () => {
    await start('o');
    fake.agentPods.freshError = new Error('the watch is not making progress and a list failed: connect ECONNREFUSED 127.0.0.1:6443');
    await expect(provider.isRunning('o', signal())).rejects.toThrow(/reading pods in namespace .*ECONNREFUSED/);
    await expect(provider.listRunning('', signal())).rejects.toMatchObject({ code: 'K8S_UNAVAILABLE' });
  });

  it('finds pods made by the native provider by their label, and list-running names them from the annotation', async () => {
    fake.addPod({
      name: 'city-mayor',
      phase: 'Running',
      containers: [running()],
      labels: { app: 'gc-agent', 'gc-session': 'city-mayor' },
      annotations: { 'gc-session-name': 'city/mayor' },
    });
    fake.tmux.set('city-mayor', { alive: true, env: new Map(), keys: [], pane: 'hello' });
    expect(await provider.isRunning('city/mayor', signal())).toBe(true);
    expect(await provider.peek('city/mayor', 5, signal())).toBe('hello\n');
    expect(await provider.listRunning('city/', signal())).toEqual(['city/mayor']);
  });

  it("stops a native provider's pod quickly: its tmux is ended first, then a 1 s grace instead of waiting out a shell that ignores SIGTERM", async () => {
    fake.addPod({
      name: 'city-coder',
      phase: 'Running',
      containers: [running()],
      labels: { app: 'gc-agent', 'gc-session': 'city-coder' },
      annotations: { 'gc-session-name': 'city/coder' },
    });
    fake.tmux.set('city-coder', { alive: true, env: new Map(), keys: [], pane: '' });
    await start('ours');
    await provider.stop('city/coder', signal());
    await provider.stop('ours', signal());
    expect(fake.execs.some((e) => e.pod === 'city-coder' && e.command.includes('kill-server'))).toBe(true);
    expect(fake.graces.get('city-coder')).toBe(1);
    expect(fake.graces.get('ours')).toBe(5); // our entrypoint ends on SIGTERM: the configured grace
    expect(fake.execs.some((e) => e.pod === 'ours' && e.command.includes('kill-server'))).toBe(false);
  });
});

describe('ops', () => {
  beforeEach(async () => {
    await start('s', { command: 'agent', env: { GC_SESSION_ID: 'abc' } });
  });

  it('meta round-trips values with newlines and =, unset keys read as empty', async () => {
    await provider.setMeta('s', 'K', 'a=b\nc', signal());
    expect(await provider.getMeta('s', 'K', signal())).toBe('a=b\nc');
    expect(await provider.getMeta('s', 'UNSET', signal())).toBe('');
    await provider.removeMeta('s', 'K', signal());
    expect(await provider.getMeta('s', 'K', signal())).toBe('');
  });

  it('best-effort ops on a missing session do nothing and do not fail', async () => {
    const before = fake.execs.length;
    await provider.nudge('missing', 'x', signal());
    await provider.interrupt('missing', signal());
    await provider.sendKeys('missing', ['Enter'], signal());
    await provider.clearScrollback('missing', signal());
    await provider.copyTo('missing', '/nonexistent-path-for-conformance', '', signal());
    expect(await provider.getMeta('missing', 'K', signal())).toBe('');
    expect(await provider.peek('missing', 0, signal())).toBe('');
    expect(await provider.lastActivity('missing', signal())).toBe('');
    expect(fake.execs.length).toBe(before);
  });

  it('process-alive is true for no names without asking the pod, else checks the pane tree', async () => {
    const before = fake.execs.length;
    expect(await provider.processAlive('s', [], signal())).toBe(true);
    expect(fake.execs.length).toBe(before);
    expect(await provider.processAlive('s', ['agent-proc'], signal())).toBe(true);
    expect(await provider.processAlive('s', ['other'], signal())).toBe(false);
  });

  it('returns once the text is typed; Enter follows from the session input queue', async () => {
    make({ nudgeEnterDelayMs: 50 });
    await provider.nudge('s', 'typed', signal());
    expect(fake.tmux.get('s')!.pane).toBe('typed');
    await provider.inputSettled('s');
    expect(fake.tmux.get('s')!.pane).toBe('typed\n');
  });

  it('keys and meta are only ever data: a ; cannot start another tmux command (send-keys s Enter ";" run-shell … ran a shell)', async () => {
    await provider.sendKeys('s', ['x', 'Enter', ';', 'run-shell', 'touch /tmp/pwned'], signal());
    await provider.sendKeys('s', ['y;', 'kill-server'], signal());
    expect(fake.tmux.get('s')!.commandsRun ?? []).toEqual([]);
    expect(fake.tmux.get('s')!.alive).toBe(true);
    expect(fake.tmux.get('s')!.keys).toEqual(['x', 'Enter', ';', 'run-shell', 'touch /tmp/pwned', 'y;', 'kill-server']);
    for (const value of ['abc;', ';', 'a\\;', '-x', '--']) {
      await provider.setMeta('s', 'K', value, signal());
      expect(await provider.getMeta('s', 'K', signal())).toBe(value);
    }
    await provider.setMeta('s', 'K;', 'v', signal());
    expect(await provider.getMeta('s', 'K;', signal())).toBe('v');
    expect(fake.tmux.get('s')!.commandsRun ?? []).toEqual([]);
  });

  it('drops one trailing newline (echo text | nudge) so the agent gets no extra empty line', async () => {
    await provider.nudge('s', 'what next?\n', signal());
    await provider.nudge('s', 'two lines\r\n', signal());
    await provider.nudge('s', 'kept\n\n', signal());
    await provider.nudge('s', '\n', signal()); // only a newline: nothing to type, like an empty nudge
    await provider.inputSettled('s');
    expect(fake.tmux.get('s')!.pane).toBe('what next?\ntwo lines\nkept\n\n');
  });

  it('serializes nudges per session: text and Enter of two nudges never interleave', async () => {
    await Promise.all([provider.nudge('s', 'one', signal()), provider.nudge('s', 'two', signal())]);
    await provider.inputSettled('s');
    const pane = fake.tmux.get('s')!.pane;
    expect(pane).toMatch(/^(one\ntwo\n|two\none\n)$/);
    const nudges = fake.execs.filter((e) => e.command.includes('load-buffer'));
    expect(nudges.map((e) => e.stdin)).toHaveLength(2);
  });

  it('a 1 MiB nudge goes through stdin, not argv', async () => {
    const big = 'x'.repeat(1 << 20);
    await provider.nudge('s', big, signal());
    const last = fake.execs.at(-1)!;
    expect(last.stdin).toBe(big);
    expect(JSON.stringify(last.command).length).toBeLessThan(2000);
  });

  it('a container that exited after the cache read counts as a missing session, while other exec failures still throw', async () => {
    const before = fake.execs.length;
    const gone = new GcK8sError('CONTAINER_NOT_RUNNING', 'exec sh in pod gc/p: container not found ("agent")');
    fake.failExec = () => gone;
    await provider.nudge('s', 'hello', signal());
    await provider.interrupt('s', signal());
    await provider.sendKeys('s', ['Enter'], signal());
    await provider.clearScrollback('s', signal());
    await provider.setMeta('s', 'K', 'v', signal());
    await provider.removeMeta('s', 'K', signal());
    expect(await provider.getMeta('s', 'K', signal())).toBe('');
    expect(await provider.peek('s', 10, signal())).toBe('');
    expect(await provider.lastActivity('s', signal())).toBe('');
    expect(await provider.processAlive('s', ['agent-proc'], signal())).toBe(false);
    expect(fake.execs.length).toBe(before + 10); // each op asked the pod once and took the refusal as "not there"
    fake.failExec = () => new GcK8sError('EXEC_FAILED', 'exec sh in pod gc/p: container agent is not valid for pod p');
    await expect(provider.nudge('s', 'hello', signal())).rejects.toMatchObject({ code: 'EXEC_FAILED' });
    fake.failExec = () => new GcK8sError('K8S_UNAVAILABLE', 'exec sh in pod gc/p: connect ECONNREFUSED');
    await expect(provider.interrupt('s', signal())).rejects.toMatchObject({ code: 'K8S_UNAVAILABLE' });
  });

  it('an exec failure in words we do not know: the pod status decides (ended → missing session, still running → the error)', async () => {
    fake.failExec = () => new GcK8sError('EXEC_FAILED', 'exec tmux in pod gc/s: some new runtime wording');
    setTimeout(() => {
      fake.update('s', { phase: 'Succeeded' });
    }, 50);
    expect(await provider.peek('s', 10, signal())).toBe('');
    fake.update('s', { phase: 'Running' });
    await expect(provider.peek('s', 10, signal())).rejects.toMatchObject({
      code: 'EXEC_FAILED',
      message: 'exec tmux in pod gc/s: some new runtime wording',
    });
  });

  it("real tmux failures surface as errors with tmux's words", async () => {
    fake.failExec = () => undefined;
    fake.tmux.get('s')!.alive = true;
    const orig = fake.runExec.bind(fake);
    fake.runExec = async (r) =>
      r.command.includes('clear-history') ? { exitCode: 1, stdout: Buffer.alloc(0), stderr: Buffer.from('permission denied') } : orig(r);
    await expect(provider.clearScrollback('s', signal())).rejects.toThrow(
      /clear-scrollback s: tmux -u clear-history -t main exited 1: permission denied/,
    );
  });

  it('get-last-activity converts tmux seconds to RFC 3339', async () => {
    expect(await provider.lastActivity('s', signal())).toBe('2023-11-14T22:13:20Z');
  });

  it('copy-to refuses destinations outside /workspace', async () => {
    await expect(provider.copyTo('s', '/etc/hosts', '../x', signal())).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });

  it("is-attached reads tmux's attached-clients count; a missing session is not attached", async () => {
    expect(await provider.isAttached('s', signal())).toBe(false);
    fake.tmux.get('s')!.attached = 2;
    expect(await provider.isAttached('s', signal())).toBe(true);
    expect(fake.execs.at(-1)?.command).toEqual(['tmux', '-u', 'display-message', '-t', 'main', '-p', '#{session_attached}']);
    expect(await provider.isAttached('nope', signal())).toBe(false);
    fake.tmux.get('s')!.alive = false;
    expect(await provider.isAttached('s', signal())).toBe(false);
  });

  it('attach targets the agent container of the running pod', async () => {
    expect(await provider.attachTarget('s', signal())).toEqual({
      pod: podNameFor('s'),
      namespace: 'gc',
      container: 'agent',
      tmuxSession: 'main',
    });
    await expect(provider.attachTarget('nope', signal())).rejects.toThrow(/no running pod for session "nope"/);
  });
});
