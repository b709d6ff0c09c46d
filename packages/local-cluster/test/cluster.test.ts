import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../src/backends.js';
import { parseArgs, runClusterCommand } from '../src/cli.js';
import { checkResources, netPlan, parsePortRange } from '../src/host.js';
import { packDockerArchive } from '../src/image-build.js';
import { LOCAL_CLUSTER_ROOT, PACKAGE_ROOT, clusterName, findWorktree, sanitize, worktreePaths } from '../src/names.js';
import { streamReporter } from '../src/progress.js';

const tmp = mkdtempSync(join(tmpdir(), 'gck-unit-'));
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

function sink(): NodeJS.WritableStream & { text: () => string } {
  const chunks: string[] = [];
  const s = {
    write: (c: string | Uint8Array) => {
      chunks.push(typeof c === 'string' ? c : Buffer.from(c).toString());
      return true;
    },
    text: () => chunks.join(''),
  };
  return s as unknown as NodeJS.WritableStream & { text: () => string };
}

describe('names', () => {
  it('derives a DNS-safe, path-unique cluster name from the worktree', () => {
    expect(sanitize('My_Feature Branch!!', 20)).toBe('my-feature-branch');
    const a = clusterName('/work/wt/feature-x');
    const b = clusterName('/other/wt/feature-x');
    expect(a).toMatch(/^gck-feature-x-[0-9a-f]{6}$/);
    expect(a).not.toBe(b);
    expect(clusterName('/work/wt/feature-x')).toBe(a);
  });

  it('knows its own directory and that of the gc-k8s package it belongs to', () => {
    expect(JSON.parse(readFileSync(join(LOCAL_CLUSTER_ROOT, 'package.json'), 'utf8'))).toMatchObject({ name: '@gc-k8s/local-cluster' });
    expect(JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8'))).toMatchObject({ name: 'gc-k8s' });
    expect(LOCAL_CLUSTER_ROOT).toBe(join(PACKAGE_ROOT, 'packages', 'local-cluster'));
  });

  it('finds the worktree root by its .git entry and places state inside it', () => {
    const wt = join(tmp, 'wt');
    mkdirSync(join(wt, '.git'), { recursive: true });
    mkdirSync(join(wt, 'a', 'b'), { recursive: true });
    expect(findWorktree(join(wt, 'a', 'b'))).toBe(wt);
    const p = worktreePaths(join(wt, 'a'));
    expect(p.stateDir).toBe(join(wt, '.gc-k8s', 'cluster'));
    expect(p.kubeconfig).toBe(join(wt, '.kube', 'config'));
  });
});

describe('network plan', () => {
  it('gives every slot its own addresses, interfaces, cgroup and nft table', () => {
    const p1 = netPlan(1);
    const p2 = netPlan(2);
    expect(p1.podCidr).toBe('10.244.1.0/24');
    expect(p2.serviceCidr).toBe('10.96.2.0/24');
    for (const k of ['netns', 'hostIf', 'hostIp', 'nodeIp', 'podCidr', 'serviceCidr', 'bridge', 'cgroupRoot', 'nftTable'] as const) {
      expect(p1[k]).not.toBe(p2[k]);
    }
    expect(netPlan(250).hostIf.length).toBeLessThanOrEqual(15);
    expect(netPlan(250).bridge.length).toBeLessThanOrEqual(15);
  });

  it('parses GC_K8S_PORT_RANGE', () => {
    expect(parsePortRange(undefined)).toEqual([24000, 24999]);
    expect(parsePortRange('30000-30100')).toEqual([30000, 30100]);
    expect(() => parsePortRange('10-20')).toThrow(/GC_K8S_PORT_RANGE/);
  });
});

describe('resource check', () => {
  it('names every shortfall', () => {
    const r = checkResources({ memoryBytes: 1e15, diskBytes: 1e15, cpus: 1000 }, tmp);
    expect(r.missing.join('\n')).toMatch(/memory: .* needs/);
    expect(r.missing.join('\n')).toMatch(/disk: .* needs/);
    expect(r.missing.join('\n')).toMatch(/cpus: .* needs 1000/);
    expect(checkResources({ memoryBytes: 1, diskBytes: 1, cpus: 1 }, tmp).missing).toEqual([]);
  });
});

describe('backend selection', () => {
  it('uses an existing cluster when KUBECONFIG or a context is given, or the requested backend', async () => {
    expect(await selectBackend({ env: { KUBECONFIG: '/x' } })).toBe('existing');
    expect(await selectBackend({ env: {}, context: 'c' })).toBe('existing');
    expect(await selectBackend({ requested: 'kind', env: {} })).toBe('kind');
  });
});

describe('docker-archive packing', () => {
  it('writes manifest, config and one layer with the given reference', async () => {
    const rootfs = join(tmp, 'rootfs');
    mkdirSync(join(rootfs, 'bin'), { recursive: true });
    writeFileSync(join(rootfs, 'bin', 'hello'), 'hi');
    const out = join(tmp, 'img.tar');
    await packDockerArchive(rootfs, out, 'docker.io/library/t:1', { cmd: ['/bin/hello'], user: '1000:1000' });
    const names = execFileSync('tar', ['-tf', out]).toString().trim().split('\n');
    expect(names).toContain('manifest.json');
    const x = join(tmp, 'x');
    mkdirSync(x);
    execFileSync('tar', ['-xf', out, '-C', x]);
    const manifest = JSON.parse(readFileSync(join(x, 'manifest.json'), 'utf8')) as {
      Config: string;
      RepoTags: string[];
      Layers: string[];
    }[];
    expect(manifest[0]?.RepoTags).toEqual(['docker.io/library/t:1']);
    const cfg = JSON.parse(readFileSync(join(x, manifest[0]?.Config ?? ''), 'utf8')) as { config: { Cmd: string[]; User: string } };
    expect(cfg.config.Cmd).toEqual(['/bin/hello']);
    expect(cfg.config.User).toBe('1000:1000');
    const layer = execFileSync('tar', ['-tf', join(x, manifest[0]?.Layers[0] ?? '')]).toString();
    expect(layer).toContain('./bin/hello');
  });
});

describe('cli', () => {
  it('parses flags with and without =', () => {
    const p = parseArgs(['up', '--backend', 'local', '--images=agent,busybox', '--json']);
    expect(p.command).toBe('up');
    expect(p.flags.get('backend')).toBe('local');
    expect(p.flags.get('images')).toBe('agent,busybox');
    expect(p.flags.get('json')).toBe(true);
  });

  it('rejects bad input with exit 2 and usage', async () => {
    const io = { stdout: sink(), stderr: sink(), env: {}, cwd: tmp, signal: new AbortController().signal };
    expect(await runClusterCommand(['frobnicate'], io)).toBe(2);
    expect(io.stderr.text()).toContain('usage: gc-k8s cluster');
    expect(await runClusterCommand(['up', '--backend', 'nope'], io)).toBe(2);
    expect(await runClusterCommand(['up', '--images', 'nope'], io)).toBe(2);
    expect(await runClusterCommand(['image', 'nope'], io)).toBe(2);
  });

  /** The IO of a cluster command run in a fresh worktree that has no cluster. */
  function worktreeIo(name: string) {
    const wt = join(tmp, name);
    mkdirSync(join(wt, '.git'), { recursive: true });
    return { stdout: sink(), stderr: sink(), env: {}, cwd: wt, signal: new AbortController().signal };
  }

  it('status of a worktree without a cluster says so and exits 1', async () => {
    const io = worktreeIo('empty-wt');
    expect(await runClusterCommand(['status'], io)).toBe(1);
    expect(io.stdout.text()).toContain('not running');
  });

  it('restart names the component it needs, and refuses without a running local cluster', async () => {
    const io = worktreeIo('restart-wt');
    expect(await runClusterCommand(['restart'], io)).toBe(2);
    expect(io.stderr.text()).toContain('which component?');
    expect(await runClusterCommand(['restart', 'kube-nope'], io)).toBe(1);
    expect(io.stderr.text()).toMatch(/unknown component "kube-nope" \(one of etcd, .*kube-apiserver/);
    expect(await runClusterCommand(['restart', 'kube-apiserver'], io)).toBe(1);
    expect(io.stderr.text()).toContain('only a running local cluster');
  });

  it('progress lines carry elapsed time', () => {
    const s = sink();
    streamReporter(s).step('hello');
    expect(s.text()).toMatch(/^\[cluster +\d+\.\ds\] hello\n$/);
  });
});

describe('known fixes', () => {
  it('maps failure signatures in logs to advice', async () => {
    const { knownFix } = await import('../src/local/wait.js');
    expect(knownFix('listen tcp 127.0.0.1:24000: bind: address already in use')).toMatch(/GC_K8S_PORT_RANGE/);
    expect(knownFix('write /x: no space left on device')).toMatch(/disk is full/);
    expect(knownFix('all good')).toBeUndefined();
  });
});
