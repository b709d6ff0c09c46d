// Pure tmux argv builders. Every tmux call the daemon makes is one of these arrays, executed with
// exec (no shell) so session data never passes through a shell parser.

import { quote } from '../../errors.js';

export const TMUX_SESSION = 'main';

/**
 * User data as one tmux argument that stays one argument. tmux splits its argv into commands at
 * every argument that ends in `;` (`send-keys s Enter ';' run-shell …` ran a shell command; a meta
 * value `abc;` was stored as `abc`); a backslash before that last `;` makes it literal, and tmux
 * removes exactly that one backslash. Options are ended by `--` in the builders below, so data
 * starting with `-` is never a flag.
 */
export function tmuxLiteral(arg: string): string {
  return arg.endsWith(';') ? `${arg.slice(0, -1)}\\;` : arg;
}

/** the largest history tmux keeps is bounded by history-limit; beyond this we ask for all of it */
export const MAX_HISTORY_LINES = 10_000_000;
// -u: the exec'd client must not assume an ASCII locale (containers often have no LANG), or
// tmux prints non-ASCII and control characters of panes and variables as '_'.
const tmux = 'tmux';

/**
 * The builders for one tmux target: our sessions' `main`, or undefined for the session tmux picks
 * itself (the most recently used: a provisioned box, whose one session gc named).
 */
export function tmuxFor(target: string | undefined) {
  const T = target === undefined ? [] : ['-t', target];
  return {
    hasSession: (): string[] => [tmux, '-u', 'has-session', ...T],
    interrupt: (): string[] => [tmux, '-u', 'send-keys', ...T, 'C-c'],
    sendKeys: (keys: readonly string[]): string[] => [tmux, '-u', 'send-keys', ...T, '--', ...keys.map(tmuxLiteral)],
    enter: (): string[] => [tmux, '-u', 'send-keys', ...T, 'Enter'],
    /**
     * Types stdin into the pane literally: one tmux client runs load-buffer from stdin, then
     * pastes (bracketed when the app asked for it, -p) and deletes the buffer. tmux waits for the
     * load before it pastes; `;` is tmux's own command separator, not a shell's.
     */
    paste: (buffer: string): string[] => [
      tmux,
      '-u',
      'load-buffer',
      '-b',
      buffer,
      '-',
      ';',
      'paste-buffer',
      '-p',
      '-d',
      '-b',
      buffer,
      ...T,
    ],
    /**
     * The last `lines` lines of history plus the visible pane; lines <= 0, or more than any
     * history holds, the whole scrollback (tmux does not parse numbers past its own limits).
     */
    capturePane: (lines: number): string[] => [
      tmux,
      '-u',
      'capture-pane',
      ...T,
      '-p',
      '-S',
      lines > 0 && lines <= MAX_HISTORY_LINES ? `-${Math.floor(lines)}` : '-',
    ],
    setEnv: (key: string, value: string): string[] => [tmux, '-u', 'set-environment', ...T, '--', tmuxLiteral(key), tmuxLiteral(value)],
    showEnv: (key: string): string[] => [tmux, '-u', 'show-environment', ...T, '--', tmuxLiteral(key)],
    unsetEnv: (key: string): string[] => [tmux, '-u', 'set-environment', ...T, '-u', '--', tmuxLiteral(key)],
    lastActivity: (): string[] => [tmux, '-u', 'display-message', ...T, '-p', '#{session_activity}'],
    /** "1" once the pane's process exited (our pods keep the pane with remain-on-exit) */
    paneDead: (): string[] => [tmux, '-u', 'display-message', ...T, '-p', '#{pane_dead}'],
    isAttached: (): string[] => [tmux, '-u', 'display-message', ...T, '-p', '#{session_attached}'],
    clearHistory: (): string[] => [tmux, '-u', 'clear-history', ...T],
    killServer: (): string[] => [tmux, '-u', 'kill-server'],
    attach: (): string[] => [tmux, '-u', 'attach', ...T],
  };
}

/** Our sessions: tmux session `main`. */
export const tmuxArgs = tmuxFor(TMUX_SESSION);

/**
 * What `peek N` answers: the last N lines the agent printed, counted from its last non-blank
 * line. tmux's capture ends with the empty rows below the cursor (a fresh 50-row pane is mostly
 * blank); those are not output, so they are dropped before counting. n <= 0: everything.
 */
export function lastLines(capture: string, n: number): string {
  const lines = capture.split('\n');
  while (lines.length > 0 && (lines[lines.length - 1] ?? '').trim() === '') lines.pop();
  const kept = n > 0 && lines.length > n ? lines.slice(lines.length - n) : lines;
  return kept.length === 0 ? '' : `${kept.join('\n')}\n`;
}

/**
 * Parses `tmux show-environment -t main KEY` output: "KEY=value\n" when set, "-KEY\n" when
 * removed. Values may themselves contain '=' and newlines; only the final newline is tmux's.
 */
export function parseShowEnvironment(key: string, stdout: string): string {
  const text = stdout.endsWith('\n') ? stdout.slice(0, -1) : stdout;
  if (text === `-${key}` || !text.startsWith(`${key}=`)) return '';
  return text.slice(key.length + 1);
}

/** Converts tmux's `#{session_activity}` (unix seconds) to RFC 3339, or '' when unparsable. */
export function parseActivity(stdout: string): string {
  const seconds = Number.parseInt(stdout.trim(), 10);
  if (!Number.isFinite(seconds) || seconds <= 0) return '';
  return new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Keys tmux can store and show back unambiguously. */
export function validateMetaKey(key: string): string | undefined {
  if (key === '') return 'meta key is empty';
  if (key.includes('=')) return `meta key ${quote(key)} contains '='`;
  if (key.startsWith('-')) return `meta key ${quote(key)} starts with '-'`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\s]/.test(key)) return `meta key ${quote(key)} contains whitespace or control characters`;
  return undefined;
}
