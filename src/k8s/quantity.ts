// Kubernetes resource quantities as numbers, for the metrics API's usage figures ("1234567n",
// "250m", "2" CPU; "123456Ki", "1Gi", "5e3" bytes). An unparsable quantity is NaN: usage is
// shown, never trusted for a decision.

const DECIMAL: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };
const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };

/** The quantity's value in its base unit (cores, bytes). */
export function quantityValue(q: string): number {
  const m = /^([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]?)$/.exec(q.trim());
  if (m === null) return Number.NaN;
  const n = Number(m[1]);
  const suffix = m[2] ?? '';
  return n * (BINARY[suffix] ?? DECIMAL[suffix] ?? Number.NaN);
}
