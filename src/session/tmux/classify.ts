// Reading tmux's failures: "the session is not there" is an answer for best-effort ops; anything
// else is an error the caller must see (with tmux's own words kept).

import { clip, GcK8sError } from '../../errors.js';
import type { ExecResult } from '../../kube/ports.js';

// a session that is just ending answers with the server going away under the client
const MISSING = [
  /no server running/i,
  /can't find session/i,
  /error connecting to/i,
  /no sessions/i,
  /session not found/i,
  /server exited unexpectedly/i,
  /lost server/i,
];

export function isTmuxMissing(result: ExecResult): boolean {
  if (result.exitCode === 0) return false;
  const text = result.stderr.toString('utf8');
  return MISSING.some((re) => re.test(text));
}

/** argv as a message shows it: user data in it (a meta value, keys) is cut, never echoed whole. */
export function showArgv(argv: readonly string[]): string {
  const shown = argv.map((a) => (a.length > 60 ? `${a.slice(0, 60)}…(${a.length} chars)` : a)).join(' ');
  return clip(shown, 300);
}

export function tmuxFailure(what: string, argv: readonly string[], result: ExecResult): GcK8sError {
  const stderr = clip(result.stderr.toString('utf8').trim(), 500);
  return new GcK8sError('EXEC_NONZERO', `${what}: ${showArgv(argv)} exited ${result.exitCode}${stderr ? `: ${stderr}` : ''}`, {
    details: { exitCode: result.exitCode, stderr },
  });
}
