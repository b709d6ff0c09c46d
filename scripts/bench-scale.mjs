// The Scale section of `npm run bench` (issue #17): a city of N tiny stand-in sessions (bash in
// tmux) on real pods, started with bounded parallelism through the real scripts and daemon, a
// gc-like patrol (list-running, then is-running and peek of every session, every 10 s), then all
// stopped; the daemon's own counters, RSS and sockets read before and after. Then the same patrol
// through upstream's kubectl-per-call mechanism at 20 sessions, in the same run.
// `node scripts/bench.mjs --only=scale` runs this section alone and merges it into docs/benchmarks.md.

import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';

const pctOf = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => (s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor(p * s.length))]);
  return { p50: q(0.5), p99: q(0.99), n: s.length };
};
const ms = (v) => (Number.isNaN(v) ? 'n/a' : v < 10 ? v.toFixed(1) : v.toFixed(0));
const sleep = (t) => new Promise((r) => setTimeout(r, t));

/** Runs `fn` over `items` with at most `limit` at once. */
async function bounded(items, limit, fn) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** The daemon's resident memory (VmRSS) and open sockets, from /proc. */
function processFootprint(pid) {
  const rss = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
  let sockets = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) sockets++;
    } catch {
      // closed between the listing and the readlink
    }
  }
  return { rssMiB: rss / 1024, sockets };
}

/**
 * @param {{ root: string, baseEnv: NodeJS.ProcessEnv, kubectl: string, dir: string, ns: string, quick: boolean, forward: Function, makeRequest: Function }} ctx
 * @returns {Promise<string[]>} the section's markdown lines
 */
