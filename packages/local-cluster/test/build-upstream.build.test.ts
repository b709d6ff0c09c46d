// scripts/build-upstream.sh with a fake `go` on PATH in a temporary cache: the heartbeat counts
// compiled packages against the plan and compares with the last build; --plan says what a run
// would really do; ensureBinaries announces only real builds. No network, a few seconds.

import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hasCode } from '../src/errors.js';
import { announceBuilds, ensureBinaries, parseUpstreamPlan, type UpstreamPlan } from '../src/host.js';
import { PACKAGE_ROOT } from '../src/names.js';
import type { Reporter } from '../src/progress.js';

const SCRIPT = join(PACKAGE_ROOT, 'scripts', 'build-upstream.sh');
const tmp = mkdtempSync(join(tmpdir(), 'gck-upstream-'));
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

// `go env GOVERSION`; `go build|install -n` plans $FAKE_PKGS packages (banners as go prints them);
// `go build|install -v` "compiles" them one per $FAKE_SLEEP s, then writes the binary
const FAKE_GO = `#!/usr/bin/env bash
set -eu
sub=$1; shift
case $sub in
  env) echo go1.99.0; exit 0 ;;
  build|install) ;;
  *) exit 0 ;;
esac
n=\${FAKE_PKGS:-4}
if [ "$1" = -n ]; then
  echo "go: downloading example.com/fake v1.0.0" >&2
  for i in $(seq 1 "$n"); do
    printf 'mkdir -p $WORK/b%03d/\\n\\n#\\n# example.com/fake/p%d\\n#\\n\\ncat >$WORK/b%03d/importcfg << EOF # internal\\n# import config\\nEOF\\n' "$i" "$i" "$i" >&2
  done
  exit 0
fi
for i in $(seq 1 "$n"); do sleep "\${FAKE_SLEEP:-0}"; echo "example.com/fake/p$i" >&2; done
if [ -n "\${FAKE_FAIL:-}" ]; then echo "fake: compile error" >&2; exit 1; fi
pkg=\${!#}; pkg=\${pkg%@*}
mkdir -p "$GOBIN"; printf '#!/bin/sh\\n' > "$GOBIN/\${pkg##*/}"; chmod +x "$GOBIN/\${pkg##*/}"
`;

const fakeBin = join(tmp, 'bin');
mkdirSync(fakeBin);
writeFileSync(join(fakeBin, 'go'), FAKE_GO);
chmodSync(join(fakeBin, 'go'), 0o755);

function envFor(cache: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, PATH: `${fakeBin}:${process.env.PATH ?? ''}`, GC_K8S_CACHE: cache, GC_K8S_RETRY_BUILDS: '', ...extra };
}

function script(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', [SCRIPT, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('close', (code) => {
      resolve({ code: code ?? 1, stdout, stderr });
    });
  });
}

function recorder(): Reporter & { steps: string[]; infos: string[] } {
  const steps: string[] = [];
  const infos: string[] = [];
  return { steps, infos, step: (m) => steps.push(m), info: (m) => infos.push(m), warn: (m) => infos.push(m) };
}

