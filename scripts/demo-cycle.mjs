#!/usr/bin/env node
// The newcomer's first hour as a scripted check (CI runs it after `npm test`, with this worktree's
// cluster down): `npm start`, Ctrl-C; `npm start`, `npm stop` from another process; `npm start |
// tee log`, Ctrl-C to the whole process group (as a terminal sends it). Each run must come up
// (both stand-in agents running) and each stop must leave no daemon, no agent pod and no process
// of this worktree's cluster behind. Prints one line per check and exits non-zero on a failure.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname.replace(/\/$/, '');
const env = { ...process.env };
delete env.KUBECONFIG; // the demo's own local cluster, as a newcomer runs it
const UP_TIMEOUT_MS = Number(process.env.GC_K8S_DEMO_UP_TIMEOUT_MS ?? 30 * 60_000);
const DOWN_TIMEOUT_MS = 4 * 60_000;
let passed = 0;
let failed = 0;

function check(ok, what, detail = '') {
  if (ok) passed++;
  else failed++;
  console.log(`demo-cycle: ${ok ? 'ok  ' : 'FAIL'} ${what}${ok || detail === '' ? '' : `: ${detail}`}`);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Starts a shell pipeline in its own process group (a terminal's foreground job). */
function job(command, log) {
  rmSync(log, { force: true });
  const child = spawn('bash', ['-c', `${command} > ${log} 2>&1`], { cwd: root, env, detached: true, stdio: 'ignore' });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { pgid: child.pid, exited, log };
}

const read = (log) => (existsSync(log) ? readFileSync(log, 'utf8') : '');

async function waitUp(j) {
  const begin = Date.now();
  let done = false;
  void j.exited.then(() => (done = true));
  while (Date.now() - begin < UP_TIMEOUT_MS && !done) {
    if (read(j.log).includes('The stand-in city is running')) return true;
    await sleep(1000);
  }
  return false;
}

async function waitExit(j) {
  return Promise.race([j.exited.then(() => true), sleep(DOWN_TIMEOUT_MS).then(() => false)]);
}

const kubectl = () =>
  join(spawnSync('bash', [join(root, 'scripts/build-upstream.sh'), '--dirs', 'k8s'], { encoding: 'utf8' }).stdout.trim(), 'kubectl');

function agentPods() {
  const r = spawnSync(kubectl(), ['-n', 'gc', 'get', 'pods', '-l', 'app=gc-agent', '-o', 'name'], {
    env: { ...env, KUBECONFIG: join(root, '.kube/config') },
    encoding: 'utf8',
  });
  return r.status === 0 ? r.stdout.trim().split('\n').filter(Boolean) : [];
}

/** Processes whose command line names this worktree's cluster state or daemon. */
function leftovers() {
  const r = spawnSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return r.stdout
    .split('\n')
    .filter(
      (l) =>
        l.includes(`${root}/.gc-k8s`) || (l.includes('gc-k8s.js serve') && l.includes(root)) || l.includes(`${root}/bin/gc-k8s.js demo`),
    )
    .map((l) => l.trim());
}

async function verifyUp(name, j) {
  const up = await waitUp(j);
  check(up, `${name}: the demo comes up`, read(j.log).split('\n').slice(-15).join('\n'));
  if (up) check(agentPods().length === 2, `${name}: both stand-in agents run in pods`, agentPods().join(' '));
  return up;
}

async function verifyDown(name, j) {
  const exited = await waitExit(j);
  check(exited, `${name}: npm start exits after the teardown`, read(j.log).split('\n').slice(-10).join('\n'));
  await sleep(500);
  const left = leftovers();
  check(left.length === 0, `${name}: no daemon, cluster or demo process is left`, left.join('\n'));
  check(!existsSync(join(root, '.gc-k8s', 'demo.json')), `${name}: no demo state is left`);
  const status = spawnSync(process.execPath, [join(root, 'bin/gc-k8s.js'), 'cluster', 'status'], { cwd: root, env, encoding: 'utf8' });
  check(status.status !== 0, `${name}: the local cluster is down`, status.stdout);
}

async function main() {
  const pre = leftovers();
  if (pre.length > 0) {
    console.error(
      `demo-cycle: this worktree's cluster or daemon is running; stop it first (node bin/gc-k8s.js stop-daemon; node bin/gc-k8s.js cluster down):\n${pre.join('\n')}`,
    );
    process.exit(2);
  }
  const log = (n) => `/tmp/gck8s-demo-cycle-${process.pid}-${n}.log`;

  // 1. npm start, then Ctrl-C (SIGINT to the foreground process group)
  let j = job('npm start', log(1));
  if (await verifyUp('start + Ctrl-C', j)) process.kill(-j.pgid, 'SIGINT');
  await verifyDown('start + Ctrl-C', j);

  // 2. npm start, then npm stop from another terminal
  j = job('npm start', log(2));
  if (await verifyUp('start + npm stop', j)) {
    const stop = spawnSync('npm', ['stop'], { cwd: root, env, encoding: 'utf8' });
    check(stop.status === 0, 'start + npm stop: npm stop succeeds', stop.stdout + stop.stderr);
  }
  await verifyDown('start + npm stop', j);

  // 3. npm start | tee, then Ctrl-C: tee dies with the group, the teardown must not
  j = job(`npm start | tee ${log(3)}.tee`, log(3));
  if (await verifyUp('start | tee + Ctrl-C', { ...j, log: `${log(3)}.tee` })) process.kill(-j.pgid, 'SIGINT');
  await verifyDown('start | tee + Ctrl-C', { ...j, log: `${log(3)}.tee` });

  for (const n of [1, 2, 3]) rmSync(log(n), { force: true });
  rmSync(`${log(3)}.tee`, { force: true });
  console.log(`demo-cycle: ${passed} passed, ${failed} failed`);
  process.exit(failed === 0 && passed > 0 ? 0 : 1);
}

await main();
