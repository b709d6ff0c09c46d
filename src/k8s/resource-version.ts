// Ordering resourceVersions. The API treats them as opaque, but every store Kubernetes runs on
// (etcd, and kine over SQL) hands out increasing integers, and a list racing a live watch can
// only be told apart from a deletion by comparing them. Anything that is not a decimal integer
// is "not comparable", and callers fall back to treating the list as the truth.

/** -1, 0 or 1 when both are decimal integers (any length); undefined otherwise. */
export function compareResourceVersions(a: string, b: string): -1 | 0 | 1 | undefined {
  if (!/^\d+$/.test(a) || !/^\d+$/.test(b)) return undefined;
  const x = a.replace(/^0+(?=\d)/, '');
  const y = b.replace(/^0+(?=\d)/, '');
  if (x.length !== y.length) return x.length < y.length ? -1 : 1;
  return x === y ? 0 : x < y ? -1 : 1;
}

/** Whether `a` is certainly newer than `b`. */
export function newerThan(a: string, b: string): boolean {
  return compareResourceVersions(a, b) === 1;
}
