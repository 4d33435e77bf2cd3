// How each of django-celery-beat's solar events is found with astronomy-engine,
// matching Celery's ephem Observer (pressure 0, i.e. no refraction; elevation 0).

import { Body, SearchAltitude, SearchHourAngle, SearchRiseSet } from 'astronomy-engine';
import type { Observer } from 'astronomy-engine';
import type { SolarEvent } from '../types.js';

/** How an event is searched for. */
type EventSearch =
  /** The sun's upper limb crossing −0°34′ (ephem horizon '-0:34', use_center False). */
  | { method: 'upperLimb'; direction: 1 | -1 }
  /** The sun's centre crossing `altitude` degrees (ephem use_center True). */
  | { method: 'centre'; direction: 1 | -1; altitude: number }
  /** Upper culmination: hour angle 0 (ephem next_transit). */
  | { method: 'transit' };

/** The nine events, in the order of the day. */
export const SOLAR_EVENT_SEARCHES: Readonly<Record<SolarEvent, EventSearch>> = {
  dawn_astronomical: { method: 'centre', direction: 1, altitude: -18 },
  dawn_nautical: { method: 'centre', direction: 1, altitude: -12 },
  dawn_civil: { method: 'centre', direction: 1, altitude: -6 },
  sunrise: { method: 'upperLimb', direction: 1 },
  solar_noon: { method: 'transit' },
  sunset: { method: 'upperLimb', direction: -1 },
  dusk_civil: { method: 'centre', direction: -1, altitude: -6 },
  dusk_nautical: { method: 'centre', direction: -1, altitude: -12 },
  // Celery 5.2 has +18 here (a bug, mended upstream in 5.6.3); docs/DESIGN.md §4 says −18.
  dusk_astronomical: { method: 'centre', direction: -1, altitude: -18 },
};

/**
 * The first occurrence of `event` at or after `from` within `limitDays` days,
 * or null when it does not happen in that window (polar day or night).
 */
export function searchSolarEvent(event: SolarEvent, observer: Observer, from: Date, limitDays: number): Date | null {
  const search = SOLAR_EVENT_SEARCHES[event];
  switch (search.method) {
    case 'upperLimb':
      // SearchRiseSet puts the upper limb at −34′ of refraction below the
      // unrefracted horizon (at elevation 0, dip 0): exactly ephem's '-0:34'
      // with pressure 0 and use_center False.
      return SearchRiseSet(Body.Sun, observer, search.direction, from, limitDays)?.date ?? null;
    case 'centre':
      return SearchAltitude(Body.Sun, observer, search.direction, from, limitDays, search.altitude)?.date ?? null;
    case 'transit':
      // The sun culminates every day, at any latitude.
      return SearchHourAngle(Body.Sun, observer, 0, from, 1).time.date;
  }
}

const HOUR_MS = 3_600_000;
/** Two answers further apart than this are different events, not two estimates of one. */
const SAME_ESTIMATE_MS = 1_000;

/**
 * The time of the event found at `found`, computed again from a start that
 * depends only on the hour it falls in. The search's answer depends on where
 * it started (by some milliseconds), and run times feed deterministic task
 * ids, so every caller that lands on one event must get the same instant.
 */
export function canonicalEventTime(event: SolarEvent, observer: Observer, found: Date): Date {
  const anchor = new Date(Math.floor(found.getTime() / HOUR_MS) * HOUR_MS - HOUR_MS);
  const again = searchSolarEvent(event, observer, anchor, 1);
  // Near the poles the sun can wobble across an altitude twice within hours;
  // if the anchored search lands on another crossing, keep the first answer.
  if (again === null || Math.abs(again.getTime() - found.getTime()) > SAME_ESTIMATE_MS) return found;
  return again;
}
