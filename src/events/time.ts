// RFC 3339 timestamps the way Go's encoding/json reads and writes time.Time (RFC3339Nano).
// Upstream compared timestamps as strings, which breaks on fractional seconds and offsets
// ("…:00.5Z" < "…:00Z" as text). We parse to an exact (seconds, nanoseconds) instant instead,
// with integer calendar maths so year 1 (Go's zero time) and far-future years work too.

/** An exact instant: whole seconds since the Unix epoch (may be negative) plus 0 ≤ nanos < 1e9. */
export interface Instant {
  readonly sec: number;
  readonly nanos: number;
}

/** Go's zero time.Time as encoding/json writes it; means "no timestamp". */
export const ZERO_TIME = '0001-01-01T00:00:00Z';

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/;

/** Parses strict RFC 3339 (as Go's time.Time.UnmarshalJSON accepts it); undefined when invalid. */
export function parseRfc3339(text: string): Instant | undefined {
  const m = RFC3339.exec(text);
  if (m === null) return undefined;
  const [, ys, mos, ds, hs, mis, ss, frac, zone] = m as unknown as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string | undefined,
    string,
  ];
  const year = Number(ys);
  const month = Number(mos);
  const day = Number(ds);
  const hour = Number(hs);
  const minute = Number(mis);
  const second = Number(ss);
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return undefined;
  const days = daysFromCivil(year, month, day);
  const [cy, cm, cd] = civilFromDays(days);
  if (cy !== year || cm !== month || cd !== day) return undefined; // e.g. Feb 30
  let offset = 0;
  if (zone !== 'Z') {
    const oh = Number(zone.slice(1, 3));
    const om = Number(zone.slice(4, 6));
    if (oh > 23 || om > 59) return undefined;
    offset = (zone.startsWith('-') ? -1 : 1) * (oh * 3600 + om * 60);
  }
  // Go keeps at most nanosecond precision and truncates extra digits.
  const nanos = frac === undefined ? 0 : Number(frac.slice(0, 9).padEnd(9, '0'));
  return { sec: days * 86400 + hour * 3600 + minute * 60 + second - offset, nanos };
}

export const ZERO_INSTANT: Instant = parseRfc3339(ZERO_TIME) as Instant;

export function compareInstants(a: Instant, b: Instant): number {
  return a.sec !== b.sec ? a.sec - b.sec : a.nanos - b.nanos;
}

export function isZeroInstant(i: Instant): boolean {
  return compareInstants(i, ZERO_INSTANT) === 0;
}

/** Milliseconds since the epoch (for age arithmetic; sub-millisecond digits dropped). */
export function instantToMs(i: Instant): number {
  return i.sec * 1000 + Math.floor(i.nanos / 1e6);
}

/** Formats nanoseconds since the epoch as Go's RFC3339Nano in UTC: trailing zeros of the fraction trimmed. */
export function formatRfc3339Nano(epochNanos: bigint): string {
  let sec = epochNanos / 1_000_000_000n;
  let nanos = epochNanos % 1_000_000_000n;
  if (nanos < 0n) {
    nanos += 1_000_000_000n;
    sec -= 1n;
  }
  const s = Number(sec);
  const days = Math.floor(s / 86400);
  const rem = s - days * 86400;
  const [y, mo, d] = civilFromDays(days);
  const frac = nanos === 0n ? '' : '.' + nanos.toString().padStart(9, '0').replace(/0+$/, '');
  return `${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)}T${pad(Math.floor(rem / 3600), 2)}:${pad(Math.floor(rem / 60) % 60, 2)}:${pad(rem % 60, 2)}${frac}Z`;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

// Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian, exact integers).
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = (month + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function civilFromDays(days: number): [number, number, number] {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 400 + (m <= 2 ? 1 : 0), m, d];
}
