// Process helpers for cluster management: run a command and capture its output, start a
// detached daemon (own session, output to a log file), check and stop processes by PID.

import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, readdirSync } from 'node:fs';
import { ClusterError } from './errors.js';
import { sleep } from './abort.js';

export interface RunOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  readonly input?: string | Buffer;
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
  /** called with each chunk of stderr (progress of long tools) */
  readonly onStderr?: (chunk: string) => void;
  /** return a non-zero result instead of throwing */
  readonly allowFail?: boolean;
}

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `cmd args`, resolving with its output. Throws CLUSTER on non-zero exit unless allowFail. */
export function run(cmd: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      env: options.env ?? process.env,
      cwd: options.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
      signal: options.signal,
      timeout: options.timeoutMs,
      killSignal: 'SIGKILL',
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => {
      err.push(b);
      options.onStderr?.(b.toString('utf8'));
    });
    child.on('error', (e) => {
      reject(new ClusterError('CLUSTER', `run ${cmd}: ${e.message}`, { cause: e }));
    });
    child.on('close', (code, signal) => {
      const result = {
        code: code ?? (signal === null ? 1 : 128),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      };
      if (result.code !== 0 && options.allowFail !== true) {
        const tail = lastLines(result.stderr.trim() === '' ? result.stdout : result.stderr, 15);
        reject(new ClusterError('CLUSTER', `run ${cmd} ${args.slice(0, 4).join(' ')}: exit ${signal ?? result.code}\n${tail}`));
        return;
      }
      resolve(result);
    });
    child.stdin.on('error', () => undefined); // EPIPE when the program does not read stdin
    child.stdin.end(options.input ?? '');
  });
}

export function lastLines(text: string, n: number): string {
  const lines = text.split('\n');
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines.slice(-n).join('\n');
}

/** Last `n` lines of a log file ('' if unreadable). Reads at most the last 64 KiB. */
export function tailFile(path: string, n: number): string {
  try {
    const buf = readFileSync(path);
    return lastLines(buf.subarray(Math.max(0, buf.length - 65536)).toString('utf8'), n);
  } catch {
    return '';
  }
}

export interface DetachedOptions {
  readonly logFile: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** path of a network namespace (/run/netns/x) to start the process in (nsenter --net) */
  readonly netns?: string;
}

/**
 * Starts a daemon in its own session (setsid) with stdout+stderr appended to logFile, not tied
 * to our lifetime. Returns its PID (with netns: nsenter execs the program, so the PID is the
 * program's own).
 */
export function spawnDetached(cmd: string, args: readonly string[], options: DetachedOptions): number {
  const fd = openSync(options.logFile, 'a');
  try {
    const [file, argv] = options.netns === undefined ? [cmd, args] : ['nsenter', [`--net=${options.netns}`, '--', cmd, ...args]];
    const child = spawn(file, argv, {
      detached: true,
      stdio: ['ignore', fd, fd],
      env: options.env ?? process.env,
      cwd: options.cwd,
    });
    child.on('error', () => undefined);
    child.unref();
    if (child.pid === undefined) throw new ClusterError('CLUSTER', `start ${cmd}: spawn failed`);
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

export function isAlive(pid: number | undefined): boolean {
  if (pid === undefined || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // a zombie is not alive
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** The process's argv joined with spaces, or undefined when gone. */
export function cmdline(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return undefined;
  }
}

/** PIDs of every process whose command line contains `needle`. */
export function findProcesses(needle: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    const cl = cmdline(pid);
    if (cl?.includes(needle) === true) pids.push(pid);
  }
  return pids;
}

function signalPid(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/**
 * Sends SIGTERM to each pid, waits up to graceMs for all to exit, then SIGKILLs the rest and
 * waits briefly for them to disappear.
 */
export async function stopPids(pids: readonly number[], graceMs: number, signal?: AbortSignal): Promise<void> {
  const live = pids.filter((p) => isAlive(p));
  if (live.length === 0) return;
  for (const p of live) signalPid(p, 'SIGTERM');
  const never = signal ?? new AbortController().signal;
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && live.some((p) => isAlive(p))) await sleep(50, never);
  const rest = live.filter((p) => isAlive(p));
  for (const p of rest) signalPid(p, 'SIGKILL');
  const killDeadline = Date.now() + 3000;
  while (Date.now() < killDeadline && rest.some((p) => isAlive(p))) await sleep(25, never);
}
