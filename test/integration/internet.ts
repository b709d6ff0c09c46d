// A stand-in for "the internet" that pods can reach: on the local cluster, a network namespace
// on the host with a public-range address (TEST-NET-2, 198.51.100.0/24, not a private range) and
// a TCP server answering one line. Pod traffic reaches it the way it reaches the real internet:
// routed out of the node and masqueraded by the host. On another cluster, GC_K8S_TEST_INTERNET
// (host:port of any TCP service outside the cluster that pods may reach) stands in.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';

export interface Internet {
  readonly host: string;
  readonly port: number;
  close(): void;
}

const ip = (...args: string[]): void => {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
};

export async function internetStandIn(backend: string | undefined): Promise<Internet> {
  const given = process.env['GC_K8S_TEST_INTERNET'];
  if (given !== undefined && given !== '') {
    const m = /^(.+):(\d+)$/.exec(given);
    if (m === null) throw new Error(`GC_K8S_TEST_INTERNET must be host:port, got ${given.slice(0, 80)}`);
    return { host: m[1]!, port: Number(m[2]), close: () => undefined };
  }
  if (backend !== 'local') throw new Error('set GC_K8S_TEST_INTERNET=host:port to a TCP service outside the cluster that pods may reach');
  // one /30 per test process, so concurrent worktrees do not collide
  const k = process.pid % 60;
  const ns = `gcinet${k}`;
  const hostIf = `gci${k}h`;
  const hostIp = `198.51.100.${4 * k + 1}`;
  const farIp = `198.51.100.${4 * k + 2}`;
  try {
    ip('netns', 'del', ns);
  } catch {
    // not there
  }
  try {
    ip('link', 'del', hostIf);
  } catch {
    // not there
  }
  ip('netns', 'add', ns);
  ip('link', 'add', hostIf, 'type', 'veth', 'peer', 'name', `gci${k}n`);
  ip('link', 'set', `gci${k}n`, 'netns', ns);
  ip('addr', 'add', `${hostIp}/30`, 'dev', hostIf);
  ip('link', 'set', hostIf, 'up');
  ip('netns', 'exec', ns, 'ip', 'addr', 'add', `${farIp}/30`, 'dev', `gci${k}n`);
  ip('netns', 'exec', ns, 'ip', 'link', 'set', `gci${k}n`, 'up');
  ip('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up');
  ip('netns', 'exec', ns, 'ip', 'route', 'add', 'default', 'via', hostIp);
  const server: ChildProcess = spawn(
    'ip',
    ['netns', 'exec', ns, process.execPath, '-e', `require('net').createServer((s) => s.end('internet\\n')).listen(80, '${farIp}')`],
    { stdio: 'ignore' },
  );
  await new Promise((r) => setTimeout(r, 500));
  return {
    host: farIp,
    port: 80,
    close: () => {
      server.kill();
      for (const args of [
        ['netns', 'del', ns],
        ['link', 'del', hostIf],
      ]) {
        try {
          ip(...args);
        } catch {
          // gone with the namespace
        }
      }
    },
  };
}
