// The required arguments the op tables name (which both clients check before starting or asking the
// daemon) are exactly the ones the daemon's handlers need, with the same "<op>: missing <what>" text.
import { describe, expect, it } from 'vitest';
import { BEADS_HANDLERS } from '../../../src/daemon/handlers/beads.js';
import { EVENTS_HANDLERS } from '../../../src/daemon/handlers/events.js';
import type { OpHandler } from '../../../src/daemon/handlers/op.js';
import { SESSION_HANDLERS } from '../../../src/daemon/handlers/session.js';
import { PROTOCOL_VERSION, type Provider, type Request } from '../../../src/protocol/messages.js';
import { argumentProblem, OPS } from '../../../src/protocol/ops/index.js';

const HANDLERS: Partial<Record<Provider, Readonly<Record<string, OpHandler>>>> = {
  session: SESSION_HANDLERS,
  events: EVENTS_HANDLERS,
  beads: BEADS_HANDLERS,
};

/** The "missing …" names the handler asks for, found by giving it one more argument each time. */
function neededByHandler(provider: Provider, op: string, handler: OpHandler): string[] {
  const names: string[] = [];
  for (let n = 0; n < 6; n++) {
    const request: Request = {
      v: PROTOCOL_VERSION,
      provider,
      op,
      args: Array.from({ length: n }, () => 'a1'),
      env: {},
      cwd: '/',
      stdin: '{}',
    };
    let message = '';
    try {
      handler.check(request);
    } catch (err) {
      message = err instanceof Error ? err.message : String(err);
    }
    const missing = message.startsWith(`${op}: missing `) ? message.slice(`${op}: missing `.length) : undefined;
    if (missing === undefined) return names;
    names.push(missing);
  }
  return names;
}

describe('required arguments', () => {
  for (const [provider, handlers] of Object.entries(HANDLERS) as [Provider, Readonly<Record<string, OpHandler>>][]) {
    it(`${provider}: each op's table entry names what its handler needs`, () => {
      const found = Object.fromEntries(Object.entries(handlers).map(([op, h]) => [op, neededByHandler(provider, op, h)]));
      const declared = Object.fromEntries(Object.entries(OPS[provider]).map(([op, spec]) => [op, [...(spec.args ?? [])]]));
      expect(declared).toEqual(found);
    });
  }

  it('argumentProblem answers like the handler, and nothing for a complete call or an unknown op', () => {
    expect(argumentProblem('session', 'set-meta', ['s1'])).toBe('set-meta: missing meta key');
    expect(argumentProblem('session', 'set-meta', ['', 'k'])).toBe('set-meta: missing session name');
    expect(argumentProblem('session', 'set-meta', ['s1', 'k'])).toBeUndefined();
    expect(argumentProblem('beads', 'update', [])).toBe('update: missing bead id');
    expect(argumentProblem('events', 'watch', ['abc'])).toBe('watch: afterSeq must be a non-negative integer, got "abc"');
    expect(argumentProblem('events', 'watch', [])).toBeUndefined();
    expect(argumentProblem('session', 'no-such-op', [])).toBeUndefined();
  });
});
