// Every session op through the real gc-session-k8s script and daemon, against a real cluster.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { podNameFor } from '../../src/session/names.js';
import { AGENT_IMAGE, Harness, ROOT, until } from './harness.js';

const h = new Harness();
const start = (name: string, payload: object = { command: 'bash', work_dir: '/tmp' }, extra: Record<string, string> = {}) =>
  h.session(['start', name], JSON.stringify(payload), extra);

async function podsOf(name: string): Promise<string[]> {
  const r = await h.k(['get', 'pods', '-o', 'jsonpath={range .items[*]}{.metadata.annotations.gc-session-name}{"\\n"}{end}']);
  return r.out.split('\n').filter((n) => n === name);
}

beforeAll(async () => {
  await h.setup();
});
afterAll(async () => {
  await h.teardown();
});

describe('session lifecycle', () => {
  const name = 'it-mayor';

  it('start brings up a pod with tmux session main carrying the session env', async () => {
    const r = await start(name, {
      command: 'bash',
      work_dir: '/tmp',
      env: { GC_SESSION_ID: 'sess-123', GC_AGENT: 'mayor', MULTI: 'a=b\nc' },
    });
    expect(r, r.err).toMatchObject({ code: 0 });
    expect((await h.session(['is-running', name])).out).toBe('true');
    expect((await h.session(['get-meta', name, 'GC_SESSION_ID'])).out).toBe('sess-123');
    expect((await h.session(['get-meta', name, 'MULTI'])).out).toBe('a=b\nc');
    expect((await h.session(['list-running', 'it-'])).out).toBe(`${name}\n`);
  });

  it('a second start says "already exists"', async () => {
    const r = await start(name);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/already exists/);
  });

  it('the pod is hardened: no service-account token, non-root, labels upstream tools use', async () => {
    const pod = JSON.parse((await h.k(['get', 'pod', podNameFor(name), '-o', 'json'])).out) as {
      metadata: { labels: Record<string, string>; annotations: Record<string, string> };
      spec: { automountServiceAccountToken: boolean; containers: { name: string }[] };
    };
    expect(pod.spec.automountServiceAccountToken).toBe(false);
    expect(pod.metadata.labels).toMatchObject({ app: 'gc-agent', 'gc-session': name, 'gc-agent': 'mayor' });
    expect(pod.metadata.annotations['gc-session-name']).toBe(name);
    const id = await h.k([
      'exec',
      podNameFor(name),
      '-c',
      'agent',
      '--',
      'sh',
      '-c',
      'id -u; ls /var/run/secrets/kubernetes.io 2>&1 || true',
    ]);
    expect(id.out).toMatch(/^1000\n.*No such file or directory/s);
  });

  it('meta round-trips values with newlines and =, and remove-meta clears them', async () => {
    expect((await h.session(['set-meta', name, 'K1'], 'x=1\ny=2')).code).toBe(0);
    expect((await h.session(['get-meta', name, 'K1'])).out).toBe('x=1\ny=2');
    expect((await h.session(['get-meta', name, 'NEVER_SET'])).out).toBe('');
    expect((await h.session(['remove-meta', name, 'K1'])).code).toBe(0);
    expect((await h.session(['get-meta', name, 'K1'])).out).toBe('');
  });

  it('nudge types literal multi-line text, then Enter; peek shows it', async () => {
    expect((await h.session(['nudge', name], 'echo "nudged $((6*7))"')).code).toBe(0);
    await until(async () => (await h.session(['peek', name, '20'])).out.includes('nudged 42'), 'nudge output');
    expect((await h.session(['nudge', name], 'Enter')).code).toBe(0); // a key name is typed as text
    await until(async () => (await h.session(['peek', name, '5'])).out.includes('Enter: command not found'), 'literal key name');
  });

  it('send-keys, interrupt, clear-scrollback and get-last-activity', async () => {
    expect((await h.session(['send-keys', name, 'echo', 'Space', 'keys-sent', 'Enter'])).code).toBe(0);
    await until(async () => (await h.session(['peek', name, '5'])).out.includes('keys-sent'), 'send-keys');
    expect((await h.session(['interrupt', name])).code).toBe(0);
    expect((await h.session(['clear-scrollback', name])).code).toBe(0);
    expect((await h.session(['get-last-activity', name])).out).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it('process-alive checks the pane process tree', async () => {
    expect((await h.session(['nudge', name], 'sleep 300')).code).toBe(0);
    await until(async () => (await h.session(['process-alive', name], 'sleep 300')).out === 'true', 'sleep in pane');
    expect((await h.session(['process-alive', name], 'no-such-process')).out).toBe('false');
    expect((await h.session(['process-alive', name], '')).out).toBe('true');
    await h.session(['interrupt', name]);
  });

  it('copy-to streams files and directories into /workspace', async () => {
    const src = join(h.dir, 'payload');
    mkdirSync(join(src, 'sub'), { recursive: true });
    writeFileSync(join(src, 'sub', 'a.txt'), 'alpha');
    writeFileSync(join(h.dir, 'single.txt'), 'single');
    expect((await h.session(['copy-to', name, src, 'dest'])).code).toBe(0);
    expect((await h.session(['copy-to', name, join(h.dir, 'single.txt'), 'cfg/renamed.txt'])).code).toBe(0);
    expect((await h.session(['copy-to', name, '/nonexistent-path-for-conformance', ''])).code).toBe(0);
    const r = await h.k(['exec', podNameFor(name), '-c', 'agent', '--', 'cat', '/workspace/dest/sub/a.txt', '/workspace/cfg/renamed.txt']);
    expect(r.out).toBe('alphasingle');
  });

  it('a 1 MiB nudge arrives whole', async () => {
    expect((await h.session(['nudge', name], 'cat > /tmp/big.txt')).code).toBe(0);
    const line = `${'x'.repeat(99)}\n`;
    expect((await h.session(['nudge', name], line.repeat(10_486))).code).toBe(0);
    await h.session(['send-keys', name, 'C-d']);
    // the text's own trailing newline is dropped (echo-style input), Enter adds one: 100 bytes a line
    await until(
      async () =>
        (await h.k(['exec', podNameFor(name), '-c', 'agent', '--', 'sh', '-c', 'wc -c < /tmp/big.txt'])).out.trim() ===
        String(100 * 10_486),
      '1 MiB file',
    );
  });

  it('attach hands the terminal to kubectl exec -it … tmux attach -t main', async () => {
    await h.session(['nudge', name], 'echo attach-marker-$((40+2))');
    const sock = `gck8s-attach-${h.namespace}`;
    const env = h.env();
    const cmd = `${join(ROOT, 'bin/gc-session-k8s')} attach ${name}`;
    const envArgs = ['KUBECONFIG', 'GC_K8S_SOCKET', 'GC_K8S_NAMESPACE', 'GC_K8S_KUBECTL'].flatMap((k) => ['-e', `${k}=${env[k] ?? ''}`]);
    expect(spawnSync('tmux', ['-L', sock, 'new-session', '-d', '-x', '120', '-y', '30', ...envArgs, cmd], { env }).status).toBe(0);
    try {
      await until(
        () =>
          Promise.resolve(spawnSync('tmux', ['-L', sock, 'capture-pane', '-p'], { encoding: 'utf8' }).stdout.includes('attach-marker-42')),
        'attached pane',
      );
      // and the attach is live: what we type in the host terminal runs in the pod
      spawnSync('tmux', ['-L', sock, 'send-keys', 'echo typed-through-$((1+1))', 'Enter']);
      await until(async () => (await h.session(['peek', name, '10'])).out.includes('typed-through-2'), 'typed through attach');
    } finally {
      spawnSync('tmux', ['-L', sock, 'kill-server']);
    }
  });

  it('stop returns only once the pod is gone', async () => {
    expect((await h.session(['stop', name])).code).toBe(0);
    expect((await h.session(['is-running', name])).out).toBe('false');
    expect((await h.session(['list-running', ''])).out).toBe('');
    expect(await podsOf(name)).toEqual([]);
    expect((await h.session(['stop', name])).code).toBe(0);
  });
});

describe('start failures say why and leave nothing behind', () => {
  it('a wrong image fails with the pull reason', async () => {
    const r = await start('it-badimage', { command: 'bash' }, { GC_K8S_IMAGE: 'docker.io/library/does-not-exist:1' });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/ErrImagePull|ImagePullBackOff|ErrImageNeverPull/);
    expect(await podsOf('it-badimage')).toEqual([]);
  });

  it('a failing pre_start command fails start with its exit status', async () => {
    const r = await start('it-prestart', { command: 'bash', pre_start: ['exit 9'] });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/pre_start command 1 failed with exit 9/);
    expect(await podsOf('it-prestart')).toEqual([]);
  });

  it('invalid JSON creates nothing', async () => {
    const r = await h.session(['start', 'it-badjson'], '{"command":');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/invalid JSON/);
    expect(await podsOf('it-badjson')).toEqual([]);
  });

  it('an agent that exits at once is reported, not left as a pod', async () => {
    const r = await start('it-dies', { command: 'true' });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/died during startup|tmux did not start/);
    expect(await podsOf('it-dies')).toEqual([]);
  });
});

