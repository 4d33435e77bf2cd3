// UTC offsets of IANA time zones, looked up with plain arithmetic.
//
// luxon (through Intl) answers "what is the offset at instant t", but at a few
// microseconds per call; the crontab engine asks several times per next-run
// computation. So each zone keeps a table of its transitions, filled lazily in
// 16-day buckets from luxon's answers, and later lookups are a Map hit and a
// comparison or two.

import { IANAZone } from 'luxon';

const SECOND_MS = 1_000;
const DAY_MS = 86_400_000;
const BUCKET_DAYS = 16;
const BUCKET_MS = BUCKET_DAYS * DAY_MS;

/** Offsets within one bucket: `offsets[i]` holds from `starts[i]` (ms) on. */
interface Bucket {
  readonly starts: number[];
  readonly offsets: number[];
}

/** One IANA zone's offsets, cached. Obtain instances with {@link zoneOffsets}. */
export class ZoneOffsets {
  private readonly zone: IANAZone;
  private readonly buckets = new Map<number, Bucket>();
  // The last segment answered: most lookups land in it again.
  private segmentStart = 0;
  private segmentEnd = 0;
  private segmentOffset = 0;

  constructor(readonly name: string) {
    this.zone = IANAZone.create(name);
  }

  /** The zone's UTC offset (ms, local = utc + offset) at an instant (ms since epoch). */
  offsetAt(instantMs: number): number {
    if (instantMs >= this.segmentStart && instantMs < this.segmentEnd) return this.segmentOffset;
    const key = Math.floor(instantMs / BUCKET_MS);
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = this.buildBucket(key * BUCKET_MS);
      this.buckets.set(key, bucket);
    }
    const { starts, offsets } = bucket;
    let index = starts.length - 1;
    while (index > 0 && starts[index]! > instantMs) index--;
    this.segmentStart = starts[index]!;
    this.segmentEnd = index + 1 < starts.length ? starts[index + 1]! : (key + 1) * BUCKET_MS;
    this.segmentOffset = offsets[index]!;
    return this.segmentOffset;
  }

  /** luxon's answer in ms, rounded to whole seconds (old local mean times have seconds). */
  private exactOffset(instantMs: number): number {
    return Math.round(this.zone.offset(instantMs) * 60) * SECOND_MS;
  }

  // Samples each day of the bucket and bisects each change to the second. Zones
  // change their offset at most once in a day, so daily samples see every change.
  private buildBucket(start: number): Bucket {
    const starts = [start];
    const offsets = [this.exactOffset(start)];
    for (let day = 1; day <= BUCKET_DAYS; day++) {
      const sample = start + day * DAY_MS;
      const offset = day === BUCKET_DAYS ? this.exactOffset(sample - SECOND_MS) : this.exactOffset(sample);
      if (offset === offsets[offsets.length - 1]) continue;
      // The first second in (sample - 1 day, sample] with the new offset.
      let low = (sample - DAY_MS) / SECOND_MS;
      let high = (day === BUCKET_DAYS ? sample - SECOND_MS : sample) / SECOND_MS;
      while (high - low > 1) {
        const middle = Math.floor((low + high) / 2);
        if (this.exactOffset(middle * SECOND_MS) === offset) high = middle;
        else low = middle;
      }
      starts.push(high * SECOND_MS);
      offsets.push(offset);
    }
    return { starts, offsets };
  }
}

const zones = new Map<string, ZoneOffsets>();
/** Known zone names by their lower-case spelling, for the "did you mean" hint; built on first use. */
let canonicalNames: Map<string, string> | undefined;
/** zoneProblem's answer by name: luxon's check builds an Intl formatter each time (~30 µs). */
const verdicts = new Map<string, string | null>();

/**
 * Why a zone name is not usable, or null when it is. Names are case-sensitive,
 * as in Python's zoneinfo: "america/new_york" is refused with a hint.
 */
export function zoneProblem(name: string): string | null {
  // UTC, the default, is answered without ICU: its first time-zone formatter costs ~50 ms of start-up.
  if (name === 'UTC') return null;
  let verdict = verdicts.get(name);
  if (verdict === undefined) {
    verdict = checkZone(name);
    verdicts.set(name, verdict);
  }
  return verdict;
}

function checkZone(name: string): string | null {
  canonicalNames ??= new Map(Intl.supportedValuesOf('timeZone').map((known) => [known.toLowerCase(), known]));
  const canonical = canonicalNames.get(name.toLowerCase());
  if (canonical !== undefined && canonical !== name) return `is not a known time zone (did you mean "${canonical}"?)`;
  if (!IANAZone.isValidZone(name)) return 'is not a known time zone';
  if (name !== name.trim() || /^[a-z]/.test(name)) return 'is not a known time zone';
  return null;
}

/** The cached offset table of a zone; call {@link zoneProblem} first. */
export function zoneOffsets(name: string): ZoneOffsets {
  let zone = zones.get(name);
  if (!zone) {
    zone = new ZoneOffsets(name);
    zones.set(name, zone);
  }
  return zone;
}
