// Starts the daemon when no one answers on its socket: detached, logging to a file next to the
// socket, with a start lock so that a burst of gc calls starts exactly one daemon.

import { spawn } from 'node:child_process';
import { chmodSync, closeSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLIENT_ENV } from '../protocol/client-env.js';

const START_WAIT_MS = 30_000;

export function daemonLogPath(socket: string): string {
  return socket.replace(/\.sock$/, '') + '.log';
}

function tail(path: string): string {
  try {
    const lines = readFileSync(path, 'utf8').trim().split('\n');
    return lines.slice(-3).join(' | ').slice(-600);
  } catch {
    return '(no log)';
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Returns once something answers on `socket`; `probe` tries a connection. */
export async function ensureDaemon(
  socket: string,
  env: NodeJS.ProcessEnv,
  probe: () => Promise<boolean>,
  progress: (line: string) => void,
): Promise<void> {
  const dir = dirname(socket);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // our own state directory is private whoever made it (an explicit GC_K8S_SOCKET's is the user's choice)
  if (env[CLIENT_ENV.socket.env] === undefined || env[CLIENT_ENV.socket.env] === '') {
    if (statSync(dir).uid === (process.getuid?.() ?? 0)) chmodSync(dir, 0o700);
  }
  const lock = `${socket}.starting`;
  const log = daemonLogPath(socket);
  let owner = false;
  try {
    const fd = openSync(lock, 'wx', 0o600);
    writeSync(fd, String(process.pid));
    closeSync(fd);
    owner = true;
  } catch {
    // Someone else is starting it; a lock older than the start window is stale.
    try {
      if (Date.now() - statSync(lock).mtimeMs > START_WAIT_MS) {
        unlinkSync(lock);
        await ensureDaemon(socket, env, probe, progress);
        return;
      }
    } catch {
      /* lock vanished meanwhile */
    }
  }
  try {
    if (owner) {
      const main = fileURLToPath(new URL('../../bin/gc-k8s.js', import.meta.url));
      const out = openSync(log, 'a', 0o600);
      const child = spawn(process.execPath, [main, 'serve', '--socket', socket], {
        detached: true,
        stdio: ['ignore', out, out],
        env,
      });
      child.unref();
      closeSync(out);
    }
    const begin = Date.now();
    let told = false;
    while (Date.now() - begin < START_WAIT_MS) {
      if (await probe()) return;
      if (!told && Date.now() - begin > 1500) {
        progress(`gc-k8s: starting the daemon (log: ${log})`);
        told = true;
      }
      await sleep(50);
    }
    throw new Error(`the gc-k8s daemon did not start within ${START_WAIT_MS / 1000}s; log ${log}: ${tail(log)}`);
  } finally {
    if (owner) {
      try {
        unlinkSync(lock);
      } catch {
        /* gone */
      }
    }
  }
}
