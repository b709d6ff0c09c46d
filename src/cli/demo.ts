// `npm start` / `gc-k8s demo up|down`: one command from a fresh clone to agents running in pods.
// Uses the cluster in KUBECONFIG when given (the agent image must then be set in GC_K8S_IMAGE),
// otherwise brings up this worktree's local cluster and imports the images it builds; starts
// the daemon and the stand-in city's agents through the real gc-session-k8s script (as gc would),
// records their start as events, prints where to look, and tears everything down on Ctrl-C or
// `npm stop` (which asks a running `npm start` to tear down itself, and waits for it). A start
// that fails takes down what it brought up, so the next run starts clean.

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import TOML from '@iarna/toml';
import { describeError, GcK8sError } from '../errors.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const CITY = join(ROOT, 'examples/standin-city/city.toml');
const STATE = join(ROOT, '.gc-k8s/demo.json');
const NAMESPACE = 'gc';

interface DemoState {
  readonly kubeconfig: string;
  readonly image: string;
  readonly startedCluster: boolean;
  readonly sessions: string[];
  /** the `demo up` process that owns this state (npm stop signals it) */
  readonly pid?: number;
}

function alive(pid: number | undefined): boolean {
  if (pid === undefined || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readState(): DemoState | undefined {
  if (!existsSync(STATE)) return undefined;
  try {
    return JSON.parse(readFileSync(STATE, 'utf8')) as DemoState;
  } catch {
    return undefined;
  }
}

interface Io {
  readonly env: NodeJS.ProcessEnv;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly signal: AbortSignal;
}

function say(io: Io, line: string): void {
  // after Ctrl-C on `npm start | tee log` the pipe's reader is gone: teardown must go on silently
  try {
    io.stderr.write(`demo: ${line}\n`);
  } catch {
    /* EPIPE */
  }
}

function run(
  cmd: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  stdin = '',
): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', (e) => {
      resolve({ code: 127, out, err: e.message });
    });
    child.on('close', (code) => {
      resolve({ code: code ?? 1, out, err });
    });
    child.stdin.on('error', () => undefined); // a script may answer without reading its stdin
    child.stdin.end(stdin);
  });
}

/** A provider script exactly as gc runs it (native fast path, Node fallback). */
const script = (name: string, argv: readonly string[], env: NodeJS.ProcessEnv, stdin = '') =>
  run(join(ROOT, 'bin', name), argv, env, stdin);
/** The gc-k8s command of this checkout (bin/gc-k8s.js: there is no bin/gc-k8s). */
const gck8s = (argv: readonly string[], env: NodeJS.ProcessEnv) => run(process.execPath, [join(ROOT, 'bin', 'gc-k8s.js'), ...argv], env);

interface CityAgent {
  name: string;
  start_command?: string;
}

function readCity(): { name: string; agents: CityAgent[] } {
  const doc = TOML.parse(readFileSync(CITY, 'utf8')) as { workspace?: { name?: string }; agent?: CityAgent[] };
  return { name: doc.workspace?.name ?? 'standin', agents: doc.agent ?? [] };
}

function demoEnv(io: Io, kubeconfig: string, image: string): NodeJS.ProcessEnv {
  return {
    ...io.env,
    KUBECONFIG: kubeconfig,
    GC_K8S_IMAGE: image,
    GC_K8S_NAMESPACE: NAMESPACE,
    GC_CITY: join(ROOT, 'examples/standin-city'),
    GC_SESSION: `exec:${join(ROOT, 'bin/gc-session-k8s')}`,
    GC_EVENTS: `exec:${join(ROOT, 'bin/gc-events-k8s')}`,
  };
}

