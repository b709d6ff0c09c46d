// Pure tmux argv builders. Every tmux call the daemon makes is one of these arrays, executed with
// exec (no shell) so session data never passes through a shell parser.

export const TMUX_SESSION = 'main';
const T = ['-t', TMUX_SESSION] as const;
// -u: the exec'd client must not assume an ASCII locale (containers often have no LANG), or
// tmux prints non-ASCII and control characters of panes and variables as '_'.
const tmux = 'tmux';

export const tmuxArgs = {
  hasSession: (): string[] => [tmux, '-u', 'has-session', ...T],
  interrupt: (): string[] => [tmux, '-u', 'send-keys', ...T, 'C-c'],
  sendKeys: (keys: readonly string[]): string[] => [tmux, '-u', 'send-keys', ...T, ...keys],
  enter: (): string[] => [tmux, '-u', 'send-keys', ...T, 'Enter'],
  /**
   * Types stdin into the pane literally: one tmux client runs load-buffer from stdin, then
   * pastes (bracketed when the app asked for it, -p) and deletes the buffer. tmux waits for the
   * load before it pastes; `;` is tmux's own command separator, not a shell's.
   */
  paste: (buffer: string): string[] => [tmux, '-u', 'load-buffer', '-b', buffer, '-', ';', 'paste-buffer', '-p', '-d', '-b', buffer, ...T],
  /** lines <= 0: the whole scrollback */
  capturePane: (lines: number): string[] => [
    tmux,
    '-u',
    'capture-pane',
    ...T,
    '-p',
    '-S',
    lines > 0 ? `-${Math.floor(lines)}` : '-',
  ],
  setEnv: (key: string, value: string): string[] => [tmux, '-u', 'set-environment', ...T, key, value],
  showEnv: (key: string): string[] => [tmux, '-u', 'show-environment', ...T, key],
  unsetEnv: (key: string): string[] => [tmux, '-u', 'set-environment', ...T, '-u', key],
  lastActivity: (): string[] => [tmux, '-u', 'display-message', ...T, '-p', '#{session_activity}'],
  /** "1" once the pane's process exited (our pods keep the pane with remain-on-exit) */
  paneDead: (): string[] => [tmux, '-u', 'display-message', ...T, '-p', '#{pane_dead}'],
  isAttached: (): string[] => [tmux, '-u', 'display-message', ...T, '-p', '#{session_attached}'],
  clearHistory: (): string[] => [tmux, '-u', 'clear-history', ...T],
  attach: (): string[] => [tmux, '-u', 'attach', ...T],
};

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
  if (key.includes('=')) return `meta key ${JSON.stringify(key)} contains '='`;
  if (key.startsWith('-')) return `meta key ${JSON.stringify(key)} starts with '-'`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\s]/.test(key)) return `meta key ${JSON.stringify(key)} contains whitespace or control characters`;
  return undefined;
}
