import { describe, expect, it } from 'vitest';
import { podNameFor, sessionLabelValue, upstreamLabelValue, upstreamPodName, validateSessionName } from '../../../src/session/names.js';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

describe('upstream sanitizers (Gas City name_test.go vectors)', () => {
  it.each([
    ['gc-bright-mayor', 'gc-bright-mayor'],
    ['UPPER-CASE', 'upper-case'],
    ['has spaces', 'has-spaces'],
    ['has/slashes/in/path', 'has-slashes-in-path'],
    ['under_scores', 'under-scores'],
    ['dots.are.replaced', 'dots-are-replaced'],
    ['--leading-dashes', 'leading-dashes'],
    ['trailing-dashes--', 'trailing-dashes'],
    ['', ''],
    ['///', 'unknown'],
  ])('SanitizeName(%j) = %j', (input, expected) => {
    expect(upstreamPodName(input)).toBe(expected);
  });

  it('truncates to 63 characters', () => {
    const long = 'abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz01234567';
    expect(upstreamPodName(long)).toBe(long.slice(0, 63));
  });

  it.each([
    ['gc-bright-mayor', 'gc-bright-mayor'],
    ['UPPER-Preserved', 'UPPER-Preserved'],
    ['has/slashes', 'has-slashes'],
    ['under_scores_ok', 'under_scores_ok'],
    ['dots.ok', 'dots.ok'],
    ['--leading', 'leading'],
    ['trailing--', 'trailing'],
    ['', 'unknown'],
    ['ünïcödé', 'n-c-d'],
  ])('SanitizeLabel(%j) = %j (ASCII rules)', (input, expected) => {
    expect(upstreamLabelValue(input)).toBe(expected);
  });
});

describe('podNameFor', () => {
  it('keeps names that are already valid pod names, exactly as upstream does', () => {
    expect(podNameFor('gc-bright-mayor')).toBe('gc-bright-mayor');
    expect(podNameFor('city-coder-1')).toBe('city-coder-1');
  });

  it('adds a hash when sanitizing loses information, so different names never share a pod', () => {
    const names = ['a/b-c', 'a-b/c', 'a.b-c', 'A-b-c', 'a-b-c', 'Mayor', 'mayor', 'rig/coder', 'rig.coder', 'ñ', 'ü', '///', '---'];
    const pods = names.map(podNameFor);
    expect(new Set(pods).size).toBe(names.length);
    expect(podNameFor('a/b-c')).toMatch(/^a-b-c-[0-9a-f]{8}$/);
  });

  it("a session named like another session's hashed pod gets its own pod name (it could not start before)", () => {
    const hashed = podNameFor('a/b');
    expect(hashed).toMatch(/^a-b-[0-9a-f]{8}$/);
    const lookalike = podNameFor(hashed); // the session literally named "a-b-<hash>"
    expect(lookalike).not.toBe(hashed);
    expect(lookalike).toMatch(new RegExp(`^${hashed}-[0-9a-f]{8}$`));
    expect(podNameFor(lookalike)).not.toBe(lookalike); // and so on: the two spaces never meet
    expect(podNameFor('city-coder-1')).toBe('city-coder-1'); // names without a hash-like tail stay upstream's
    // a date is 8 hex digits too: such names differ from upstream's pod name (lookups use the
    // gc-session-name annotation, so a pod of either provider is still found)
    expect(podNameFor('release-20261202')).toMatch(/^release-20261202-[0-9a-f]{8}$/);
  });

  it("the gc-k8s.io/session label tells apart sessions that share upstream's gc-session label", () => {
    expect(upstreamLabelValue('a/b')).toBe(upstreamLabelValue('a-b'));
    expect(sessionLabelValue('a/b')).not.toBe(sessionLabelValue('a-b'));
    expect(sessionLabelValue('a/b')).toMatch(/^[0-9a-f]{16}$/);
  });

  it('always yields a valid DNS label of at most 63 characters', () => {
    const names = [
      'x'.repeat(200),
      `${'Ü'.repeat(70)}/${'é'.repeat(70)}`,
      'a'.repeat(63) + '.',
      'emoji-🙂-name',
      '  spaced  ',
      '-',
      'UPPER',
      'a'.repeat(64),
    ];
    for (const n of names) {
      const pod = podNameFor(n);
      expect(pod.length).toBeLessThanOrEqual(63);
      expect(pod).toMatch(DNS_LABEL);
    }
    expect(podNameFor('a'.repeat(64))).not.toBe(podNameFor('a'.repeat(65)));
  });

  it('label values are always valid Kubernetes label values', () => {
    for (const n of ['x'.repeat(200), 'ünï/cöd', '..a..', '-_-', 'a b c']) {
      const v = upstreamLabelValue(n);
      expect(v.length).toBeLessThanOrEqual(63);
      expect(v).toMatch(LABEL_VALUE);
    }
  });
});

describe('validateSessionName', () => {
  it('accepts printable names including slashes, dots, unicode and 200 characters', () => {
    expect(validateSessionName('rig/coder.v2')).toBeUndefined();
    expect(validateSessionName('ünïcödé-🙂')).toBeUndefined();
    expect(validateSessionName('n'.repeat(200))).toBeUndefined();
  });
  it('rejects empty names and control characters', () => {
    expect(validateSessionName('')).toMatch(/empty/);
    expect(validateSessionName('a\nb')).toMatch(/control/);
  });
});
