// gc 1.x cancels a call by SIGTERM to the script's whole process group (SIGKILL 2 s later). A
// start cancelled at any moment must leave nothing behind that gc believes was never created: no
// pod, no credentials Secret, no exec channel held open for it. 20 starts, each cancelled at a
// random moment; a start that finished before its signal is a started session (stopped here).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionLabelValue } from '../../src/session/names.js';
import { Harness, ROOT } from './harness.js';

const h = new Harness();
const RUNS = 20;

beforeAll(async () => {
  await h.setup();
});
afterAll(async () => {
  await h.teardown();
});

/** Runs a start as gc does (its own process group) and cancels it after `delayMs`. */
function cancelledStart(name: string, delayMs: number): Promise<{ finished: boolean; code: number | null }> {
  return new Promise((resolve) => {
    const child = spawn(join(ROOT, 'bin', 'gc-session-k8s'), ['start', name], {
      env: h.env({ GC_K8S_CREDENTIAL_ENV: 'SECRET_*' }),
      detached: true,
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    child.stdin.end(JSON.stringify({ command: 'bash', work_dir: '/tmp', env: { SECRET_TOKEN: 'tok' } }));
    let finished = false;
    const term = setTimeout(() => {
      if (child.pid !== undefined && child.exitCode === null) process.kill(-child.pid, 'SIGTERM');
    }, delayMs);
    const kill = setTimeout(() => {
      if (child.pid !== undefined && child.exitCode === null) process.kill(-child.pid, 'SIGKILL');
    }, delayMs + 2_000);
    child.on('exit', (code, sig) => {
      clearTimeout(term);
      clearTimeout(kill);
      finished = sig === null && code === 0;
      resolve({ finished, code });
    });
  });
}

async function leftovers(name: string): Promise<string> {
  const sel = `gc-k8s.io/session=${sessionLabelValue(name)}`;
  const r = await h.k(['get', 'pods,secrets', '-l', sel, '-o', 'name']);
  return r.out.trim();
}

describe('cancelled starts', () => {
  it(`leave nothing behind: ${RUNS} starts, SIGTERM to the process group at random moments`, async () => {
    const outcomes: { name: string; finished: boolean }[] = [];
    for (let i = 0; i < RUNS; i++) {
      const name = `cx-${i}`;
      // spread over the whole start: before the request, during create, the wait, setup
      const r = await cancelledStart(name, Math.floor(Math.random() * 2_500));
      outcomes.push({ name, finished: r.finished });
    }
    for (const o of outcomes.filter((x) => x.finished)) expect((await h.session(['stop', o.name])).code).toBe(0);
    // the daemon cleans up as soon as it notices the caller is gone (a pod deletion takes a moment)
    const deadline = Date.now() + 60_000;
    let left: string[];
    do {
      left = (await Promise.all(outcomes.map(async (o) => leftovers(o.name)))).filter((x) => x !== '');
      if (left.length === 0) break;
      await new Promise((r) => setTimeout(r, 500));
    } while (Date.now() < deadline);
    expect(left).toEqual([]);
    // and no exec channel is held open for any of them
    const status = JSON.parse((await h.script('gc-k8s', ['status'])).out) as { execChannels: number };
    expect(status.execChannels).toBe(0);
    // some runs must really have been cancelled mid-way for this to mean anything
    expect(outcomes.filter((o) => !o.finished).length).toBeGreaterThan(RUNS / 4);
  });
});
