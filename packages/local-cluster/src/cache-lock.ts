// Cross-process locks and private temporary paths for builds in the shared cache (~/.cache/gc-k8s),
// where several worktrees may build the same image at once.
//
// A lock is flock(2) on a lock file, held by a `flock` child process (Node has no flock). The kernel
// drops the lock when that child exits, and the child exits when its stdin reaches EOF, which also
// happens when we crash or are killed: a lock is never left behind by a dead process, so waiting
// for it cannot deadlock (a pid file would need a liveness check that pid reuse defeats). The lock
// file holds the holder's pid only so that waiters can say whom they wait for.

import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ClusterError } from './errors.js';
import { abortError } from './abort.js';
import { isAlive } from './proc.js';
import { formatDuration, type Reporter } from './progress.js';

export interface LockOptions {
  /** what the lock protects, for messages ("image docker.io/library/gc-agent:1a2b") */
  readonly what: string;
  readonly reporter?: Reporter;
  readonly signal?: AbortSignal;
  /** interval of "waiting for …" progress lines (default 10 s) */
  readonly progressMs?: number;
}

/** flock's exit code when -n finds the lock taken (distinct from its own failures, 1 and 64+). */
const BUSY = 75;

interface Holder {
  readonly child: ChildProcess;
}

/**
 * Starts `flock` on `lockFile` and resolves once it holds the lock, or with 'busy' when
 * `nonBlocking` and another process holds it. The child keeps the lock until its stdin closes.
 */
function startFlock(lockFile: string, nonBlocking: boolean, signal: AbortSignal | undefined): Promise<Holder | 'busy'> {
  // -o: only flock itself holds the lock, not the `sh`/`cat` it runs (they could outlive a killed flock)
  const args = [...(nonBlocking ? ['-n', '-E', String(BUSY)] : []), '-x', '-o', lockFile, 'sh', '-c', 'echo locked; exec cat >/dev/null'];
  const child = spawn('flock', args, { stdio: ['pipe', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    let settled = false;
    const settle = (f: () => void): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      f();
    };
    const onAbort = (): void => {
      child.kill('SIGTERM'); // our own child, still waiting for the lock
      child.stdin.end(); // in case it got the lock meanwhile: its `cat` must not outlive us
      settle(() => {
        reject(abortError(signal ?? AbortSignal.abort(), `lock ${lockFile}`));
      });
    };
    if (signal?.aborted === true) {
      onAbort();
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    child.stdin.on('error', () => undefined); // EPIPE when flock exits before reading
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString('utf8');
      if (out.includes('locked\n')) {
        settle(() => {
          resolve({ child });
        });
      }
    });
    child.stderr.on('data', (b: Buffer) => (err += b.toString('utf8')));
    child.on('error', (e) => {
      settle(() => {
        reject(new ClusterError('CLUSTER', `lock ${lockFile}: cannot run flock (util-linux): ${e.message}`, { cause: e }));
      });
    });
    child.on('exit', (code) => {
      settle(() => {
        if (nonBlocking && code === BUSY) resolve('busy');
        else reject(new ClusterError('CLUSTER', `lock ${lockFile}: flock exited ${String(code)}: ${err.trim()}`));
      });
    });
  });
}

function release(holder: Holder): Promise<void> {
  const { child } = holder;
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL'); // our own child; its lock goes with it
    }, 5000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.stdin?.end(); // EOF ends `cat`, then flock exits and the kernel drops the lock
  });
}

/** "pid 1234" of the lock's holder as it recorded itself, when that process is alive. */
export function lockHolder(lockFile: string): string {
  try {
    const pid = Number(readFileSync(lockFile, 'utf8').trim());
    if (Number.isInteger(pid) && isAlive(pid)) return `pid ${pid}`;
  } catch {
    // no lock file yet
  }
  return 'pid unknown';
}

/** Waits for and takes the lock, reporting every progressMs whom it waits for. */
async function acquire(lockFile: string, opts: LockOptions): Promise<Holder> {
  mkdirSync(dirname(lockFile), { recursive: true });
  let holder = await startFlock(lockFile, true, opts.signal);
  if (holder === 'busy') {
    const started = Date.now();
    const report = (): void => {
      const waited = formatDuration((Date.now() - started) / 1000);
      opts.reporter?.info(`waiting for another build of ${opts.what} (${lockHolder(lockFile)}), ${waited}`);
    };
    report();
    const timer = setInterval(report, opts.progressMs ?? 10_000);
    try {
      holder = await startFlock(lockFile, false, opts.signal);
    } finally {
      clearInterval(timer);
    }
    if (holder === 'busy') throw new ClusterError('INTERNAL', `lock ${lockFile}: blocking flock reported busy`);
  }
  writeFileSync(lockFile, `${process.pid}\n`);
  return holder;
}

/**
 * Runs fn while holding the cross-process lock `lockFile`; a second caller (any process) waits,
 * with progress lines, until the first releases it, including by crashing.
 */
export async function withCacheLock<T>(lockFile: string, opts: LockOptions, fn: () => Promise<T>): Promise<T> {
  const holder = await acquire(lockFile, opts);
  try {
    return await fn();
  } finally {
    await release(holder);
  }
}

/**
 * A path beside `path`, private to this process and call: `<path>.<pid>-<random>.<suffix>`.
 * Builds write there and rename into place, so two builders never touch each other's files.
 */
export function privateTemp(path: string, suffix: string): string {
  return `${path}.${process.pid}-${randomBytes(4).toString('hex')}.${suffix}`;
}

/** Removes the private temps of `path` (any suffix) left by processes that are no longer alive. */
export function removeDeadTemps(path: string): void {
  const dir = dirname(path);
  const prefix = `${basename(path)}.`;
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const e of entries) {
    if (!e.startsWith(prefix)) continue;
    const m = /^(\d+)-[0-9a-f]{8}\.[a-z]+$/.exec(e.slice(prefix.length));
    if (m?.[1] !== undefined && !isAlive(Number(m[1]))) rmSync(join(dir, e), { recursive: true, force: true });
  }
}
