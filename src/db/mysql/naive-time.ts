// MySQL's DATETIME holds a wall time without a zone. django-celery-beat's times are UTC
// there when Django runs with USE_TZ = True, and wall time in TIME_ZONE with USE_TZ = False;
// a NaiveTimeZone turns such text into instants and back for one zone (--db-timezone).
import { IANAZone } from 'luxon';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** A zone name that luxon (the IANA database) does not know. */
export class UnknownTimeZoneError extends Error {
  constructor(readonly zone: string) {
    super(
      `unknown time zone "${zone}" for the database's times (--db-timezone / DBBEAT_DB_TIMEZONE); use an IANA name such as UTC or Asia/Shanghai`,
    );
    this.name = 'UnknownTimeZoneError';
  }
}

/**
 * The zone of a database's naive times.
 *
 * Reading a wall time that a fall-back transition repeats (01:30 on the night clocks go back
 * in America/New_York) gives its first occurrence, the one before the change, as Python's
 * zoneinfo does with fold=0. A wall time skipped by a spring-forward gap (02:30 that night)
 * is read with the offset before the gap, so it lands as far after the gap's start as it
 * was written (03:30), also as Python does.
 */
export class NaiveTimeZone {
  private readonly zone: IANAZone | null;

  /** @throws UnknownTimeZoneError for a name luxon does not know. */
  constructor(readonly name: string) {
    if (name === 'UTC' || name === 'Etc/UTC' || name === 'Z') {
      this.zone = null;
    } else {
      if (!IANAZone.isValidZone(name)) throw new UnknownTimeZoneError(name);
      this.zone = IANAZone.create(name);
    }
  }

  get isUtc(): boolean {
    return this.zone === null;
  }

  /**
   * Epoch ms of a DATETIME's text (`YYYY-MM-DD HH:MM:SS[.ffffff]`, as the driver returns it
   * with dateStrings). Microseconds are truncated to ms.
   * @throws Error naming the text when it is not such a time.
   */
  toEpochMs(text: string): number {
    const wall = naiveWallMs(text);
    if (Number.isNaN(wall)) throw new Error(`not a DATETIME: "${text}"`);
    if (this.zone === null) return wall;
    // The offsets in force a day either side cover every transition of this wall time.
    const before = this.zone.offset(wall - DAY_MS) * 60_000;
    const after = this.zone.offset(wall + DAY_MS) * 60_000;
    const candidates = before === after ? [wall - before] : [wall - before, wall - after].sort((a, b) => a - b);
    for (const instant of candidates) {
      if (instant + this.zone.offset(instant) * 60_000 === wall) return instant; // the first that shows this wall time
    }
    return wall - before; // in a gap: the offset before it
  }

  /** The DATETIME text (microsecond precision) of an instant in this zone. */
  fromEpochMs(ms: number): string {
    const wall = this.zone === null ? ms : ms + this.zone.offset(ms) * 60_000;
    const iso = new Date(wall).toISOString(); // 2026-11-30T14:41:57.862Z
    return `${iso.slice(0, 10)} ${iso.slice(11, 23)}000`;
  }
}

const ZERO = 48;
/** The digits of `text` from `start` to `end` as a number, or NaN if one is not 0-9. */
function digits(text: string, start: number, end: number): number {
  let value = 0;
  for (let i = start; i < end; i++) {
    const digit = text.charCodeAt(i) - ZERO;
    if (digit < 0 || digit > 9) return NaN;
    value = value * 10 + digit;
  }
  return value;
}

/**
 * `YYYY-MM-DD HH:MM:SS[.f…]` (a T for the space; 1 to 6 fraction digits) read as a UTC wall
 * time, in ms (microseconds truncated); NaN for any other text. Read character by
 * character: a load reads two per task, and a regular expression's match took most of that.
 */
function naiveWallMs(text: string): number {
  const length = text.length;
  if (length !== 19 && (length < 21 || length > 26)) return NaN;
  const separator = text.charCodeAt(10);
  if (
    text.charCodeAt(4) !== 45 || // -
    text.charCodeAt(7) !== 45 ||
    (separator !== 32 && separator !== 84) || // space or T
    text.charCodeAt(13) !== 58 || // :
    text.charCodeAt(16) !== 58 ||
    (length > 19 && text.charCodeAt(19) !== 46) // .
  )
    return NaN;
  const fraction = length > 19 ? digits(text, 20, length) : 0;
  // The fraction's first three digits, as if padded to six: milliseconds.
  const ms = length > 19 ? Math.floor((fraction * 10 ** (26 - length)) / 1000) : 0;
  return Date.UTC(
    digits(text, 0, 4),
    digits(text, 5, 7) - 1,
    digits(text, 8, 10),
    digits(text, 11, 13),
    digits(text, 14, 16),
    digits(text, 17, 19),
    ms,
  );
}