async function up(io: Io): Promise<number> {
  const previous = readState();
  if (previous !== undefined && alive(previous.pid)) {
    throw new GcK8sError('BAD_REQUEST', `a demo is already running (pid ${previous.pid}); \`npm stop\` ends it`);
  }
  const { ensureCluster } = await import('@gc-k8s/local-cluster');
  const { streamReporter } = await import('@gc-k8s/local-cluster');
  const given = io.env['KUBECONFIG'];
  let kubeconfig: string;
  let image: string;
  // A demo killed before its teardown left its cluster: this run owns it now, and takes it down.
  let startedCluster = previous?.startedCluster === true;
  if (given !== undefined && given !== '') {
    image = io.env['GC_K8S_IMAGE'] ?? '';
    if (image === '') {
      throw new GcK8sError(
        'CONFIG_INVALID',
        'KUBECONFIG is set, so the demo uses that cluster: set GC_K8S_IMAGE to an agent image it can pull (build one from Dockerfile.agent), or unset KUBECONFIG to use the local cluster',
      );
    }
    say(io, `checking the cluster in KUBECONFIG=${given}`);
    const info = await ensureCluster({
      env: io.env,
      backend: 'existing',
      kubeconfig: given,
      namespace: NAMESPACE,
      signal: io.signal,
      reporter: streamReporter(io.stderr, 'demo'),
    });
    kubeconfig = info.kubeconfig;
    startedCluster = false;
  } else {
    const { clusterStatus } = await import('@gc-k8s/local-cluster');
    const before = await clusterStatus({ cwd: ROOT, env: io.env });
    say(
      io,
      before.running
        ? `using this worktree's running local cluster ${before.name}`
        : "no KUBECONFIG: bringing up this worktree's local cluster (the first run on a machine builds Kubernetes, etcd, CoreDNS, bd and the agent image from source: about 20 minutes on 2 cores; later runs take about a minute)",
    );
    // only a cluster the demo brought up is taken down with it
    startedCluster ||= !before.running;
    writeState({ kubeconfig: '', image: '', startedCluster, sessions: [], pid: process.pid });
    const info = await ensureCluster({
      cwd: ROOT,
      env: io.env,
      images: ['agent'],
      signal: io.signal,
      reporter: streamReporter(io.stderr, 'demo'),
    });
    kubeconfig = info.kubeconfig;
    image = info.images['agent'] ?? '';
  }
  const env = demoEnv(io, kubeconfig, image);

  say(io, `namespace ${NAMESPACE}`);
  const kubectl = await run('bash', [join(ROOT, 'scripts/build-upstream.sh'), '--dirs', 'k8s'], env);
  const k = join(kubectl.out.trim(), 'kubectl');
  const kctl = existsSync(k) ? k : 'kubectl';
  await run(kctl, ['apply', '-f', join(ROOT, 'contrib/k8s/namespace.yaml')], env);

  const city = readCity();
  const sessions: string[] = [];
  const save = (): void => {
    writeState({ kubeconfig, image, startedCluster, sessions, pid: process.pid });
  };
  save();
  const { socketPath } = await import('../protocol/socket-path.js');
  const { socketAnswers } = await import('../protocol/socket-path.js');
  const daemonUp = await socketAnswers(socketPath(env));
  await script('gc-events-k8s', ['ensure-running'], env);
  for (const agent of city.agents) {
    const session = `${city.name}-${agent.name}`;
    say(
      io,
      `starting ${session} (a pod with tmux${daemonUp || sessions.length > 0 ? '' : '; this first call also starts the gc-k8s daemon'})`,
    );
    const payload = {
      command: agent.start_command ?? 'bash',
      work_dir: join(ROOT, 'examples/standin-city'),
      env: { GC_AGENT: agent.name, GC_SESSION_ID: `${session}-demo`, GC_CITY: join(ROOT, 'examples/standin-city') },
    };
    const r = await script('gc-session-k8s', ['start', session], env, JSON.stringify(payload));
    if (r.code !== 0 && !/already exists/.test(r.err)) throw new GcK8sError('START_FAILED', `starting ${session}: ${r.err.trim()}`);
    sessions.push(session);
    save();
    await script(
      'gc-events-k8s',
      ['record'],
      env,
      JSON.stringify({ type: 'session.woke', actor: 'gc-k8s-demo', subject: session, message: `started ${agent.name}` }),
    );
  }
  await script('gc-session-k8s', ['nudge', sessions[0] ?? ''], env, 'hello from npm start');

  const bin = join(ROOT, 'bin');
  io.stdout.write(`
The stand-in city is running: ${sessions.join(', ')} — each a pod in namespace ${NAMESPACE} with tmux session main.

  export KUBECONFIG=${kubeconfig}
  kubectl -n ${NAMESPACE} get pods -l app=gc-agent          (kubectl: ${kctl})
  ${bin}/gc-session-k8s peek ${sessions[0] ?? ''} 20
  echo 'what next?' | ${bin}/gc-session-k8s nudge ${sessions[1] ?? ''}
  ${bin}/gc-k8s.js attach ${sessions[1] ?? ''}               (detach: C-b d)
  kubectl -n ${NAMESPACE} exec -it ${sessions[0] ?? ''} -- tmux attach -t main
  ${bin}/gc-events-k8s list </dev/null                      (events, stored as ConfigMaps)
  ${bin}/gc-k8s.js status                                   (daemon and cache health)

With gc on PATH, the same city runs under gc itself: gc init --file examples/standin-city/city.toml <dir> && gc start <dir>
(with GC_K8S_IMAGE=${image} and KUBECONFIG set as above).

Ctrl-C here, or \`npm stop\`, tears it all down.
`);

  // Stay in the foreground, reporting briefly, until Ctrl-C.
  const interrupted = (): boolean => io.signal.aborted;
  while (!interrupted()) {
    await new Promise<void>((resolve) => {
      // one listener per wait, removed when the wait ends (they piled up on the signal before)
      const onAbort = (): void => {
        clearTimeout(t);
        resolve();
      };
      const t = setTimeout(() => {
        io.signal.removeEventListener('abort', onAbort);
        resolve();
      }, 15_000);
      io.signal.addEventListener('abort', onAbort, { once: true });
    });
    if (interrupted()) break;
    const listed = await script('gc-session-k8s', ['list-running', `${city.name}-`], env);
    if (interrupted()) break;
    say(
      io,
      `${new Date().toISOString().slice(11, 19)} running: ${listed.out.trim().split('\n').filter(Boolean).join(', ') || '(none)'}${listed.code === 0 ? '' : ` (list-running failed: ${listed.err.trim().slice(0, 300)})`}`,
    );
  }
  say(io, 'interrupted: tearing down (about 20 s)');
  return teardown({ ...io, signal: AbortSignal.timeout(180_000) });
}