describe('an agent that ends while gc is talking to it', () => {
  it("interrupt ends sleep: every op through the container's exit answers as for a stopped session, none fails", async () => {
    const name = 'it-interrupted';
    expect(await start(name, { command: 'sleep 300', work_dir: '/tmp' })).toMatchObject({ code: 0 });
    expect(await h.session(['interrupt', name])).toMatchObject({ code: 0 });
    // The container exits within about a second; ops keep arriving the whole time, so some hit
    // the window where the cache still says Running but the kubelet has no container.
    const seen = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const results = await Promise.all([
        h.session(['nudge', name], 'hello'),
        h.session(['peek', name, '5']),
        h.session(['get-meta', name, 'K']),
        h.session(['process-alive', name], 'sleep'),
        h.session(['send-keys', name, 'Enter']),
      ]);
      for (const r of results) expect(r.code, r.err).toBe(0);
      const running = (await h.session(['is-running', name])).out;
      seen.add(running);
      if (running === 'false') break;
    }
    expect(seen.has('false')).toBe(true);
    expect(await h.session(['stop', name])).toMatchObject({ code: 0 });
    expect(await podsOf(name)).toEqual([]);
  });
});

describe("names and other providers' pods", () => {
  it('names with slashes, dots, unicode and 200 characters map to distinct valid pods', async () => {
    const names = ['it/rig/coder.v2', 'it-ünï-🙂', `it-${'n'.repeat(197)}`];
    for (const n of names) expect((await start(n, { command: 'sleep 600' })).code).toBe(0);
    const listed = (await h.session(['list-running', 'it'])).out.split('\n').filter(Boolean);
    expect(listed.sort()).toEqual([...names].sort());
    for (const n of names) expect((await h.session(['stop', n])).code).toBe(0);
  });

  it("operates a pod created the way Gas City's native provider creates it", async () => {
    const manifest = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'city-native',
        labels: { app: 'gc-agent', 'gc-session': 'city-native', 'gc-agent': 'native' },
        annotations: { 'gc-session-name': 'city/native' },
      },
      spec: {
        restartPolicy: 'Never',
        securityContext: { runAsUser: 1000, runAsGroup: 1000 },
        containers: [
          {
            name: 'agent',
            image: AGENT_IMAGE,
            imagePullPolicy: 'IfNotPresent',
            command: ['/bin/sh', '-c'],
            args: ['tmux new-session -d -s main "bash" && sleep infinity'],
            stdin: true,
            tty: true,
          },
        ],
      },
    };
    writeFileSync(join(h.dir, 'native.json'), JSON.stringify(manifest));
    expect((await h.k(['apply', '-f', join(h.dir, 'native.json')])).code).toBe(0);
    await until(async () => (await h.session(['is-running', 'city/native'])).out === 'true', 'native pod running');
    expect((await h.session(['nudge', 'city/native'], 'echo from-gc-k8s')).code).toBe(0);
    await until(async () => (await h.session(['peek', 'city/native', '10'])).out.includes('from-gc-k8s'), 'nudge into native pod');
    expect((await h.session(['list-running', 'city/'])).out).toBe('city/native\n');
    // its tmux dying makes it not running, even though the pod stays Running (sleep infinity)
    await h.k(['exec', 'city-native', '-c', 'agent', '--', 'tmux', 'kill-server']);
    expect((await h.session(['is-running', 'city/native'])).out).toBe('false');
    // and start replaces such a stale pod only after the grace period; stop removes it now
    expect((await h.session(['stop', 'city/native'])).code).toBe(0);
    expect((await h.k(['get', 'pod', 'city-native'])).code).not.toBe(0);
  });
});