export async function scaleSection(ctx) {
  const { root, kubectl, quick, forward, makeRequest } = ctx;
  const N = quick ? 10 : 100;
  const HALF = N / 2;
  const PATROL_MS = quick ? 60_000 : 600_000;
  const TICK_MS = 10_000;
  const NU = quick ? 5 : 20; // sessions of the upstream patrol
  const UPSTREAM_TICKS = quick ? 1 : 3;
  const PARALLEL = 10; // starts and stops at once, as a supervisor bringing a city up would
  const ns = `${ctx.ns}s`;
  const env = {
    ...ctx.baseEnv,
    GC_K8S_SOCKET: join(ctx.dir, 'scale.sock'),
    GC_K8S_NAMESPACE: ns,
    // tiny stand-in agents: N of them must fit the single node's 2 CPUs by request
    GC_K8S_CPU_REQUEST: '5m',
    GC_K8S_MEM_REQUEST: '16Mi',
    GC_K8S_MEM_LIMIT: '128Mi',
  };
  const run = (cmd, args, stdin = '') =>
    new Promise((resolve) => {
      const child = spawn(cmd, args, { env });
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (err += d));
      child.on('close', (code) => resolve({ code, out, err }));
      child.stdin.on('error', () => undefined);
      child.stdin.end(stdin);
    });
  const session = (argv, stdin = '') => run(join(root, 'bin/gc-session-k8s'), argv, stdin);
  const k = (args) => run(kubectl, ['-n', ns, ...args]);
  const admin = async (op) => {
    let text = '';
    const io = { argv: [], env, cwd: ctx.dir, stdin: undefined, stdout: { write: (d) => ((text += d), true) }, stderr: process.stderr };
    await forward(makeRequest('admin', op, [], io), io);
    return JSON.parse(text);
  };
  const apiStats = async () =>
    Object.values(await admin('stats'))[0] ?? { total: 0, byResponse: {}, retries: 0, throttledMs: 0, rateLimitedMs: 0 };
  const status = () => admin('status');
  const names = Array.from({ length: N }, (_, i) => `scale-${i}`);
  const failures = [];
  const fail = (what) => {
    failures.push(what);
    if (failures.length <= 10) console.error(`bench scale: FAILED ${what}`);
  };

  console.error(`bench: scale, ${N} sessions in namespace ${ns}`);
  if ((await k(['create', 'namespace', ns])).code !== 0) throw new Error(`cannot create namespace ${ns}`);
  // the first op starts the daemon on its own socket; let its watch settle before the 0-session figure
  if ((await session(['list-running', 'scale-'])).code !== 0) throw new Error('scale: the daemon did not answer');
  await sleep(3000);
  const { pid } = await admin('ping');
  const footprint = [{ at: 0, ...processFootprint(pid), channels: (await status()).execChannels }];

  // ------------------------------------------------------------------ start, in two waves of N/2
  const startMs = [];
  const startOne = async (name) => {
    const t0 = performance.now();
    const r = await session(['start', name], JSON.stringify({ command: 'bash' }));
    startMs.push(performance.now() - t0);
    if (r.code !== 0) fail(`start ${name}: ${r.err.trim()}`);
  };
  const startStats0 = await apiStats();
  let allReadyMs = 0;
  for (const wave of [names.slice(0, HALF), names.slice(HALF)]) {
    const t0 = performance.now();
    await bounded(wave, PARALLEL, startOne);
    allReadyMs += performance.now() - t0;
    console.error(`bench scale: ${footprint.length === 1 ? HALF : N} sessions started`);
    footprint.push({ at: footprint.length === 1 ? HALF : N, ...processFootprint(pid), channels: (await status()).execChannels });
  }
  const startStats1 = await apiStats();
  const started = startMs.length;

  // ------------------------------------------------------------------ the patrol
  const opMs = { 'list-running': [], 'is-running': [], peek: [] };
  const timed = async (op, argv, check) => {
    const t0 = performance.now();
    const r = await session(argv);
    opMs[op].push(performance.now() - t0);
    if (r.code !== 0 || !check(r.out)) fail(`${argv.join(' ')}: exit ${r.code} ${r.err.trim() || r.out.trim().slice(0, 80)}`);
  };
  const ourTick = async (sessions) => {
    await timed('list-running', ['list-running', 'scale-'], (out) => {
      const listed = new Set(out.split('\n').filter(Boolean));
      return sessions.every((n) => listed.has(n));
    });
    for (const name of sessions) {
      await timed('is-running', ['is-running', name], (out) => out.trim() === 'true');
      await timed('peek', ['peek', name, '20'], () => true);
    }
  };
  const ticks = [];
  const tickKinds = new Map(); // API requests made during ticks, by "verb resource"
  const patrolStart = performance.now();
  console.error(`bench scale: patrol of ${N} sessions for ${PATROL_MS / 1000} s`);
  while (performance.now() - patrolStart < PATROL_MS) {
    const tickStart = performance.now();
    const before = await apiStats();
    await ourTick(names);
    const after = await apiStats();
    const wall = performance.now() - tickStart;
    ticks.push({ wall, requests: after.total - before.total, load: loadavg()[0], ...processFootprint(pid) });
    for (const [key, v] of Object.entries(after.byRequest ?? {})) {
      const d = v - (before.byRequest?.[key] ?? 0);
      if (d > 0) tickKinds.set(key, (tickKinds.get(key) ?? 0) + d);
    }
    const rest = TICK_MS - (performance.now() - tickStart);
    if (rest > 0) await sleep(rest);
  }
  const afterPatrol = { ...processFootprint(pid), channels: (await status()).execChannels };
  // what the N session pods themselves use, idle between patrols (metrics API; absent without metrics-server)
  const top = await k(['top', 'pods', '--no-headers']);
  const podCpu =
    top.code === 0
      ? top.out
          .split('\n')
          .filter(Boolean)
          .reduce((a, l) => a + (Number.parseInt(l.split(/\s+/)[1] ?? '', 10) || 0), 0)
      : NaN;

  // ------------------------------------------------------------------ upstream's mechanism at NU sessions
  // What upstream's gc-session-k8s runs per op: kubectl get to find the running pod, then kubectl
  // exec; list-running is one kubectl get. Against NU of the same pods, interleaved with our patrol
  // of the same NU sessions so that both see the same machine.
  console.error(`bench scale: upstream kubectl patrol of ${NU} sessions`);
  const subset = names.slice(0, NU);
  const baseMs = { 'list-running': [], 'is-running': [], peek: [] };
  const baseTicks = [];
  const oursSmallTicks = [];
  const find = (n) =>
    `pod=$(${kubectl} -n ${ns} get pods -l gc-session=${n} --field-selector=status.phase=Running -o jsonpath='{.items[0].metadata.name}')`;
  const baseOp = async (op, code, check) => {
    const t0 = performance.now();
    const r = await run('bash', ['-c', code]);
    baseMs[op].push(performance.now() - t0);
    if (r.code !== 0 || !check(r.out)) fail(`upstream ${op}: exit ${r.code} ${r.err.trim()}`);
  };
  for (let t = 0; t < UPSTREAM_TICKS; t++) {
    let t0 = performance.now();
    await baseOp('list-running', `${kubectl} -n ${ns} get pods -l app=gc-agent --field-selector=status.phase=Running -o json`, (out) =>
      subset.every((n) => out.includes(`"gc-session-name": "${n}"`)),
    );
    for (const n of subset) {
      await baseOp(
        'is-running',
        `${find(n)}; ${kubectl} -n ${ns} exec "$pod" -c agent -- tmux has-session -t main >/dev/null && echo true`,
        (out) => out.trim() === 'true',
      );
      await baseOp('peek', `${find(n)}; ${kubectl} -n ${ns} exec "$pod" -c agent -- tmux capture-pane -t main -p -S -20`, () => true);
    }
    baseTicks.push(performance.now() - t0);
    t0 = performance.now();
    const before = await apiStats();
    await ourTick(subset);
    oursSmallTicks.push({ wall: performance.now() - t0, requests: (await apiStats()).total - before.total });
  }

  // ------------------------------------------------------------------ stop all
  console.error(`bench scale: stopping ${N} sessions`);
  const stopMs = [];
  const stopAll0 = performance.now();
  await bounded(names, PARALLEL, async (name) => {
    const t0 = performance.now();
    const r = await session(['stop', name]);
    stopMs.push(performance.now() - t0);
    if (r.code !== 0) fail(`stop ${name}: ${r.err.trim()}`);
  });
  const stopAllMs = performance.now() - stopAll0;
  // no orphan: every pod of the namespace gone (bounded wait: terminating pods take their grace)
  let left = -1;
  for (let i = 0; i < 120; i++) {
    left = (await k(['get', 'pods', '-o', 'name'])).out.split('\n').filter(Boolean).length;
    if (left === 0) break;
    await sleep(1000);
  }
  if (left !== 0) fail(`${left} pods left in ${ns} after every stop`);
  await sleep(3000);
  const afterStop = { ...processFootprint(pid), channels: (await status()).execChannels };
  const endStats = await apiStats();
  const code429 = Object.entries(endStats.byResponse ?? {})
    .filter(([key]) => key.endsWith(' 429'))
    .reduce((a, [, v]) => a + v, 0);
  await forward(
    makeRequest('admin', 'shutdown', [], { argv: [], env, cwd: ctx.dir, stdout: { write: () => true }, stderr: process.stderr }),
    {
      argv: [],
      env,
      cwd: ctx.dir,
      stdout: { write: () => true },
      stderr: process.stderr,
    },
  );
  await run(kubectl, ['delete', 'namespace', ns, '--wait=false']);

  // ------------------------------------------------------------------ report
  const start = pctOf(startMs);
  const stop = pctOf(stopMs);
  const tickWall = pctOf(ticks.map((t) => t.wall));
  const tickReq = ticks.map((t) => t.requests);
  const rss = ticks.map((t) => t.rssMiB);
  const socks = ticks.map((t) => t.sockets);
  const ourSmall = pctOf(oursSmallTicks.map((t) => t.wall));
  const baseTick = pctOf(baseTicks);
  const minMax = (xs) => `${Math.min(...xs)} – ${Math.max(...xs)}`;
  const mib = (v) => v.toFixed(1);
  const startReq = startStats1.total - startStats0.total;
  return [
    '## Scale',
    '',
    `A city of ${N} tiny stand-in sessions (\`bash\` in tmux; 5m CPU / 16Mi memory requested) on **real pods** of the local`,
    `single node: it holds them (kubelet \`maxPods\` 110, pod CIDR /24, ${N} × 5m CPU requested of 2 CPUs, memory far from`,
    `its 23 GiB), so every figure here, the API half and the exec half alike, comes from real pods; no simulated node`,
    `(KWOK) was needed. Started with at most ${PARALLEL} \`gc-session-k8s start\` at once in two waves of ${HALF}, patrolled`,
    `like gc (\`list-running\`, then \`is-running\` and \`peek\` of every session, one script process per call, every`,
    `${TICK_MS / 1000} s for ${PATROL_MS / 60_000} min${quick ? ', --quick' : ''}), then all stopped, ${PARALLEL} at once. One fresh daemon on its own socket;`,
    "API requests from the daemon's own counters (`gc-k8s stats`) read before and after each tick; RSS is the daemon's",
    '`VmRSS` and sockets its `/proc/<pid>/fd` entries that are sockets. A tick that takes longer than the period is',
    'followed by the next one at once, so a slow machine runs fewer ticks in the same minutes.',
    '',
    '| measure | figure |',
    '|---|---|',
    `| sessions started / answered every op / failures | ${started} / ${failures.length === 0 ? 'yes' : 'no'} / ${failures.length} |`,
    `| time to all ${N} ready (both waves) | ${(allReadyMs / 1000).toFixed(1)} s |`,
    `| one start → ready under that load, p50 / p99 | ${ms(start.p50)} / ${ms(start.p99)} ms |`,
    `| API requests of all ${N} starts; 429 responses; ms waited on Retry-After / client rate limiter | ${startReq}; ${code429}; ${endStats.throttledMs} / ${endStats.rateLimitedMs} |`,
    `| patrol ticks; the machine's 1-minute load average over them, min – max (2 vCPU, shared) | ${ticks.length}; ${Math.min(...ticks.map((t) => t.load)).toFixed(1)} – ${Math.max(...ticks.map((t) => t.load)).toFixed(1)} |`,
    `| tick wall time p50 / p99 (${1 + 2 * N} script calls) | ${ms(tickWall.p50)} / ${ms(tickWall.p99)} ms |`,
    `| API requests per tick, min – max (mean) | ${minMax(tickReq)} (${(tickReq.reduce((a, b) => a + b, 0) / Math.max(1, tickReq.length)).toFixed(2)}) |`,
    `| API requests of all ticks together, by kind | ${[...tickKinds].map(([key, v]) => `${key}: ${v}`).join(', ') || 'none'} |`,
    `| list-running p50 / p99 during the patrol | ${ms(pctOf(opMs['list-running']).p50)} / ${ms(pctOf(opMs['list-running']).p99)} ms |`,
    `| is-running p50 / p99 during the patrol | ${ms(pctOf(opMs['is-running']).p50)} / ${ms(pctOf(opMs['is-running']).p99)} ms |`,
    `| peek p50 / p99 during the patrol | ${ms(pctOf(opMs.peek).p50)} / ${ms(pctOf(opMs.peek).p99)} ms |`,
    `| daemon RSS over the patrol, first tick → last tick (min – max) | ${mib(rss[0])} → ${mib(rss.at(-1))} MiB (${mib(Math.min(...rss))} – ${mib(Math.max(...rss))}) |`,
    `| daemon sockets over the patrol, min – max | ${minMax(socks)} |`,
    `| CPU of the ${N} session pods themselves after the patrol (metrics API) | ${Number.isNaN(podCpu) ? 'n/a' : `${podCpu}m`} |`,
    `| stop of all ${N}: wall time; one stop p50 / p99 | ${(stopAllMs / 1000).toFixed(1)} s; ${ms(stop.p50)} / ${ms(stop.p99)} ms |`,
    `| pods left after every stop (orphans) | ${left} |`,
    '',
    '| sessions | daemon RSS (MiB) | daemon open sockets | exec channels open |',
    '|---|---|---|---|',
    ...footprint.map((f) => `| ${f.at} | ${mib(f.rssMiB)} | ${f.sockets} | ${f.channels} |`),
    `| ${N}, after the patrol | ${mib(afterPatrol.rssMiB)} | ${afterPatrol.sockets} | ${afterPatrol.channels} |`,
    `| 0, after every stop | ${mib(afterStop.rssMiB)} | ${afterStop.sockets} | ${afterStop.channels} |`,
    '',
    `**Upstream's mechanism at ${NU} sessions, same run.** ${UPSTREAM_TICKS} patrol tick${UPSTREAM_TICKS > 1 ? 's' : ''} of ${NU} of the same pods`,
    `the way upstream's script runs each op (list-running: one \`kubectl get\`; is-running and peek: \`kubectl get\` to find`,
    `the pod, then \`kubectl exec … tmux\`; ${1 + 4 * NU} kubectl processes a tick), each followed by our patrol of the same ${NU} sessions.`,
    '',
    `| patrol of ${NU} sessions | upstream (kubectl per call) | ours (scripts → daemon) |`,
    '|---|---|---|',
    `| tick wall time p50 / max | ${ms(baseTick.p50)} / ${ms(Math.max(...baseTicks))} ms | ${ms(ourSmall.p50)} / ${ms(Math.max(...oursSmallTicks.map((t) => t.wall)))} ms |`,
    `| list-running p50 / p99 | ${ms(pctOf(baseMs['list-running']).p50)} / ${ms(pctOf(baseMs['list-running']).p99)} ms | (in the ${N}-session rows above) |`,
    `| is-running p50 / p99 | ${ms(pctOf(baseMs['is-running']).p50)} / ${ms(pctOf(baseMs['is-running']).p99)} ms | (in the ${N}-session rows above) |`,
    `| peek p50 / p99 | ${ms(pctOf(baseMs.peek).p50)} / ${ms(pctOf(baseMs.peek).p99)} ms | (in the ${N}-session rows above) |`,
    `| API requests per tick | ${2 * NU + 1} API requests + ${2 * NU} exec upgrades, plus each kubectl's discovery | ${oursSmallTicks.map((t) => t.requests).join(', ')} |`,
    '',
    ...(failures.length === 0 ? [] : ['Failures:', '', ...failures.slice(0, 20).map((f) => `- ${f}`), '']),
  ];
}

/** Replaces the `## Scale` section of a benchmarks file (or appends it), leaving the rest as it was. */
export function mergeSection(text, section) {
  const lines = text.split('\n');
  const at = lines.findIndex((l) => l === section[0]);
  if (at < 0) return [...lines, ...section].join('\n');
  let end = lines.findIndex((l, i) => i > at && l.startsWith('## '));
  if (end < 0) end = lines.length;
  return [...lines.slice(0, at), ...section, ...lines.slice(end)].join('\n');
}