function writeState(state: DemoState): void {
  mkdirSync(join(ROOT, '.gc-k8s'), { recursive: true });
  writeFileSync(STATE, JSON.stringify(state, null, 2));
}

/** `npm stop`: a running `npm start` is asked to tear down itself (and waited for); else we do. */
async function down(io: Io): Promise<number> {
  const state = readState();
  if (state === undefined) {
    say(io, 'nothing to tear down (no demo state)');
    return 0;
  }
  if (alive(state.pid)) {
    say(io, `asking the running demo (pid ${state.pid}) to tear down, and waiting for it`);
    process.kill(state.pid ?? 0, 'SIGTERM');
    const deadline = Date.now() + 180_000;
    while (alive(state.pid) && Date.now() < deadline && !io.signal.aborted) await new Promise((r) => setTimeout(r, 250));
    if (!alive(state.pid)) {
      if (!existsSync(STATE)) {
        say(io, 'done');
        return 0;
      }
      say(io, 'the demo exited without finishing its teardown; finishing it');
    } else {
      say(io, `the demo (pid ${state.pid}) is still tearing down after 3 minutes; tearing down from here too`);
    }
  }
  return teardown(io);
}

async function teardown(io: Io): Promise<number> {
  const state = readState();
  if (state === undefined) return 0;
  let failed = false;
  if (state.kubeconfig !== '') {
    const env = demoEnv(io, state.kubeconfig, state.image);
    for (const s of state.sessions) {
      say(io, `stopping ${s}`);
      const r = await script('gc-session-k8s', ['stop', s], env);
      if (r.code !== 0) {
        failed = true;
        say(io, `stopping ${s} failed: ${r.err.trim().slice(0, 300)}`);
      }
    }
    say(io, 'stopping the daemon');
    const r = await gck8s(['stop-daemon'], env);
    if (r.code !== 0) {
      failed = true;
      say(io, `stopping the daemon failed (${r.code}): ${(r.err || r.out).trim().slice(0, 300)}`);
    }
  }
  if (state.startedCluster) {
    const { clusterDown } = await import('@gc-k8s/local-cluster');
    const { streamReporter } = await import('@gc-k8s/local-cluster');
    say(io, 'stopping the local cluster');
    await clusterDown({ cwd: ROOT, env: io.env, signal: io.signal, reporter: streamReporter(quiet(io.stderr), 'demo') });
  }
  rmSync(STATE, { force: true });
  say(io, failed ? 'done, with the failures above' : 'done');
  return failed ? 1 : 0;
}

/** A stream whose write never throws (its reader may be gone: `npm start | tee` after Ctrl-C). */
function quiet(stream: NodeJS.WritableStream): NodeJS.WritableStream {
  return {
    write: (chunk: string) => {
      try {
        return stream.write(chunk);
      } catch {
        return false;
      }
    },
  } as unknown as NodeJS.WritableStream;
}

export async function runDemo(argv: readonly string[], io: Io): Promise<number> {
  if (argv[0] === 'down') return down(io);
  if (argv[0] !== 'up') {
    io.stderr.write('usage: gc-k8s demo up|down\n');
    return 2;
  }
  try {
    return await up(io);
  } catch (err) {
    say(io, describeError(err));
    if (/ECONNREFUSED|unreachable|K8S_UNAVAILABLE/i.test(describeError(err))) {
      say(io, 'the cluster is unreachable: check KUBECONFIG (kubectl cluster-info), or unset it to use the local cluster');
    }
    // A failed start takes down what it brought up (never another demo's state).
    const state = readState();
    if (state !== undefined && (state.pid === process.pid || !alive(state.pid))) {
      say(io, 'tearing down what this run brought up');
      await teardown({ ...io, signal: AbortSignal.timeout(180_000) });
    }
    return 1;
  }
}
