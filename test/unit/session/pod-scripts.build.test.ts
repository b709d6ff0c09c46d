// The entrypoint and exec scripts run for real (sh + tmux on this machine).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readlinkSync, writeFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CLAIMED_FILE, ENTRYPOINT_SCRIPT, READY_FILE, WARM_LAUNCH_SCRIPT, WARM_READY_FILE } from '../../../src/session/entrypoint.js';
import { PROCESS_ALIVE, UNTAR, WAIT_FOR_BOX, WAIT_FOR_TMUX } from '../../../src/session/scripts.js';
import { tmuxArgs } from '../../../src/session/tmux/args.js';
import { tarStream } from '../../../src/session/tar.js';
import { createSandbox, until, type Sandbox } from '../../helpers/local-sh.js';

let sb: Sandbox;
beforeEach(() => {
  sb = createSandbox();
});
afterEach(() => {
  sb.cleanup();
});

function startEntrypoint(env: Record<string, string>) {
  const child = spawn('sh', ['-c', ENTRYPOINT_SCRIPT], { env: { ...sb.env, ...env } });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      resolve(code);
    }),
  );
  return { child, exited, stderr: () => stderr };
}

describe('agent entrypoint', () => {
  it('starts tmux session main carrying the session env verbatim, and exits 0 promptly on SIGTERM', async () => {
    const tricky = 'a "b" $HOME `id` \\n\nsecond=line;';
    const ep = startEntrypoint({
      GC_K8S_TERMINATION_LOG: join(sb.dir, 'term'),
      GC_K8S_COMMAND: 'sleep 60',
      GC_K8S_SESSION_ENV: 'GC_SESSION_ID TRICKY',
      GC_SESSION_ID: 's-42',
      TRICKY: tricky,
    });
    await until(() => (sb.run(['sh', '-c', WAIT_FOR_TMUX, 'sh', '0']), sb.tmux('has-session', '-t', 'main').status === 0), 'tmux session');
    expect((await sb.run(['sh', '-c', WAIT_FOR_TMUX, 'sh', '50'])).status).toBe(0);
    expect(sb.tmux('show-environment', '-t', 'main', 'GC_SESSION_ID').stdout).toBe('GC_SESSION_ID=s-42\n');
    expect(sb.tmux('-u', 'show-environment', '-t', 'main', 'TRICKY').stdout).toBe(`TRICKY=${tricky}\n`);
    // internal variables do not leak into the session
    expect(sb.tmux('show-environment', '-t', 'main', 'GC_K8S_COMMAND').status).not.toBe(0);
    ep.child.kill('SIGTERM');
    expect(await ep.exited).toBe(0);
    expect(sb.tmux('has-session', '-t', 'main').status).not.toBe(0);
  });

  it('keeps history_limit lines of scrollback (tmux alone keeps 2000), so peek 0 returns them all', async () => {
    const ep = startEntrypoint({
      GC_K8S_TERMINATION_LOG: join(sb.dir, 'term'),
      GC_K8S_COMMAND: 'seq 1 6000; sleep 60',
      GC_K8S_HISTORY_LIMIT: '10000',
    });
    await until(() => sb.tmux('capture-pane', '-p', '-t', 'main', '-S', '-').stdout.includes('6000\n'), 'the output');
    const all = sb.tmux('-u', ...tmuxArgs.capturePane(0).slice(2)).stdout;
    expect(all).toMatch(/^1\n2\n3\n/); // the first line is still there
    const huge = sb.tmux('-u', ...tmuxArgs.capturePane(1e12).slice(2)).stdout;
    expect(huge).toBe(all); // a huge N is the whole history, never less than peek 1
    ep.child.kill('SIGTERM');
    await ep.exited;
  });

  it('provisioned: runs pre_start, reports the box ready without any tmux, stays up for gc to launch the agent', async () => {
    const ep = startEntrypoint({
      GC_K8S_TERMINATION_LOG: join(sb.dir, 'term'),
      GC_K8S_PROVISION: '1',
      GC_K8S_COMMAND: 'echo never-launched',
      GC_K8S_PRE_START_COUNT: '1',
      GC_K8S_PRE_START_1: `touch ${join(sb.dir, 'pre-start-ran')}`,
      GC_K8S_HISTORY_LIMIT: '12345',
    });
    expect((await sb.run(['sh', '-c', WAIT_FOR_BOX, 'sh', '50'])).status).toBe(0);
    expect(readFileSync(join(sb.dir, 'pre-start-ran'), 'utf8')).toBe('');
    expect(sb.tmux('has-session').status).not.toBe(0); // no server, no session: the agent is gc's
    // what gc does through exec: a session of its own, which gets the history limit we set
    expect(sb.tmux('new-session', '-d', '-s', 'gc-launched', 'sleep 60').status).toBe(0);
    expect(sb.tmux('show-options', '-g', 'history-limit').stdout).toBe('history-limit 12345\n');
    // the box stays up when gc's agent exits; SIGTERM ends it (and the tmux server) at once
    sb.tmux('kill-session', '-t', 'gc-launched');
    await new Promise((r) => setTimeout(r, 300));
    expect(ep.child.exitCode).toBeNull();
    ep.child.kill('SIGTERM');
    expect(await ep.exited).toBe(0);
  });

  it('warm: idles without tmux until a claim launches the agent, then watches it and exits with its status', async () => {
    const ep = startEntrypoint({
      GC_K8S_TERMINATION_LOG: join(sb.dir, 'term'),
      GC_K8S_WARM: '1',
      GC_K8S_HISTORY_LIMIT: '4321',
      PLATFORM_ONLY: 'container-wide',
      NOT_THIS_SESSION: 'dropped',
    });
    await until(() => existsSync(join(sb.env['TMUX_TMPDIR'] ?? '/tmp', WARM_READY_FILE)), 'warm ready');
    expect(sb.tmux('has-session').status).not.toBe(0); // nothing of any session yet
    const wd = join(sb.dir, 'work', 'rig');
    const tricky = 'a "b" $HOME `id` \n\nsecond=line;';
    const launched = await sb.run([
      'env',
      '--',
      // what an exec into the pod has: the container env (a warm pod's), then the session's
      'PLATFORM_ONLY=container-wide',
      'NOT_THIS_SESSION=dropped',
      'GC_K8S_WARM=1',
      'GC_SESSION_ID=s-7',
      `TRICKY=${tricky}`,
      'sh',
      '-c',
      WARM_LAUNCH_SCRIPT,
      'sh',
      'pwd > where; echo $PLATFORM_ONLY/${NOT_THIS_SESSION-unset}/${GC_K8S_WARM-unset}; sleep 0.5; exit 4',
      '4321',
      wd,
      'NOT_THIS_SESSION',
      '0.05',
      '-e',
      'GC_SESSION_ID=s-7',
      '-e',
      `TRICKY=${tricky}`,
    ]);
    expect(launched, launched.stderr).toMatchObject({ status: 0, stdout: '0\n' }); // alive after the settle
    expect(sb.tmux('-u', 'show-environment', '-t', 'main', 'TRICKY').stdout).toBe(`TRICKY=${tricky}\n`);
    expect(sb.tmux('show-options', '-gv', 'history-limit').stdout).toBe('4321\n');
    await until(() => sb.tmux('capture-pane', '-p', '-t', 'main').stdout.includes('/'), 'the agent ran');
    expect(sb.tmux('capture-pane', '-p', '-t', 'main').stdout).toContain('container-wide/unset/unset');
    expect(readFileSync(join(wd, 'where'), 'utf8')).toBe(`${wd}\n`);
    expect(await ep.exited).toBe(4);
    expect(readFileSync(join(sb.env['TMUX_TMPDIR'] ?? '/tmp', CLAIMED_FILE), 'utf8')).toBe('');
  });

  it('watches the agent from one blocked `tmux wait-for`, not a poll, and still sees a death and a SIGTERM', async () => {
    const childPids = (pid: number): string[] =>
      readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    // a short-lived child (the launch's tmux calls) can be gone before its cmdline is read
    const cmdline = (c: string): string => {
      try {
        return readFileSync(`/proc/${c}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
      } catch {
        return '';
      }
    };
    const children = (pid: number): string[] => childPids(pid).map(cmdline).filter(Boolean);
    const quit = join(sb.dir, 'quit');
    const ep = startEntrypoint({
      GC_K8S_COMMAND: `while [ ! -f ${quit} ]; do sleep 0.1; done; exit 5`,
      GC_K8S_TERMINATION_LOG: join(sb.dir, 'term'),
    });
    const pid = ep.child.pid ?? 0;
    await until(() => children(pid).includes('tmux wait-for gc-k8s-pane-died'), 'the watch blocks in wait-for');
    // a poll would have started other children meanwhile; the same two stay: the blocked waiter
    // and the 30 s safety tick (a subshell of this script)
    const before = childPids(pid);
    await new Promise((r) => setTimeout(r, 1500));
    expect(childPids(pid)).toEqual(before);
    expect(children(pid).filter((c) => !c.startsWith('sh -c'))).toEqual(['tmux wait-for gc-k8s-pane-died']);
    expect(before).toHaveLength(2);
    // the agent dies: the wrapper wakes the watch, which exits with the agent's status
    writeFileSync(quit, '');
    expect(await ep.exited).toBe(5);
    const term = startEntrypoint({ GC_K8S_COMMAND: 'sleep 60', GC_K8S_TERMINATION_LOG: join(sb.dir, 'term') });
    await until(() => children(term.child.pid ?? 0).includes('tmux wait-for gc-k8s-pane-died'), 'the second watch blocks');
    term.child.kill('SIGTERM');
    expect(await term.exited).toBe(0);
  });

  it('exits when the agent exits, so the pod completes instead of lingering', async () => {
    const ep = startEntrypoint({ GC_K8S_COMMAND: 'sleep 0.3', GC_K8S_TERMINATION_LOG: join(sb.dir, 'term') });
    expect(await ep.exited).toBe(0);
  });

  it("passes on the agent's exit status and last screen, even when it exits at once", async () => {
    const ep = startEntrypoint({ GC_K8S_COMMAND: 'echo agent-says-bye; exit 3', GC_K8S_TERMINATION_LOG: join(sb.dir, 'term') });
    expect(await ep.exited).toBe(3);
    // The exit status is exact (the pane wrapper records it). The last screen is best effort: an
    // agent gone within milliseconds can die before tmux has drawn its output, and then the
    // message is tmux's own "Pane is dead (status 3, …)" line, which still says how it ended.
    expect(readFileSync(join(sb.dir, 'term'), 'utf8')).toMatch(/agent-says-bye|Pane is dead \(status 3/);
  });

  it('runs pre_start commands in order and fails with a message when one fails', async () => {
    const ok = startEntrypoint({
      GC_K8S_TERMINATION_LOG: join(sb.dir, 'term'),
      GC_K8S_COMMAND: 'true',
      GC_K8S_PRE_START_COUNT: '2',
      GC_K8S_PRE_START_1: `echo one > ${sb.dir}/order`,
      GC_K8S_PRE_START_2: `echo two >> ${sb.dir}/order`,
    });
    expect(await ok.exited).toBe(0);
    expect(readFileSync(join(sb.dir, 'order'), 'utf8')).toBe('one\ntwo\n');
    const bad = startEntrypoint({
      GC_K8S_COMMAND: 'sleep 60',
      GC_K8S_PRE_START_COUNT: '1',
      GC_K8S_PRE_START_1: 'exit 7',
      GC_K8S_TERMINATION_LOG: join(sb.dir, 'term'),
    });
    expect(await bad.exited).toBe(1);
    expect(bad.stderr()).toContain('pre_start command 1 failed with exit 7');
    expect(readFileSync(join(sb.dir, 'term'), 'utf8')).toBe('pre_start command 1 failed with exit 7\n');
    expect(sb.tmux('has-session', '-t', 'main').status).not.toBe(0);
  });
});

describe('exec scripts', () => {
  async function session(command: string): Promise<void> {
    expect(sb.tmux('new-session', '-d', '-s', 'main', '-x', '120', '-y', '20', command).status).toBe(0);
    await until(() => sb.tmux('has-session', '-t', 'main').status === 0, 'session');
  }

  it('WAIT_FOR_TMUX returns 0 once the session exists and 1 when it never comes', async () => {
    expect((await sb.run(['sh', '-c', WAIT_FOR_TMUX, 'sh', '2'])).status).toBe(1);
    await session('sleep 30');
    // the session alone is not enough: the entrypoint's ready file says its env is complete
    expect((await sb.run(['sh', '-c', WAIT_FOR_TMUX, 'sh', '2'])).status).toBe(1);
    writeFileSync(join(sb.dir, READY_FILE), '');
    expect((await sb.run(['sh', '-c', WAIT_FOR_TMUX, 'sh', '2'])).status).toBe(0);
  });

  it('the paste argv types text literally (even key names and shell metacharacters); Enter is separate', async () => {
    await session('cat');
    const text = 'Enter C-c $(rm -rf /) "quoted"';
    const r = await sb.run(tmuxArgs.paste('buf1'), text);
    expect(r.status).toBe(0);
    expect(sb.tmux('send-keys', '-t', 'main', 'Enter').status).toBe(0);
    await until(
      () =>
        sb
          .tmux('capture-pane', '-p', '-t', 'main')
          .stdout.split('\n')
          .filter((l) => l.includes('quoted')).length >= 2,
      'echoed line',
    );
    expect(sb.tmux('capture-pane', '-p', '-t', 'main').stdout).toContain(text);
    expect(sb.tmux('list-buffers').stdout).not.toContain('buf1');
  });

  it('PROCESS_ALIVE looks at the pane process tree only', async () => {
    await session('sh -c "sleep 77; true"');
    const alive = async (...names: string[]) => (await sb.run(['sh', '-c', PROCESS_ALIVE, 'sh', 'main', ...names])).status;
    expect(await alive('sleep 77')).toBe(0);
    // '' targets the session tmux picks (a provisioned box's own)
    expect((await sb.run(['sh', '-c', PROCESS_ALIVE, 'sh', '', 'sleep 77'])).status).toBe(0);
    expect(await alive('nonexistent-proc', 'sleep')).toBe(0);
    expect(await alive('claude')).toBe(1);
    sb.tmux('kill-server');
    expect(await alive('sleep')).toBe(3);
  });

  it('tarStream + UNTAR copy a directory (symlinks as symlinks, never followed) and a file to an exact path', async () => {
    const src = join(sb.dir, 'src');
    mkdirSync(join(src, 'sub'), { recursive: true });
    writeFileSync(join(src, 'a.txt'), 'alpha');
    writeFileSync(join(src, 'sub', 'b.bin'), Buffer.alloc(70_000, 7));
    symlinkSync(join(src, 'a.txt'), join(src, 'link')); // absolute, inside the tree
    symlinkSync('../a.txt', join(src, 'sub', 'up')); // relative, inside
    symlinkSync('/nonexistent', join(src, 'broken'));
    const secrets = join(sb.dir, 'secrets');
    mkdirSync(secrets);
    writeFileSync(join(secrets, 'id_rsa'), 'PRIVATE KEY');
    symlinkSync(secrets, join(src, 'ssh')); // leaves the tree: must not be copied
    symlinkSync('.', join(src, 'self')); // a loop
    const dst = join(sb.dir, 'dst');
    const tar = await tarStream({ path: src, maxBytes: 1 << 20 });
    const chunks: Uint8Array[] = [];
    for await (const c of tar!) chunks.push(c);
    const archive = Buffer.concat(chunks);
    expect(archive.includes('PRIVATE KEY')).toBe(false);
    expect(archive.length).toBeLessThan(100_000); // one copy of the tree, not 40 levels of it
    const r = await sb.run(['sh', '-c', UNTAR, 'sh', dst], archive);
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(join(dst, 'a.txt'), 'utf8')).toBe('alpha');
    expect(readlinkSync(join(dst, 'link'))).toBe('a.txt'); // made relative: points into the copy
    expect(readFileSync(join(dst, 'link'), 'utf8')).toBe('alpha');
    expect(readFileSync(join(dst, 'sub', 'up'), 'utf8')).toBe('alpha');
    expect(readlinkSync(join(dst, 'ssh'))).toBe(secrets); // a link, not the files behind it
    expect(readlinkSync(join(dst, 'self'))).toBe('.');
    expect(readlinkSync(join(dst, 'broken'))).toBe('/nonexistent');
    expect(readFileSync(join(dst, 'sub', 'b.bin')).length).toBe(70_000);

    const one = await tarStream({ path: join(src, 'a.txt'), entryName: 'renamed.txt', maxBytes: 100 });
    const c2: Uint8Array[] = [];
    for await (const c of one!) c2.push(c);
    expect((await sb.run(['sh', '-c', UNTAR, 'sh', join(sb.dir, 'f')], Buffer.concat(c2))).status).toBe(0);
    expect(readFileSync(join(sb.dir, 'f', 'renamed.txt'), 'utf8')).toBe('alpha');
  });

  it('tarStream refuses more than maxBytes and reports a missing source as undefined', async () => {
    writeFileSync(join(sb.dir, 'big'), Buffer.alloc(1000));
    await expect(tarStream({ path: join(sb.dir, 'big'), maxBytes: 10 })).rejects.toThrow(/1000 bytes, more than the limit of 10/);
    await expect(tarStream({ path: sb.dir, maxBytes: 10 })).rejects.toMatchObject({ code: 'TOO_LARGE' });
    expect(await tarStream({ path: join(sb.dir, 'missing'), maxBytes: 10 })).toBeUndefined();
  });
});
