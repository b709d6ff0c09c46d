import { describe, expect, it } from 'vitest';
import { quantityValue } from '../../../src/k8s/quantity.js';

describe('quantityValue (the metrics API usage figures)', () => {
  it('reads CPU in nanocores, millicores and cores, and memory in binary and decimal units', () => {
    expect(quantityValue('1234567n')).toBeCloseTo(0.001234567, 12);
    expect(quantityValue('250m')).toBe(0.25);
    expect(quantityValue('2')).toBe(2);
    expect(quantityValue('1.5')).toBe(1.5);
    expect(quantityValue('12345Ki')).toBe(12345 * 1024);
    expect(quantityValue('1Gi')).toBe(2 ** 30);
    expect(quantityValue('5e3')).toBe(5000);
    expect(quantityValue('3M')).toBe(3e6);
  });

  it('anything else is NaN, not a guess', () => {
    for (const q of ['', 'abc', '1Xi', '1 Gi', '--1', 'Ki']) expect(quantityValue(q), q).toBeNaN();
  });
});
