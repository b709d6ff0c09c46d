// Where the daemon listens, and whether a socket found there may be trusted. One daemon per user
// and kubeconfig, so two worktrees with their own clusters (their own KUBECONFIG) never share a
// daemon; GC_K8S_SOCKET overrides. The scripts send their environment (GC_DOLT_PASSWORD among it)
// to whatever answers there, so before connecting a client checks that the socket is its own user's
// and that nobody else could have put it there: its directory is the user's and closed to others
// (or sticky, like /tmp, where nobody can replace another user's file). The native client checks
// the same, and the peer's uid (SO_PEERCRED) too.

import { createHash } from 'node:crypto';
import { lstatSync, statSync } from 'node:fs';
import { createConnection } from 'node:net';
import { dirname, join } from 'node:path';
import { CLIENT_ENV } from './client-env.js';

/** sun_path holds 108 bytes with the terminating NUL; longer paths would be cut silently. */
export const MAX_SOCKET_PATH_BYTES = 107;

function uid(): number {
  return process.getuid?.() ?? 0;
}

export function stateDir(env: Readonly<Record<string, string | undefined>>): string {
  const xdg = env['XDG_RUNTIME_DIR'];
  if (xdg !== undefined) return join(xdg, 'gc-k8s');
  const home = env['HOME'];
  // never a shared directory someone else could have made first: a private one per user
  return home !== undefined ? join(home, '.cache', 'gc-k8s') : `/tmp/gc-k8s-${uid()}`;
}

export function socketPath(env: Readonly<Record<string, string | undefined>>): string {
  const explicit = env[CLIENT_ENV.socket.env];
  if (explicit !== undefined && explicit !== '') return explicit;
  const key = createHash('sha256')
    .update(env['KUBECONFIG'] ?? '')
    .digest('hex')
    .slice(0, 10);
  return join(stateDir(env), `daemon-${key}.sock`);
}

export class UntrustedSocket extends Error {}

/** Throws when the path cannot be a Unix socket address as given (it would be truncated). */
export function checkSocketPathLength(path: string): void {
  const bytes = Buffer.byteLength(path, 'utf8');
  if (bytes > MAX_SOCKET_PATH_BYTES) {
    throw new UntrustedSocket(
      `the gc-k8s socket path is ${bytes} bytes; Unix sockets take at most ${MAX_SOCKET_PATH_BYTES} (set GC_K8S_SOCKET or XDG_RUNTIME_DIR to a shorter path)`,
    );
  }
}

/** Whether only the user (and root) can make or replace entries in `dir`. */
export function privateDirProblem(dir: string, me = uid()): string | undefined {
  let st;
  try {
    st = statSync(dir);
  } catch {
    return undefined; // absent: whoever creates it makes it 0700
  }
  const sticky = (st.mode & 0o1000) !== 0;
  if (st.uid !== me && st.uid !== 0 && !sticky) return `its directory ${dir} belongs to uid ${st.uid}, not you (uid ${me})`;
  if ((st.mode & 0o022) !== 0 && !sticky) return `its directory ${dir} is writable by others (mode ${(st.mode & 0o777).toString(8)})`;
  return undefined;
}

/**
 * Before sending anything: the socket (if it exists) must belong to the user, and its directory
 * must be one nobody else can write to. Throws UntrustedSocket naming the reason.
 */
export function verifySocket(path: string, me = uid()): void {
  checkSocketPathLength(path);
  const dirProblem = privateDirProblem(dirname(path), me);
  if (dirProblem !== undefined) throw new UntrustedSocket(`refusing the gc-k8s socket ${path}: ${dirProblem}`);
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return; // not there yet: nothing answers, the client starts the daemon
  }
  if (!st.isSocket()) throw new UntrustedSocket(`refusing ${path}: it is not a socket`);
  if (st.uid !== me) throw new UntrustedSocket(`refusing the gc-k8s socket ${path}: it belongs to uid ${st.uid}, not you (uid ${me})`);
}

/** True when something answers on the socket (a daemon): a connect, nothing sent. */
export function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => {
      resolve(false);
    });
  });
}
