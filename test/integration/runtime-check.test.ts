// A port of gc 1.x's `gc runtime check` round trip through our script, against a real cluster:
// the handshake, the lifecycle requirements (RPP-LIFECYCLE-001..005), and every capability the
// handshake declares exercised: exec (RPP-CONN-001) with exit codes passed through, provision
// (RPP-PROVISION-001) then launch and relaunch via exec, get-last-activity, is-attached while a
// real `kubectl exec -it … tmux attach` is attached.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { podNameFor } from '../../src/session/names.js';
import { Harness, until } from './harness.js';

const h = new Harness();
const payload = (extra: object = {}) => JSON.stringify({ command: 'bash', work_dir: '/tmp', ...extra });
// a short op deadline, so the never-ending exec below ends soon
const OP_ENV = { GC_K8S_OP_TIMEOUT: '8s' };
const sess = (argv: string[], stdin = '') => h.session(argv, stdin, OP_ENV);

beforeAll(async () => {
  await h.setup();
});
afterAll(async () => {
  await h.teardown();
});

describe('gc runtime check, ported', () => {
  it('RPP-PROTOCOL-001: a well-formed handshake declaring what the rest of this file exercises', async () => {
    const r = await sess(['protocol']);
    expect(r.code, r.err).toBe(0);
    const hs = JSON.parse(r.out) as { version: number; capabilities: string[] };
    expect(hs.version).toBe(0);
    expect([...hs.capabilities].sort()).toEqual(['proc.exec', 'proc.provision', 'report-activity', 'report-attachment']);
    expect((await sess(['protocol', 'extra'])).code).toBe(1);
  });

  it('RPP-LIFECYCLE-001..005: start, is-running, a second start fails, stop, stop again, never started', async () => {
    expect((await sess(['is-running', 'rc-never'])).out).toBe('false');
    const s = await sess(['start', 'rc-life'], payload());
    expect(s.code, s.err).toBe(0);
    expect((await sess(['is-running', 'rc-life'])).out).toBe('true');
    const again = await sess(['start', 'rc-life'], payload());
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/already exists/);
    expect((await sess(['stop', 'rc-life'])).code).toBe(0);
    expect((await sess(['is-running', 'rc-life'])).out).toBe('false');
    expect((await sess(['stop', 'rc-life'])).code).toBe(0);
  });

  it("RPP-CONN-001: exec runs stdin in the box, combined output on stdout, the exit code is the command's", async () => {
    expect((await sess(['start', 'rc-exec'], payload())).code).toBe(0);
    // in the agent's working directory (/workspace: no city in this payload)
    const out = await sess(['exec', 'rc-exec'], 'echo out; echo err >&2; id -u; pwd');
    expect(out).toMatchObject({ code: 0, out: 'out\nerr\n1000\n/workspace\n' });
    for (const [script, code] of [
      ['exit 1', 1],
      ['exit 2', 2],
      ['kill -9 $$', 137],
    ] as const) {
      expect((await sess(['exec', 'rc-exec'], script)).code, script).toBe(code);
    }
    // report-activity: gc trusts get-last-activity
    expect((await sess(['get-last-activity', 'rc-exec'])).out).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it('exec refuses what it cannot do, clearly, and leaves nothing running in the pod', async () => {
    expect(await sess(['exec', 'rc-exec'], '')).toMatchObject({ code: 1, err: expect.stringMatching(/no command on stdin/) as unknown });
    expect((await sess(['exec', 'rc-nobody'], 'true')).code).toBe(1);
    const big = await sess(['exec', 'rc-exec'], 'head -c 104857600 /dev/zero');
    expect(big.code).toBe(1);
    expect(big.err).toMatch(/more than 16777216 bytes/);
    const stuck = await sess(['exec', 'rc-exec'], 'sleep 600 # rc-stuck-marker');
    expect(stuck.code).toBe(1);
    expect(stuck.err).toMatch(/did not finish within \d+ s and was killed/);
    // "[s]leep": the pattern does not match this exec's own argv, which carries the pattern's text
    const left = await sess(['exec', 'rc-exec'], 'pgrep -f "[s]leep 600|[r]c-stuck-marker" | wc -l');
    expect(left.out.trim()).toBe('0');
    // and the check can see such a process: one left running on purpose is counted
    // (its argv is built at run time, so this exec's own argv does not carry "sleep 602")
    const control = 's=60; setsid sleep "${s}2" >/dev/null 2>&1 </dev/null & sleep 0.2; pgrep -f "[s]leep 602" | wc -l';
    expect((await sess(['exec', 'rc-exec'], control)).out.trim()).toBe('1');
    expect((await sess(['stop', 'rc-exec'])).code).toBe(0);
  });

  it('RPP-PROVISION-001: after provision is-running is false yet exec works; gc launches and relaunches the agent through exec', async () => {
    const p = await sess(['provision', 'rc-box'], payload({ pre_start: ['echo pre > /tmp/pre-start-ran'] }));
    expect(p.code, p.err).toBe(0);
    expect((await sess(['is-running', 'rc-box'])).out).toBe('false');
    expect((await sess(['exec', 'rc-box'], 'cat /tmp/pre-start-ran')).out).toBe('pre\n');
    expect((await sess(['provision', 'rc-box'], payload())).err).toMatch(/already exists/);
    // what gc does: its own tmux session carrying the agent
    const launch = await sess(['exec', 'rc-box'], "tmux new-session -d -s rc-box -x 120 -y 40 'bash --norc'");
    expect(launch.code, launch.out).toBe(0);
    expect((await sess(['is-running', 'rc-box'])).out).toBe('true');
    expect((await sess(['nudge', 'rc-box'], 'echo launched-by-gc')).code).toBe(0);
    await until(async () => (await sess(['peek', 'rc-box', '20'])).out.includes('launched-by-gc\n'), 'the nudge in the pane');
    const relaunch = await sess(['exec', 'rc-box'], "tmux respawn-pane -k -t rc-box 'bash --norc'");
    expect(relaunch.code, relaunch.out).toBe(0);
    expect((await sess(['is-running', 'rc-box'])).out).toBe('true');
    expect((await sess(['stop', 'rc-box'])).code).toBe(0);
    expect((await sess(['is-running', 'rc-box'])).out).toBe('false');
  });

  it('report-attachment: is-attached is false, true while kubectl exec -it … tmux attach is attached, false after', async () => {
    expect((await sess(['start', 'rc-att'], payload())).code).toBe(0);
    expect((await sess(['is-attached', 'rc-att'])).out).toBe('false');
    // a real terminal for kubectl -it: script(1) gives it a pty
    const attach = spawn(
      'script',
      ['-qfec', `${h.kubectl} -n ${h.namespace} exec -it ${podNameFor('rc-att')} -c agent -- tmux attach -t main`, '/dev/null'],
      { env: h.env(), stdio: ['pipe', 'ignore', 'ignore'] },
    );
    try {
      await until(async () => (await sess(['is-attached', 'rc-att'])).out === 'true', 'the attached client', 200);
      attach.stdin.write('\x02d'); // C-b d: the human detaches
      await until(async () => (await sess(['is-attached', 'rc-att'])).out === 'false', 'the client to detach', 200);
    } finally {
      attach.kill('SIGKILL');
    }
    expect((await sess(['is-attached', 'rc-nobody'])).out).toBe('false');
    expect((await sess(['stop', 'rc-att'])).code).toBe(0);
  });
});
