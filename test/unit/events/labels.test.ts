import { describe, expect, it } from 'vitest';
import { eventLabelValue, isValidLabelValue } from '../../../src/events/labels.js';

describe('eventLabelValue', () => {
  it('keeps values that are already valid labels (upstream-compatible selectors)', () => {
    for (const v of ['session.woke', 'bead.created', 'gc-bright-mayor', 'under_scores', 'A1', 'x', '']) expect(eventLabelValue(v)).toBe(v);
  });

  it('always yields a valid label value', () => {
    const inputs = [
      'human:',
      'a/b',
      '--lead',
      'trail--',
      '日本語',
      '🙂',
      ':::',
      'x'.repeat(64),
      'rig/' + 'agent'.repeat(30),
      ' spaced out ',
    ];
    for (const v of inputs) {
      const label = eventLabelValue(v);
      expect(isValidLabelValue(label), `${v} -> ${label}`).toBe(true);
      expect(label).not.toBe(v);
    }
  });

  it('never maps distinct values to one label where upstream collided', () => {
    const groups = [
      ['a/b', 'a:b', 'a_b'],
      ['x'.repeat(63) + '1', 'x'.repeat(63) + '2'],
      ['human:', 'human;'],
    ];
    for (const group of groups) expect(new Set(group.map(eventLabelValue)).size).toBe(group.length);
  });

  it('keeps a readable prefix', () => {
    expect(eventLabelValue('rig/mayor')).toMatch(/^rig_mayor-[0-9a-f]{10}$/);
    expect(eventLabelValue('human:')).toMatch(/^human-[0-9a-f]{10}$/);
    expect(eventLabelValue(':::')).toMatch(/^[0-9a-f]{10}$/);
  });
});
