import { describe, expect, it } from 'vitest';
import { lastLines, parseActivity, parseShowEnvironment, tmuxArgs, tmuxLiteral, validateMetaKey } from '../../../src/session/tmux/args.js';

describe('tmux argv (parity with Gas City provider_test.go)', () => {
  it('targets session main with the upstream commands', () => {
    expect(tmuxArgs.hasSession()).toEqual(['tmux', '-u', 'has-session', '-t', 'main']);
    expect(tmuxArgs.interrupt()).toEqual(['tmux', '-u', 'send-keys', '-t', 'main', 'C-c']);
    expect(tmuxArgs.capturePane(10)).toEqual(['tmux', '-u', 'capture-pane', '-t', 'main', '-p', '-S', '-10']);
    expect(tmuxArgs.capturePane(0)).toEqual(['tmux', '-u', 'capture-pane', '-t', 'main', '-p', '-S', '-']);
    expect(tmuxArgs.setEnv('K', 'v=1\nx')).toEqual(['tmux', '-u', 'set-environment', '-t', 'main', '--', 'K', 'v=1\nx']);
    expect(tmuxArgs.unsetEnv('K')).toEqual(['tmux', '-u', 'set-environment', '-t', 'main', '-u', '--', 'K']);
    expect(tmuxArgs.lastActivity()).toEqual(['tmux', '-u', 'display-message', '-t', 'main', '-p', '#{session_activity}']);
    expect(tmuxArgs.paneDead()).toEqual(['tmux', '-u', 'display-message', '-t', 'main', '-p', '#{pane_dead}']);
    expect(tmuxArgs.sendKeys(['Escape', 'Enter'])).toEqual(['tmux', '-u', 'send-keys', '-t', 'main', '--', 'Escape', 'Enter']);
  });

  it('user data stays one tmux argument: a trailing ; is escaped, options end before the data', () => {
    expect(tmuxLiteral(';')).toBe('\\;');
    expect(tmuxLiteral('abc;')).toBe('abc\\;');
    expect(tmuxLiteral('abc\\;')).toBe('abc\\\\;'); // tmux removes exactly one backslash: abc\; stays abc\;
    expect(tmuxLiteral('a;b')).toBe('a;b'); // only a trailing ; separates
    expect(tmuxArgs.sendKeys(['s', 'Enter', ';', 'run-shell', 'touch /tmp/x'])).toEqual([
      'tmux',
      '-u',
      'send-keys',
      '-t',
      'main',
      '--',
      's',
      'Enter',
      '\\;',
      'run-shell',
      'touch /tmp/x',
    ]);
    expect(tmuxArgs.sendKeys(['-X', 'cancel'])).toEqual(['tmux', '-u', 'send-keys', '-t', 'main', '--', '-X', 'cancel']);
    expect(tmuxArgs.setEnv('K;', 'v;')).toEqual(['tmux', '-u', 'set-environment', '-t', 'main', '--', 'K\\;', 'v\\;']);
    expect(tmuxArgs.showEnv('K;')).toEqual(['tmux', '-u', 'show-environment', '-t', 'main', '--', 'K\\;']);
  });

  it('asks for the whole scrollback when N is beyond any history (no number tmux cannot parse)', () => {
    expect(tmuxArgs.capturePane(10_000_000)).toEqual(['tmux', '-u', 'capture-pane', '-t', 'main', '-p', '-S', '-10000000']);
    expect(tmuxArgs.capturePane(10_000_001)).toEqual(['tmux', '-u', 'capture-pane', '-t', 'main', '-p', '-S', '-']);
    expect(tmuxArgs.capturePane(1e21)).toEqual(['tmux', '-u', 'capture-pane', '-t', 'main', '-p', '-S', '-']);
  });

  it('peek N is the last N lines printed, counted from the last non-blank line', () => {
    const pane = `older\nline 1\n\nline 3\nprompt$ ${'\n'.repeat(45)}`;
    expect(lastLines(pane, 2)).toBe('line 3\nprompt$ \n');
    expect(lastLines(pane, 3)).toBe('\nline 3\nprompt$ \n'); // blank lines inside the output count
    expect(lastLines(pane, 0)).toBe('older\nline 1\n\nline 3\nprompt$ \n');
    expect(lastLines(pane, 1e9)).toBe(lastLines(pane, 0));
    expect(lastLines('\n\n   \n', 5)).toBe('');
    expect(lastLines('', 5)).toBe('');
  });

  it('parses show-environment output, values with = and newlines included', () => {
    expect(parseShowEnvironment('K', 'K=a=b\nc=d\n')).toBe('a=b\nc=d');
    expect(parseShowEnvironment('K', '-K\n')).toBe('');
    expect(parseShowEnvironment('K', 'K=\n')).toBe('');
  });

  it('converts session_activity seconds to RFC 3339', () => {
    expect(parseActivity('1700000000\n')).toBe('2023-11-14T22:13:20Z');
    expect(parseActivity('garbage')).toBe('');
  });

  it('rejects meta keys tmux cannot round-trip', () => {
    expect(validateMetaKey('GC_SESSION_ID')).toBeUndefined();
    expect(validateMetaKey('a=b')).toMatch(/=/);
    expect(validateMetaKey('')).toMatch(/empty/);
    expect(validateMetaKey('-u')).toMatch(/-/);
  });
});

describe('isTmuxMissing', () => {
  const r = (exitCode: number, stderr: string) => ({ exitCode, stdout: Buffer.alloc(0), stderr: Buffer.from(stderr) });
  it('treats a session that is not there, or just ending, as missing', async () => {
    const { isTmuxMissing } = await import('../../../src/session/tmux/classify.js');
    expect(isTmuxMissing(r(1, 'no server running on /tmp/tmux-1000/default'))).toBe(true);
    expect(isTmuxMissing(r(1, "can't find session: main"))).toBe(true);
    expect(isTmuxMissing(r(1, 'server exited unexpectedly'))).toBe(true);
    expect(isTmuxMissing(r(1, 'permission denied'))).toBe(false);
    expect(isTmuxMissing(r(0, 'no server running'))).toBe(false);
  });
});
