// Solar schedules: the next sunrise, sunset, noon or twilight at a place,
// as Celery's `solar` schedule computes it with ephem.

import { Observer } from 'astronomy-engine';
import { ScheduleError } from './errors.js';
import { SOLAR_EVENT_SEARCHES, canonicalEventTime, searchSolarEvent } from './solar/events.js';
import type { Schedule, SolarEvent } from './types.js';

/** Events closer than this to `after` count as the run that happened at `after` (search precision is ~0.1 s). */
const SAME_EVENT_TOLERANCE_MS = 1_000;
/** Step past an event that counts as already run before searching again. */
const STEP_PAST_EVENT_MS = 60_000;
/**
 * How far ahead to look. Every event happens at least once a year at every
 * latitude (even at the poles the sun swings between −23.4° and +23.4°), so a
 * year and a bit is enough; past it we answer null rather than search forever.
 */
const SEARCH_LIMIT_DAYS = 370;

/** django-celery-beat's SolarSchedule.event values, dawn to dusk. */
export const SOLAR_EVENT_NAMES: readonly SolarEvent[] = Object.keys(SOLAR_EVENT_SEARCHES) as SolarEvent[];

function isSolarEvent(value: unknown): value is SolarEvent {
  return typeof value === 'string' && Object.hasOwn(SOLAR_EVENT_SEARCHES, value);
}

function checkCoordinate(field: string, value: unknown, limit: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < -limit || value > limit) {
    throw new ScheduleError(field, value, `must be a number from ${-limit} to ${limit}`);
  }
  return value;
}

/** The first event strictly after `afterMs`, skipping one within the tolerance of it. */
function searchNextEvent(event: SolarEvent, observer: Observer, afterMs: number): Date | null {
  // An event within the tolerance of `after` is the run made at `after`,
  // so the search starts past it.
  let from = new Date(afterMs + SAME_EVENT_TOLERANCE_MS);
  for (;;) {
    const found = searchOrExplain(event, observer, from);
    if (found === null) return null;
    // The search can land a fraction of a second early, on the event just passed.
    if (found.getTime() > afterMs + SAME_EVENT_TOLERANCE_MS) return canonicalEventTime(event, observer, found);
    from = new Date(found.getTime() + STEP_PAST_EVENT_MS);
  }
}

/** astronomy-engine throws bare strings; give them a stack and say which schedule failed. */
function searchOrExplain(event: SolarEvent, observer: Observer, from: Date): Date | null {
  try {
    return searchSolarEvent(event, observer, from, SEARCH_LIMIT_DAYS);
  } catch (error) {
    if (error instanceof Error) throw error;
    const where = `${observer.latitude}, ${observer.longitude}`;
    throw new Error(`solar ${event} at ${where} after ${from.toISOString()}: ${String(error)}`, { cause: error });
  }
}

/**
 * A schedule that runs at a solar event at the given coordinates.
 *
 * `nextAfter(after)` is the first occurrence of the event strictly after
 * `after`; where the event does not happen on a day (polar day or night) it is
 * the next day on which it does, and null if it does not happen within a year.
 * An event within a second of `after` counts as the run made at `after`.
 *
 * @throws ScheduleError naming `solar.event`, `solar.latitude` or `solar.longitude`.
 */
export function createSolarSchedule(spec: { event: string; latitude: number; longitude: number }): Schedule {
  const { event } = spec;
  if (!isSolarEvent(event)) {
    throw new ScheduleError(
      'solar.event',
      event,
      `is not a solar event; expected one of ${SOLAR_EVENT_NAMES.join(', ')}`,
    );
  }
  const latitude = checkCoordinate('solar.latitude', spec.latitude, 90);
  const longitude = checkCoordinate('solar.longitude', spec.longitude, 180);
  const observer = new Observer(latitude, longitude, 0);

  // The last answer: many tasks share one solar row and ran at about the same
  // time, so beat asks the same question over and over. Every `after` from
  // `lastAfterMs` up to just before the answer has that same answer.
  let lastAfterMs = Number.NaN;
  let lastAnswerMs = Number.NaN;

  return {
    kind: 'solar',
    nextAfter(after: Date): Date | null {
      const afterMs = after.getTime();
      if (!Number.isFinite(afterMs))
        throw new RangeError(`solar ${event}: nextAfter needs a valid date, got ${String(after)}`);
      if (afterMs >= lastAfterMs && afterMs + 2 * SAME_EVENT_TOLERANCE_MS < lastAnswerMs) return new Date(lastAnswerMs);
      const answer = searchNextEvent(event, observer, afterMs);
      if (answer !== null) {
        lastAfterMs = afterMs;
        lastAnswerMs = answer.getTime();
      }
      return answer;
    },
    describe(): string {
      return `solar ${event} at ${latitude}, ${longitude}`;
    },
  };
}