describe('build-upstream.sh heartbeat', () => {
  it('counts compiled packages against the plan and compares with the last build', async () => {
    const cache = join(tmp, 'c1');
    mkdirSync(join(cache, 'logs'), { recursive: true });
    writeFileSync(join(cache, 'logs', 'coredns.seconds'), '125\n'); // a previous build took 2m05s
    const r = await script(['coredns'], envFor(cache, { GC_K8S_HEARTBEAT_SECONDS: '1', FAKE_PKGS: '5', FAKE_SLEEP: '0.5' }));
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(join(cache, 'coredns-v1.14.7-go1.99.0', 'bin'));
    expect(r.stderr).toContain('coredns: building (log: ');
    expect(r.stderr).toContain('last build took 2m05s');
    const beats = r.stderr.split('\n').filter((l) => l.startsWith('[build-upstream] coredns: compiling'));
    expect(beats.length).toBeGreaterThan(0);
    for (const b of beats) {
      const m = /^\[build-upstream\] coredns: compiling (\d+)\/(\d+) packages, \d+s \(last build took 2m05s\)$/.exec(b);
      expect(m, b).not.toBeNull();
      expect(Number(m?.[2])).toBe(5);
      expect(Number(m?.[1])).toBeLessThanOrEqual(5);
    }
    expect(r.stderr).not.toContain('still building');
    // this build's duration replaces the record
    const secs = Number(readFileSync(join(cache, 'logs', 'coredns.seconds'), 'utf8').trim());
    expect(secs).toBeGreaterThanOrEqual(2);
    expect(secs).toBeLessThan(60);
  });

  it('shows progress of a failing build, records no duration for it and keeps the .failed logic', async () => {
    const cache = join(tmp, 'c2');
    const env = envFor(cache, { FAKE_FAIL: '1', GC_K8S_HEARTBEAT_SECONDS: '1', FAKE_SLEEP: '0.4' });
    const r = await script(['bd'], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/\[build-upstream\] bd: building \(log: .*; estimate ~1m30s\)/);
    expect(r.stderr).toMatch(/\[build-upstream\] bd: compiling [0-4]\/4 packages, \d+s \(estimate ~1m30s\)\n/);
    expect(r.stderr).toContain('bd: FAILED after');
    expect(existsSync(join(cache, 'logs', 'bd.seconds'))).toBe(false);
    expect(readFileSync(join(cache, 'bd-v1.0.0-go1.99.0', '.failed'), 'utf8')).toContain('fake: compile error');
    const again = await script(['bd'], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('bd: failed recently');
  });
});

describe('build-upstream.sh --plan', () => {
  it('tells built, recently failed, busy and to-build components apart, with the expected time', async () => {
    const cache = join(tmp, 'c3');
    mkdirSync(join(cache, 'etcd-v3.6.14-go1.99.0', 'bin'), { recursive: true });
    writeFileSync(join(cache, 'etcd-v3.6.14-go1.99.0', 'bin', '.complete'), '');
    mkdirSync(join(cache, 'gc-v0.15.1-go1.99.0'), { recursive: true });
    writeFileSync(join(cache, 'gc-v0.15.1-go1.99.0', '.failed'), '403 Forbidden\n');
    mkdirSync(join(cache, 'logs'), { recursive: true });
    writeFileSync(join(cache, 'logs', 'dolt.seconds'), '301\n');
    mkdirSync(join(cache, 'locks'), { recursive: true });
    // another process building bd: holds its lock
    const holder = spawn('flock', ['-x', '-o', join(cache, 'locks', 'bd.lock'), 'sh', '-c', 'echo locked; exec cat >/dev/null'], {
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    await new Promise<void>((resolve) => {
      holder.stdout.once('data', () => {
        resolve();
      });
    });
    try {
      const r = await script(['--plan', 'k8s', 'etcd', 'gc', 'bd', 'dolt'], envFor(cache));
      expect(r.code).toBe(0);
      const plans = parseUpstreamPlan(r.stdout);
      const by = Object.fromEntries(plans.map((p) => [p.component, p]));
      expect(plans.map((p) => p.component)).toEqual(['k8s', 'etcd', 'gc', 'bd', 'dolt']);
      expect(by.k8s).toMatchObject({
        state: 'build',
        expectedSeconds: 660,
        basis: 'estimate',
        dir: join(cache, 'k8s-v1.34.10-go1.99.0', 'bin'),
      });
      expect(by.etcd?.state).toBe('built');
      expect(by.gc?.state).toBe('failed');
      expect(by.bd?.state).toBe('busy');
      expect(by.dolt).toMatchObject({ state: 'build', expectedSeconds: 301, basis: 'last' });
      const retry = parseUpstreamPlan((await script(['--plan', 'gc'], envFor(cache, { GC_K8S_RETRY_BUILDS: '1' }))).stdout);
      expect(retry[0]?.state).toBe('build');
    } finally {
      holder.kill('SIGKILL');
      holder.stdin.end();
    }
    // --plan builds nothing
    expect(existsSync(join(cache, 'k8s-v1.34.10-go1.99.0'))).toBe(false);
  });
});

describe('ensureBinaries announcements', () => {
  const plan = (
    component: UpstreamPlan['component'],
    state: UpstreamPlan['state'],
    expectedSeconds: number,
    basis: UpstreamPlan['basis'],
  ): UpstreamPlan => ({
    component,
    dir: `/c/${component}/bin`,
    state,
    expectedSeconds,
    basis,
  });

  it('announces only components that are built now, with their expected time', () => {
    expect(announceBuilds([plan('gc', 'failed', 120, 'estimate'), plan('bd', 'built', 90, 'estimate')], '/c/logs')).toEqual([]);
    expect(
      announceBuilds(
        [plan('k8s', 'build', 660, 'estimate'), plan('etcd', 'build', 65, 'last'), plan('gc', 'failed', 120, 'estimate')],
        '/c/logs',
      ),
    ).toEqual(['building k8s (estimate ~11m00s), etcd (last build took 1m05s) from Go modules (logs in /c/logs)']);
    expect(announceBuilds([plan('bd', 'busy', 90, 'estimate')], '/c/logs')).toEqual([
      "waiting for another process's build of bd (estimate ~1m30s) (logs in /c/logs)",
    ]);
  });

  it('does not claim to build a component whose build failed recently', async () => {
    const cache = join(tmp, 'c4');
    mkdirSync(join(cache, 'gc-v0.15.1-go1.99.0'), { recursive: true });
    writeFileSync(join(cache, 'gc-v0.15.1-go1.99.0', '.failed'), '403 Forbidden: This module version is not available.\n');
    const r = recorder();
    const err: unknown = await ensureBinaries(['gc'], envFor(cache), r, new AbortController().signal).catch((e: unknown) => e);
    expect(hasCode(err, 'CLUSTER')).toBe(true);
    expect((err as Error).message).toContain('refuses the module');
    expect(r.steps.filter((s) => s.startsWith('building'))).toEqual([]);
    expect(r.infos.some((l) => l.includes('gc: failed recently'))).toBe(true);
  });

  it('says it waits, not builds, while another process builds the component', async () => {
    const cache = join(tmp, 'c5');
    mkdirSync(join(cache, 'locks'), { recursive: true });
    const holder = spawn('flock', ['-x', '-o', join(cache, 'locks', 'bd.lock'), 'sh', '-c', 'echo locked; exec cat >/dev/null'], {
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    await new Promise<void>((resolve) => {
      holder.stdout.once('data', () => {
        resolve();
      });
    });
    const r = recorder();
    const ensured = ensureBinaries(['bd'], envFor(cache), r, new AbortController().signal);
    setTimeout(() => {
      holder.kill('SIGKILL'); // the other build ends (without a result: this one then builds)
      holder.stdin.end();
    }, 500);
    expect(await ensured).toEqual({ bd: join(cache, 'bd-v1.0.0-go1.99.0', 'bin') });
    expect(r.steps).toEqual([`waiting for another process's build of bd (estimate ~1m30s) (logs in ${join(cache, 'logs')})`]);
    expect(r.infos.some((l) => l.includes('bd: another build is running'))).toBe(true);
  });
});
