// The shared image cache under concurrent builders: the per-image lock, private temp paths,
// concurrent packing into one archive, and the debootstrap heartbeat.

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hasCode } from '../src/errors.js';
import { privateTemp, removeDeadTemps, withCacheLock } from '../src/cache-lock.js';
import { buildOnce, packDockerArchive } from '../src/image-build.js';
import { debootstrapHeartbeat, debootstrapPhase } from '../src/images.js';
import type { Reporter } from '../src/progress.js';

const tmp = mkdtempSync(join(tmpdir(), 'gck-imgcache-'));
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function recorder(): Reporter & { lines: string[] } {
  const lines: string[] = [];
  const push = (m: string): void => {
    lines.push(m);
  };
  return { lines, step: push, info: push, warn: push };
}

/** A pid that is certainly not running: a child that has already exited and been reaped. */
function deadPid(): number {
  return spawnSync('true').pid;
}

function lockIsFree(lock: string): boolean {
  return spawnSync('flock', ['-n', lock, 'true']).status === 0;
}

describe('cache lock', () => {
  it('serializes two concurrent holders and tells the second whom it waits for', async () => {
    const lock = join(tmp, 'serial.lock');
    const r = recorder();
    const events: string[] = [];
    const hold = (name: string): Promise<string> =>
      withCacheLock(lock, { what: 'image t:1', reporter: r, progressMs: 100 }, async () => {
        events.push(`${name}+`);
        await delay(500);
        events.push(`${name}-`);
        return name;
      });
    expect((await Promise.all([hold('a'), hold('b')])).sort()).toEqual(['a', 'b']);
    // no overlap: each holder leaves before the other enters
    const [first, second] = [events[0]?.[0], events[2]?.[0]];
    expect(events).toEqual([`${first}+`, `${first}-`, `${second}+`, `${second}-`]);
    expect(r.lines.some((l) => l.startsWith(`waiting for another build of image t:1 (pid ${process.pid})`))).toBe(true);
    expect(lockIsFree(lock)).toBe(true);
  });

  it('is not held up by a lock file of a dead pid', async () => {
    const lock = join(tmp, 'stale.lock');
    writeFileSync(lock, `${deadPid()}\n`);
    const r = recorder();
    const started = Date.now();
    expect(await withCacheLock(lock, { what: 'image t:2', reporter: r }, () => Promise.resolve('ok'))).toBe('ok');
    expect(Date.now() - started).toBeLessThan(2000);
    expect(r.lines).toEqual([]);
    expect(readFileSync(lock, 'utf8').trim()).toBe(String(process.pid));
  });

  it('takes over when the holding process is killed', async () => {
    const lock = join(tmp, 'crash.lock');
    // another "builder" holding the lock the same way cache-lock does
    const other = spawn('flock', ['-x', '-o', lock, 'sh', '-c', 'echo locked; exec cat >/dev/null'], { stdio: ['pipe', 'pipe', 'ignore'] });
    await new Promise<void>((resolve) => {
      other.stdout.once('data', () => {
        resolve();
      });
    });
    writeFileSync(lock, `${other.pid}\n`);
    const r = recorder();
    let entered = false;
    const waiting = withCacheLock(lock, { what: 'image t:3', reporter: r, progressMs: 100 }, () => {
      entered = true;
      return Promise.resolve();
    });
    await delay(400);
    expect(entered).toBe(false);
    expect(r.lines[0]).toMatch(new RegExp(`^waiting for another build of image t:3 \\(pid ${other.pid}\\), \\d+s$`));
    other.kill('SIGKILL'); // a crash: nobody releases anything
    await waiting;
    expect(entered).toBe(true);
    other.stdin.end(); // lets its orphaned `cat` exit
  });

  it('is released when the holder throws', async () => {
    const lock = join(tmp, 'throw.lock');
    await expect(withCacheLock(lock, { what: 'x' }, () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(lockIsFree(lock)).toBe(true);
    const r = recorder();
    expect(await withCacheLock(lock, { what: 'x', reporter: r }, () => Promise.resolve(1))).toBe(1);
    expect(r.lines).toEqual([]);
  });

  it('stops waiting when aborted', async () => {
    const lock = join(tmp, 'abort.lock');
    let release = (): void => undefined;
    const holding = withCacheLock(lock, { what: 'x' }, () => new Promise<void>((r) => (release = r)));
    await delay(200);
    const ac = new AbortController();
    const waiting = withCacheLock(lock, { what: 'x', signal: ac.signal }, () => Promise.resolve());
    setTimeout(() => {
      ac.abort();
    }, 200);
    const err: unknown = await waiting.catch((e: unknown) => e);
    expect(hasCode(err, 'ABORTED')).toBe(true);
    release();
    await holding;
    expect(lockIsFree(lock)).toBe(true);
  });
});

describe('private temp paths', () => {
  it('are unique per call and removed only when their process is dead', () => {
    const base = join(tmp, 'temps', 'gc-x-1.tar');
    mkdirSync(join(tmp, 'temps'), { recursive: true });
    const a = privateTemp(base, 'rootfs');
    expect(a).not.toBe(privateTemp(base, 'rootfs'));
    expect(a.startsWith(`${base}.${process.pid}-`)).toBe(true);
    const dead = `${base}.${deadPid()}-deadbeef.rootfs`;
    mkdirSync(join(dead, 'bin'), { recursive: true });
    mkdirSync(a);
    writeFileSync(`${base}.junk`, '');
    removeDeadTemps(base);
    expect(existsSync(dead)).toBe(false);
    expect(existsSync(a)).toBe(true);
    expect(existsSync(`${base}.junk`)).toBe(true);
  });
});

function rootfsWith(name: string): string {
  const dir = join(tmp, `rootfs-${name}`);
  mkdirSync(join(dir, 'bin'), { recursive: true });
  // large enough that the two packs overlap
  writeFileSync(join(dir, 'bin', name), randomBytes(8 * 1024 * 1024));
  return dir;
}

describe('concurrent docker-archive packing', () => {
  it('two packs of different rootfs into one archive both finish and leave one valid archive', async () => {
    const dir = join(tmp, 'concurrent');
    mkdirSync(dir);
    const out = join(dir, 'img.tar');
    await Promise.all([
      packDockerArchive(rootfsWith('a'), out, 'docker.io/library/t:a', {}),
      packDockerArchive(rootfsWith('b'), out, 'docker.io/library/t:b', {}),
    ]);
    expect(readdirSync(dir)).toEqual(['img.tar']); // no work dirs or temp tarballs left
    const x = join(tmp, 'concurrent-x');
    mkdirSync(x);
    execFileSync('tar', ['-xf', out, '-C', x]);
    const [m] = JSON.parse(readFileSync(join(x, 'manifest.json'), 'utf8')) as { Config: string; RepoTags: string[]; Layers: string[] }[];
    const which = m?.RepoTags[0]?.endsWith(':a') === true ? 'a' : 'b';
    expect(m?.RepoTags).toEqual([`docker.io/library/t:${which}`]);
    const layer = join(x, m?.Layers[0] ?? '');
    const cfg = JSON.parse(readFileSync(join(x, m?.Config ?? ''), 'utf8')) as { rootfs: { diff_ids: string[] } };
    expect(cfg.rootfs.diff_ids).toEqual([`sha256:${createHash('sha256').update(readFileSync(layer)).digest('hex')}`]);
    const files = execFileSync('tar', ['-tf', layer]).toString();
    expect(files).toContain(`./bin/${which}`);
    expect(files).not.toContain(`./bin/${which === 'a' ? 'b' : 'a'}`);
  });
});

describe('buildOnce', () => {
  it('builds an archive once: a concurrent builder waits and reuses it', async () => {
    const env = { GC_K8S_CACHE: join(tmp, 'cache') };
    const archive = join(tmp, 'cache', 'images', 'gc-t-1.tar');
    mkdirSync(join(tmp, 'cache', 'images'), { recursive: true });
    let builds = 0;
    const r = recorder();
    const ctx = { env, reporter: r, signal: new AbortController().signal };
    const build = async (): Promise<void> => {
      builds++;
      const t = privateTemp(archive, 'tmp');
      writeFileSync(t, 'archive');
      await delay(300);
      execFileSync('mv', [t, archive]);
    };
    await Promise.all([buildOnce(ctx, archive, 'image t:1', build), buildOnce(ctx, archive, 'image t:1', build)]);
    expect(builds).toBe(1);
    expect(readFileSync(archive, 'utf8')).toBe('archive');
    expect(r.lines.some((l) => l.startsWith('waiting for another build of image t:1'))).toBe(true);
  });
});

describe('debootstrap heartbeat', () => {
  it('says "starting" before the first phase instead of cutting a word', () => {
    expect(debootstrapHeartbeat('', 10)).toBe('debootstrap 10s: starting');
    expect(debootstrapHeartbeat('', 75)).toBe('debootstrap 1m15s: starting');
  });

  it('shows the text of the last complete "I: " line', () => {
    const out =
      'I: Retrieving InRelease \nI: Checking Release signature\nI: Valid Release signature (key id 4D64FEC119C2029067D6E791F8D2585B8783D481)\n';
    expect(debootstrapPhase(out)).toBe('Valid Release signature (key id 4D64FEC119C2029067D6E791F8D2585B8783D481)');
    expect(debootstrapHeartbeat('I: Retrieving Packages\nI: Retriev', 20)).toBe('debootstrap 20s: Retrieving Packages');
    expect(debootstrapPhase('I: Extracting libc6...\nW: Failure trying to run: chroot\n')).toBe('Extracting libc6...');
    expect(debootstrapPhase('W: only a warning\n')).toBeUndefined();
  });

  it('keeps the phase on one bounded line', () => {
    const long = `I: Retrieving ${'x'.repeat(300)}\r\n`;
    const phase = debootstrapPhase(long) ?? '';
    expect(phase.length).toBeLessThanOrEqual(100);
    expect(phase.endsWith('…')).toBe(true);
    expect(phase).not.toMatch(/[\r\n]/);
    expect(debootstrapPhase('I: Configuring\tapt\r\n')).toBe('Configuring apt');
  });
});