describe('the daemon can die at any moment', () => {
  it('kill -9 of the daemon between calls: the next call starts a new one that recovers state from the cluster', async () => {
    expect((await start('it-survivor', { command: 'bash' })).code).toBe(0);
    const pid = spawnSync('sh', ['-c', `fuser ${h.socket} 2>/dev/null || pgrep -f "serve --socket ${h.socket}"`], { encoding: 'utf8' })
      .stdout.trim()
      .split(/\s+/)[0];
    expect(pid).toMatch(/^\d+$/);
    process.kill(Number(pid), 'SIGKILL');
    expect((await h.session(['is-running', 'it-survivor'])).out).toBe('true');
    expect((await h.session(['list-running', 'it-survivor'])).out).toBe('it-survivor\n');
    expect((await h.session(['stop', 'it-survivor'])).code).toBe(0);
  });

  it('an unreachable cluster is a clear error, not a silent false', async () => {
    const r = await h.session(['is-running', 'x'], '', {
      KUBECONFIG: join(h.dir, 'missing-kubeconfig'),
      GC_K8S_SOCKET: join(h.dir, 'other.sock'),
    });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/kubeconfig/i);
    spawn('sh', ['-c', `pkill -f "serve --socket ${join(h.dir, 'other.sock')}"`]);
  });
});
