// Daylight saving time: which instants a local wall-clock minute stands for.
//
// dbbeat follows Vixie cron's rules (docs/DESIGN.md §4), not Celery's arithmetic:
// - a wall time in a spring-forward gap is shifted forward by the gap's length
//   (02:30 becomes 03:30), i.e. it is read with the offset before the change;
// - a wall time that occurs twice (fall back) stands for its first pass, and
//   also for its second pass when the job's hour field starts with `*`.

import type { ZoneOffsets } from '../zone.js';
import { DAY_MS } from './civil.js';

/** How a wall time maps to instants. */
export type WallKind = 'normal' | 'gap' | 'repeated';

/** The instants of one wall-clock time in a zone. */
export interface WallInstants {
  kind: WallKind;
  /** The instant of a normal time, the first pass of a repeated one, or the shifted instant of a gap. */
  first: number;
  /** The second pass of a repeated time; equals `first` otherwise. */
  second: number;
  /** The largest offset in force around this wall time: no instant of it is below `wall - maxOffset`. */
  maxOffset: number;
  /** True when the offset is the same a day before and a day after (no change nearby). */
  settled: boolean;
}

/**
 * Resolves a wall time (local clock reading as UTC ms) to instants. Assumes a
 * zone changes its offset at most once within about ten hours either side,
 * which holds for every zone in tzdata's modern history.
 */
export function resolveWallTime(zone: ZoneOffsets, wallMs: number): WallInstants {
  // Offsets never exceed ±14 h, so these instants lie before and after the wall time's own.
  const offsetBefore = zone.offsetAt(wallMs - DAY_MS);
  const offsetAfter = zone.offsetAt(wallMs + DAY_MS);
  if (offsetBefore === offsetAfter) {
    const guess = wallMs - offsetBefore;
    const offset = zone.offsetAt(guess);
    const instant = offset === offsetBefore ? guess : wallMs - offset;
    return {
      kind: 'normal',
      first: instant,
      second: instant,
      maxOffset: offsetBefore,
      settled: offset === offsetBefore,
    };
  }
  const maxOffset = Math.max(offsetBefore, offsetAfter);
  const readBefore = wallMs - offsetBefore;
  const readAfter = wallMs - offsetAfter;
  const beforeHolds = zone.offsetAt(readBefore) === offsetBefore;
  const afterHolds = zone.offsetAt(readAfter) === offsetAfter;
  if (beforeHolds && afterHolds) {
    // Fall back: the earlier reading is the first pass.
    const [first, second] = readBefore < readAfter ? [readBefore, readAfter] : [readAfter, readBefore];
    return { kind: 'repeated', first, second, maxOffset, settled: false };
  }
  if (!beforeHolds && !afterHolds) {
    // Spring forward: read with the offset before the change, which shifts it by the gap.
    return { kind: 'gap', first: readBefore, second: readBefore, maxOffset, settled: false };
  }
  const instant = beforeHolds ? readBefore : readAfter;
  return { kind: 'normal', first: instant, second: instant, maxOffset, settled: false };
}
