// Seeded random schedule cases for the differential fuzzer, in the conformance
// file's form: {"schedule": {...}, "after": "<ISO UTC>", "count": K}.

import { SOLAR_EVENT_NAMES } from '../../../src/schedules/solar.js';

import { crontabCase, oddCrontabCase } from './crontab-cases.js';
import { Random, awkwardInstant } from './random.js';

/** One question for both Celery and dbbeat. */
export interface FuzzCase {
  schedule: Record<string, Record<string, unknown>>;
  after: string;
  count: number;
}

function intervalCase(random: Random): FuzzCase {
  const period = random.pick(['microseconds', 'seconds', 'minutes', 'hours', 'days']);
  const every = random.pick([
    1,
    2,
    7,
    59,
    60,
    61,
    999,
    1000,
    1001,
    1500,
    86_400,
    999_999,
    random.int(1, 100),
    random.int(1, 100_000),
    random.int(1, 2_147_483_647),
  ]);
  // Rows django-celery-beat's model refuses but raw SQL can write: every < 1, other periods.
  const odd = random.chance(0.05);
  const interval = odd
    ? random.pick([
        { every: 0, period },
        { every: -5, period },
        { every: 2, period: 'weeks' },
        { every: 3, period: 'Seconds' },
      ])
    : { every, period };
  return { schedule: { interval }, after: awkwardInstant(random), count: random.int(1, 5) };
}

function solarCase(random: Random): FuzzCase {
  const polar = random.chance(0.35);
  const magnitude = polar ? 60 + random.next() * 30 : random.next() * 60;
  const latitude = Number(((random.chance(0.5) ? 1 : -1) * magnitude).toFixed(6));
  const longitude = Number((random.next() * 360 - 180).toFixed(6));
  const after = new Date(Date.UTC(random.int(2025, 2030), 0, 1) + random.next() * 365 * 86_400_000);
  return {
    schedule: { solar: { event: random.pick(SOLAR_EVENT_NAMES), latitude, longitude } },
    after: after.toISOString(),
    count: random.int(1, 3),
  };
}

function clockedCase(random: Random): FuzzCase {
  const after = awkwardInstant(random);
  const clocked = new Date(Date.parse(after) + random.pick([-1, 0, 1, 1000, 86_400_000, -86_400_000]));
  return { schedule: { clocked: { clocked_time: clocked.toISOString() } }, after, count: random.int(1, 3) };
}

/** `total` cases from `seed`, in a fixed mix of kinds. */
export function randomCases(seed: number, total: number): FuzzCase[] {
  const random = new Random(seed);
  const cases: FuzzCase[] = [];
  for (let index = 0; index < total; index++) {
    const roll = random.next();
    if (roll < 0.55) cases.push(crontabCase(random));
    else if (roll < 0.68) cases.push(oddCrontabCase(random));
    else if (roll < 0.83) cases.push(intervalCase(random));
    else if (roll < 0.97) cases.push(solarCase(random));
    else cases.push(clockedCase(random));
  }
  return cases;
}
