import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { ScheduleError } from '../../src/schedules/errors.js';
import { createSolarSchedule, SOLAR_EVENT_NAMES } from '../../src/schedules/solar.js';
import type { SolarEvent } from '../../src/schedules/types.js';

const EVENTS = SOLAR_EVENT_NAMES;
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

interface SolarCase {
  schedule: { solar: { event: string; latitude: number; longitude: number } };
  after: string;
  celery: { next: string[] };
}

function loadSolarCases(): SolarCase[] {
  const text = readFileSync(new URL('../fixtures/celery-schedules.jsonl', import.meta.url), 'utf8');
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Partial<SolarCase>)
    .filter((row): row is SolarCase => row.schedule?.solar !== undefined && row.celery?.next !== undefined);
}

function median(sorted: number[]): number {
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/**
 * Celery's own `solar` schedule (ephem), with dusk_astronomical at −18° as
 * docs/DESIGN.md §4 has it. Reads [{event, latitude, longitude, after}] on stdin and
 * prints the next event after each (null where ephem reports it circumpolar).
 */
const CELERY_SOLAR_SCRIPT = `
import json, sys
from datetime import datetime
import ephem
from celery.schedules import solar
solar._horizons['dusk_astronomical'] = '-18'
answers = []
for case in json.load(sys.stdin):
    schedule = solar(case['event'], case['latitude'], case['longitude'])
    start = datetime.fromisoformat(case['after'].replace('Z', '+00:00'))
    schedule.cal.date = start
    search = getattr(schedule.cal, schedule.method)
    try:
        if schedule.use_center:
            found = search(ephem.Sun(), start=start, use_center=True)
        else:
            found = search(ephem.Sun(), start=start)
        answers.append(found.datetime().isoformat() + 'Z')
    except ephem.CircumpolarError:
        answers.append(None)
print(json.dumps(answers))
`;
const PYTHON = '/usr/bin/python3';
const POLAR_TOLERANCE_SECONDS = 120;

interface SolarQuestion {
  event: SolarEvent;
  latitude: number;
  longitude: number;
  after: string;
}

function celeryAvailable(): boolean {
  const probe = spawnSync(PYTHON, ['-c', 'import ephem, celery.schedules'], { timeout: 30_000 });
  return probe.status === 0;
}

/**
 * Why the live cross-check cannot run here, or false. Under CI=true a missing Celery or
 * ephem is not a reason to skip: the test then runs and fails, so a CI machine without
 * python3-ephem cannot pass unnoticed (.ci/run installs it).
 */
function liveCrossCheckSkip(): string | false {
  if (process.env.CI === 'true' || celeryAvailable()) return false;
  return 'python3 with celery and ephem is not installed (under CI=true this fails instead)';
}

/** Asks Celery (in a child process, which exits when done) for the next event after each question. */
function askCelery(questions: SolarQuestion[]): Array<string | null> {
  const result = spawnSync(PYTHON, ['-c', CELERY_SOLAR_SCRIPT], {
    input: JSON.stringify(questions),
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(result.status, 0, `celery/ephem failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as Array<string | null>;
}

/** mulberry32: a small seeded generator, so a failing random case can be reproduced. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function randomQuestions(seed: number, count: number): SolarQuestion[] {
  const random = seededRandom(seed);
  const start = Date.parse('2024-01-01T00:00:00Z');
  const span = 6 * 365 * DAY_MS;
  return Array.from({ length: count }, () => ({
    event: EVENTS[Math.floor(random() * EVENTS.length)]!,
    latitude: Math.round((random() * 180 - 90) * 1e6) / 1e6,
    longitude: Math.round((random() * 360 - 180) * 1e6) / 1e6,
    after: new Date(start + Math.floor((random() * span) / 1000) * 1000).toISOString(),
  }));
}

describe('solar schedule', () => {
  test("agrees with Celery's ephem within 10 s on every conformance case", () => {
    const cases = loadSolarCases();
    assert.ok(cases.length >= 50, `expected the solar cases in the fixture, found ${cases.length}`);
    const errorsSeconds: number[] = [];
    const failures: string[] = [];
    for (const row of cases) {
      const schedule = createSolarSchedule(row.schedule.solar);
      let lastRun = new Date(row.after);
      for (const expected of row.celery.next) {
        const got = schedule.nextAfter(lastRun);
        assert.ok(
          got,
          `${JSON.stringify(row.schedule.solar)} after ${lastRun.toISOString()}: got null, want ${expected}`,
        );
        const errorSeconds = Math.abs(got.getTime() - Date.parse(expected)) / 1000;
        errorsSeconds.push(errorSeconds);
        if (errorSeconds > 10) {
          failures.push(
            `${JSON.stringify(row.schedule.solar)} after ${lastRun.toISOString()}: got ${got.toISOString()}, want ${expected} (${errorSeconds} s off)`,
          );
        }
        lastRun = got;
      }
    }
    errorsSeconds.sort((a, b) => a - b);
    console.log(
      `solar conformance: ${errorsSeconds.length} run times, ` +
        `median ${median(errorsSeconds).toFixed(3)} s, max ${errorsSeconds.at(-1)!.toFixed(3)} s off Celery/ephem`,
    );
    assert.deepEqual(failures, []);
  });

  test(
    'agrees with a live Celery/ephem on random places and times, polar ones included',
    { skip: liveCrossCheckSkip() },
    () => {
      const seed = 20261126;
      const questions = randomQuestions(seed, 400);
      const celery = askCelery(questions);
      const ours = questions.map((q) => createSolarSchedule(q).nextAfter(new Date(q.after)));
      const errorsSeconds: number[] = [];
      const failures: string[] = [];
      // Where ephem finds no event in the next day (polar day or night), Celery only
      // re-checks after the next antitransit; we give the next day the event happens.
      // Ask ephem again from just before our answer: it must find that same event.
      const polar: Array<{ index: number; question: SolarQuestion }> = [];
      questions.forEach((question, index) => {
        const want = celery[index];
        const got = ours[index];
        if (want === null || want === undefined) {
          if (got)
            polar.push({ index, question: { ...question, after: new Date(got.getTime() - 600_000).toISOString() } });
          return;
        }
        const errorSeconds = got ? Math.abs(got.getTime() - Date.parse(want)) / 1000 : Number.POSITIVE_INFINITY;
        errorsSeconds.push(errorSeconds);
        if (errorSeconds > 10) failures.push(`${JSON.stringify(question)}: got ${got?.toISOString()}, want ${want}`);
      });
      const confirmations = polar.length > 0 ? askCelery(polar.map((p) => p.question)) : [];
      let polarMaxSeconds = 0;
      polar.forEach(({ index, question }, i) => {
        const got = ours[index]!;
        const confirmed = confirmations[i];
        const errorSeconds = confirmed
          ? Math.abs(got.getTime() - Date.parse(confirmed)) / 1000
          : Number.POSITIVE_INFINITY;
        polarMaxSeconds = Math.max(polarMaxSeconds, errorSeconds);
        // The first day an event happens again, the sun only grazes the altitude and
        // climbs through it very slowly: a few millionths of a degree between the two
        // models are tens of seconds there, so these cases get a minute or two.
        if (errorSeconds > POLAR_TOLERANCE_SECONDS)
          failures.push(
            `polar ${JSON.stringify(question)}: ours ${got.toISOString()}, ephem from 10 min before: ${confirmed}`,
          );
      });
      errorsSeconds.sort((a, b) => a - b);
      console.log(
        `solar vs live ephem (seed ${seed}): ${errorsSeconds.length} run times, median ${median(errorsSeconds).toFixed(3)} s, ` +
          `max ${errorsSeconds.at(-1)!.toFixed(3)} s; ${polar.length} polar cases confirmed by ephem (max ${polarMaxSeconds.toFixed(1)} s)`,
      );
      assert.ok(polar.length > 0, 'expected some polar cases among the random ones');
      assert.deepEqual(failures, []);
    },
  );

  test('nextAfter is strictly after its argument: at the exact event time it gives the next day', () => {
    for (const event of EVENTS) {
      const schedule = createSolarSchedule({ event, latitude: 48.8566, longitude: 2.3522 });
      const first = schedule.nextAfter(new Date('2026-03-10T00:00:00Z'));
      assert.ok(first, event);
      const second = schedule.nextAfter(first);
      assert.ok(second, event);
      const gap = second.getTime() - first.getTime();
      assert.ok(
        gap > 23 * HOUR_MS && gap < 25 * HOUR_MS,
        `${event}: ${first.toISOString()} then ${second.toISOString()}`,
      );
      // A beat that runs a little late records a slightly later last run: still the next day.
      assert.equal(schedule.nextAfter(new Date(first.getTime() + 250))?.getTime(), second.getTime(), event);
      // Asked shortly before the event, the event itself is next.
      assert.equal(schedule.nextAfter(new Date(first.getTime() - 5_000))?.getTime(), first.getTime(), event);
    }
  });

  test('one event is one instant, whatever the search started from (run times feed task ids)', () => {
    for (const event of EVENTS) {
      const schedule = createSolarSchedule({ event, latitude: 35.6762, longitude: 139.6503 });
      const first = schedule.nextAfter(new Date('2026-05-04T12:00:00Z'));
      assert.ok(first, event);
      for (const minutesBefore of [1, 7, 59, 61, 180, 600]) {
        // A fresh schedule each time, so the answer is computed, not remembered.
        const fresh = createSolarSchedule({ event, latitude: 35.6762, longitude: 139.6503 });
        const again = fresh.nextAfter(new Date(first.getTime() - minutesBefore * 60_000 - 123));
        assert.equal(again?.toISOString(), first.toISOString(), `${event}, asked ${minutesBefore} min before`);
      }
    }
  });

  test('a schedule asked many questions in any order answers as a fresh one would', () => {
    const place = { event: 'dawn_civil', latitude: 64.1466, longitude: -21.9426 } as const;
    const shared = createSolarSchedule(place);
    const random = seededRandom(7);
    const start = Date.parse('2026-11-01T00:00:00Z');
    for (let i = 0; i < 200; i++) {
      // Clusters of nearby questions (tasks that ran together) and jumps back and forth.
      const after = new Date(start + Math.floor(random() * 5) * DAY_MS + Math.floor(random() * 3 * HOUR_MS));
      const want = createSolarSchedule(place).nextAfter(after);
      assert.equal(shared.nextAfter(after)?.toISOString(), want?.toISOString(), `after ${after.toISOString()}`);
    }
    assert.throws(() => shared.nextAfter(new Date(Number.NaN)), RangeError);
  });

  test('a year of daily runs at a mid latitude: one run per day, never going backwards', () => {
    for (const event of ['sunrise', 'solar_noon', 'dusk_civil'] as const) {
      const schedule = createSolarSchedule({ event, latitude: -33.8688, longitude: 151.2093 });
      let lastRun = new Date('2026-01-01T00:00:00Z');
      for (let day = 0; day < 366; day++) {
        const next = schedule.nextAfter(lastRun);
        assert.ok(next, event);
        const gap = next.getTime() - lastRun.getTime();
        if (day > 0)
          assert.ok(
            gap > 23 * HOUR_MS && gap < 25 * HOUR_MS,
            `${event}: ${lastRun.toISOString()} then ${next.toISOString()}`,
          );
        lastRun = next;
      }
    }
  });

  test('polar night: sunrise in Tromsø in December is the first sunrise in January', () => {
    const sunrise = createSolarSchedule({ event: 'sunrise', latitude: 69.65, longitude: 18.96 });
    const next = sunrise.nextAfter(new Date('2026-12-01T00:00:00Z'));
    assert.ok(next);
    assert.ok(
      next >= new Date('2027-01-10T00:00:00Z') && next <= new Date('2027-01-25T00:00:00Z'),
      `next Tromsø sunrise after 1 December: ${next.toISOString()}`,
    );
    // The sun is near the horizon around 11:00 local (10:00Z) on the first days.
    assert.ok(next.getUTCHours() >= 8 && next.getUTCHours() <= 12, next.toISOString());
  });

  test('polar day: sunset in Tromsø in June is the first sunset in late July', () => {
    const sunset = createSolarSchedule({ event: 'sunset', latitude: 69.65, longitude: 18.96 });
    const next = sunset.nextAfter(new Date('2026-06-01T00:00:00Z'));
    assert.ok(next);
    assert.ok(
      next >= new Date('2026-07-15T00:00:00Z') && next <= new Date('2026-08-01T00:00:00Z'),
      `next Tromsø sunset after 1 June: ${next.toISOString()}`,
    );
  });

  test('solar noon happens every day, even in polar night and at the poles', () => {
    for (const [latitude, longitude] of [
      [69.65, 18.96],
      [89.9, 0],
      [-90, 180],
      [90, -45],
    ] as const) {
      const noon = createSolarSchedule({ event: 'solar_noon', latitude, longitude });
      const after = new Date('2026-12-21T00:00:00Z');
      const next = noon.nextAfter(after);
      assert.ok(next, `${latitude}, ${longitude}`);
      assert.ok(
        next.getTime() > after.getTime() && next.getTime() - after.getTime() <= DAY_MS,
        `${latitude}, ${longitude}: ${next.toISOString()}`,
      );
    }
  });

  test('near the pole every event is months away or null, never a hang', () => {
    const after = new Date('2026-06-21T00:00:00Z');
    const started = performance.now();
    for (const event of EVENTS) {
      for (const latitude of [89.9, -89.9, 90, -90]) {
        const next = createSolarSchedule({ event, latitude, longitude: 10 }).nextAfter(after);
        if (next === null) continue;
        assert.ok(next.getTime() > after.getTime(), `${event} at ${latitude}: ${next.toISOString()}`);
        assert.ok(next.getTime() - after.getTime() < 370 * DAY_MS, `${event} at ${latitude}: ${next.toISOString()}`);
      }
    }
    const dusk = createSolarSchedule({ event: 'dusk_astronomical', latitude: 89.9, longitude: 0 }).nextAfter(after);
    assert.ok(
      dusk === null || dusk.getTime() - after.getTime() > 60 * DAY_MS,
      `dusk_astronomical at 89.9N: ${dusk?.toISOString()}`,
    );
    const elapsedMs = performance.now() - started;
    console.log(`solar polar searches: 36 schedules in ${elapsedMs.toFixed(0)} ms`);
    assert.ok(elapsedMs < 5_000, `polar searches took ${elapsedMs} ms`);
  });

  test('invalid input throws ScheduleError naming the field and value', () => {
    const valid = { event: 'sunrise', latitude: 10, longitude: 10 };
    const cases: Array<[typeof valid, string, string]> = [
      [{ ...valid, event: 'noon' }, 'solar.event', '"noon"'],
      [{ ...valid, event: 'Sunrise' }, 'solar.event', '"Sunrise"'],
      [{ ...valid, event: '' }, 'solar.event', '""'],
      [{ ...valid, latitude: 90.000001 }, 'solar.latitude', '90.000001'],
      [{ ...valid, latitude: -91 }, 'solar.latitude', '-91'],
      [{ ...valid, latitude: Number.NaN }, 'solar.latitude', 'null'],
      [{ ...valid, latitude: Number.POSITIVE_INFINITY }, 'solar.latitude', 'null'],
      [{ ...valid, longitude: 180.5 }, 'solar.longitude', '180.5'],
      [{ ...valid, longitude: -181 }, 'solar.longitude', '-181'],
    ];
    for (const [spec, field, shownValue] of cases) {
      assert.throws(
        () => createSolarSchedule(spec),
        (error: unknown) =>
          error instanceof ScheduleError &&
          error.field === field &&
          error.message.startsWith(`${field}: ${shownValue} `),
        `${JSON.stringify(spec)} should fail on ${field}`,
      );
    }
    // A coordinate that arrives as a string (e.g. an unconverted numeric column) is refused, not coerced.
    assert.throws(
      () => createSolarSchedule({ ...valid, longitude: '10' as unknown as number }),
      (error: unknown) => error instanceof ScheduleError && error.field === 'solar.longitude',
    );
  });

  test('accepts the boundaries of the coordinate ranges and describes itself', () => {
    for (const [latitude, longitude] of [
      [90, 180],
      [-90, -180],
      [0, 0],
    ] as const) {
      assert.doesNotThrow(() => createSolarSchedule({ event: 'sunset', latitude, longitude }));
    }
    const schedule = createSolarSchedule({ event: 'dusk_civil', latitude: 52.52, longitude: 13.405 });
    assert.equal(schedule.kind, 'solar');
    assert.equal(schedule.describe(), 'solar dusk_civil at 52.52, 13.405');
  });

  test('is fast enough to load many rows: measured per call', () => {
    const schedule = createSolarSchedule({ event: 'sunrise', latitude: 40.7128, longitude: -74.006 });
    let lastRun = new Date('2026-01-01T00:00:00Z');
    const calls = 1_000;
    const started = performance.now();
    let previousRun = lastRun;
    for (let i = 0; i < calls; i++) {
      previousRun = lastRun;
      lastRun = schedule.nextAfter(lastRun)!;
    }
    const microsPerCall = ((performance.now() - started) / calls) * 1000;
    // Tasks sharing the row that ran together: nearly the same question again.
    const repeatStarted = performance.now();
    for (let i = 0; i < calls; i++)
      assert.equal(schedule.nextAfter(new Date(previousRun.getTime() + i))?.getTime(), lastRun.getTime());
    const repeatMicros = ((performance.now() - repeatStarted) / calls) * 1000;
    console.log(
      `solar nextAfter: ${microsPerCall.toFixed(0)} µs per call (sunrise, New York); ${repeatMicros.toFixed(1)} µs when the last answer still holds`,
    );
    assert.ok(microsPerCall < 5_000, `${microsPerCall} µs per call`);
  });
});
