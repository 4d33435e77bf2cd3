// Judges dbbeat's answer to a fuzz case against Celery's: agreement, one of the
// documented differences, or a disagreement to report.

import { ScheduleError } from '../../../src/schedules/errors.js';
import { buildSchedule } from '../../../src/schedules/index.js';
import { formatInstant, specFromJson } from '../../../src/schedules/json-form.js';
import type { CeleryAnswer } from './celery-reference.js';
import type { FuzzCase } from './random-cases.js';

/** dbbeat's answer in the batch form, plus the field a rejection names. */
export type DbbeatAnswer = { next: string[] } | { error: string; field: string };

/** How a case came out. `kind` "bug" fails the test; the others are counted. */
export interface Verdict {
  kind: 'agree' | 'documented' | 'bug';
  /** For documented differences and bugs: what differs, short. */
  why?: string;
}

/** Judge solar runs within this (astronomy-engine and ephem differ by ~2 s; test/fixtures/README.md). */
export const SOLAR_TOLERANCE_MS = 10_000;

/** astronomy-engine and ephem place the sun within about a thousandth of a degree of each other. */
export const SOLAR_ALTITUDE_TOLERANCE_DEG = 0.002;

/** The engine's answer, as `dbbeat next --batch` would give it. */
export function askDbbeat(testCase: FuzzCase): DbbeatAnswer {
  try {
    const schedule = buildSchedule(specFromJson(testCase.schedule));
    const next: string[] = [];
    let last: Date | null = new Date(testCase.after);
    while (next.length < testCase.count && (last = schedule.nextAfter(last)) !== null) next.push(formatInstant(last));
    return { next };
  } catch (error) {
    if (error instanceof ScheduleError) return { error: error.message, field: error.field };
    return { error: `crashed: ${String(error)}`, field: '' };
  }
}

/** Microseconds since the epoch of an ISO instant with up to 6 fraction digits. */
function micros(text: string): number {
  const match = /^(.*?)(?:\.(\d{1,6}))?Z$/.exec(text);
  if (!match) return Number.NaN;
  return Date.parse(`${match[1]}Z`) * 1000 + Number((match[2] ?? '').padEnd(6, '0'));
}

function noteIndex(notes: readonly string[], name: string): number | null {
  const note = notes.find((text) => text.startsWith(`${name}@`));
  return note === undefined ? null : Number(note.slice(name.length + 1));
}

/**
 * Solar runs agree within 10 s, or within the time the sun takes to move
 * {@link SOLAR_ALTITUDE_TOLERANCE_DEG} in altitude where it crosses slowly (near
 * the polar circles a twilight can graze its altitude for minutes).
 */
function solarToleranceMs(notes: readonly string[], index: number): number {
  const note = notes.find((text) => text.startsWith(`rate@${index}=`));
  const degreesPerMinute = note === undefined ? Number.NaN : Math.abs(Number(note.split('=')[1]));
  if (!(degreesPerMinute > 0)) return SOLAR_TOLERANCE_MS;
  return Math.max(SOLAR_TOLERANCE_MS, (SOLAR_ALTITUDE_TOLERANCE_DEG / degreesPerMinute) * 60_000);
}

const PERIOD_MICROS: Record<string, number> = {
  microseconds: 1,
  seconds: 1e6,
  minutes: 6e7,
  hours: 3.6e9,
  days: 8.64e10,
};

/** Whether `runs` follow dbbeat's documented interval rule: each run a whole-ms-rounded-up length later. */
function followsMsRounding(testCase: FuzzCase, runs: readonly string[]): boolean {
  const { every, period } = testCase.schedule['interval'] as { every: number; period: string };
  const lengthMs = Math.ceil((every * PERIOD_MICROS[period]!) / 1000);
  return runs.every((run, index) => Date.parse(run) === Date.parse(testCase.after) + (index + 1) * lengthMs);
}

function judgeRejection(testCase: FuzzCase, celery: { error: string }, dbbeat: DbbeatAnswer): Verdict {
  const kind = Object.keys(testCase.schedule)[0]!;
  if ('error' in dbbeat) {
    if (dbbeat.error.startsWith('crashed:')) return { kind: 'bug', why: `threw a non-ScheduleError: ${dbbeat.error}` };
    if (!dbbeat.field.startsWith(`${kind}.`) && dbbeat.field !== kind)
      return { kind: 'bug', why: `rejected without naming a ${kind} field: ${dbbeat.error}` };
    return { kind: 'agree' };
  }
  const dayOfWeek = testCase.schedule['crontab']?.['day_of_week'];
  if (typeof dayOfWeek === 'string' && /(^|\D)7($|\D)/.test(dayOfWeek) && /end range: 7 > 6/.test(celery.error))
    return { kind: 'documented', why: 'day_of_week 7 is Sunday (django-celery-beat accepts it)' };
  if (kind === 'interval' && celery.error.startsWith('OverflowError'))
    return { kind: 'documented', why: 'interval beyond Python timedelta: Celery cannot build it' };
  return { kind: 'bug', why: `accepted what Celery rejects (${celery.error}); gave ${dbbeat.next.join(', ')}` };
}

/** Ephem's sun altitude at dbbeat's solar runs (celery_reference.py's `check` lines). */
export interface SolarCheck {
  target: number;
  altitudes: number[];
  rates: number[];
}

const RISING = new Set(['dawn_astronomical', 'dawn_nautical', 'dawn_civil', 'sunrise']);

/**
 * Near the poles ephem's day-by-day rise/set search skips events (and can hang):
 * dbbeat's runs stand when each is a crossing of the event's altitude, in the
 * event's direction, by ephem's own sun, and none is later than Celery's.
 */
function confirmedByEphem(
  event: string,
  got: readonly string[],
  expected: readonly string[],
  check: SolarCheck,
): boolean {
  if (event === 'solar_noon' || got.length < expected.length) return false;
  const direction = RISING.has(event) ? 1 : -1;
  return got.every(
    (run, index) =>
      Math.abs(check.altitudes[index]! - check.target) <= SOLAR_ALTITUDE_TOLERANCE_DEG &&
      Math.sign(check.rates[index]!) === direction &&
      (index >= expected.length || Date.parse(run) <= Date.parse(expected[index]!) + SOLAR_TOLERANCE_MS),
  );
}

/** The dbbeat runs compared with Celery's: all of them, or those before where Celery's stop. */
function comparedRuns(celery: { notes: string[] }, dbbeat: { next: string[] }): string[] {
  // Celery's runs stop where dbbeat differs on purpose (DST), Python cannot go (year 9999) or ephem hangs.
  const stop = noteIndex(celery.notes, 'dst') ?? noteIndex(celery.notes, 'overflow') ?? noteIndex(celery.notes, 'hang');
  return stop === null ? dbbeat.next : dbbeat.next.slice(0, stop);
}

/**
 * The solar runs to ask ephem about (see {@link SolarCheck}) when dbbeat and
 * Celery disagree on a solar case; null when there is nothing to check.
 */
export function solarRunsToCheck(testCase: FuzzCase, celery: CeleryAnswer, dbbeat: DbbeatAnswer): string[] | null {
  if (!('solar' in testCase.schedule) || 'error' in celery || 'error' in dbbeat) return null;
  return judge(testCase, celery, dbbeat).kind === 'bug' ? comparedRuns(celery, dbbeat) : null;
}

/** Compares dbbeat's answer with Celery's (and, for solar, with ephem's check of dbbeat's runs). */
export function judge(testCase: FuzzCase, celery: CeleryAnswer, dbbeat: DbbeatAnswer, check?: SolarCheck): Verdict {
  if ('error' in celery) return judgeRejection(testCase, celery, dbbeat);
  if ('error' in dbbeat) {
    if (celery.notes.includes('model-refuses') && dbbeat.field.startsWith('interval.'))
      return { kind: 'documented', why: "interval row django-celery-beat's model refuses (every < 1, other periods)" };
    return { kind: 'bug', why: `rejected what Celery runs: ${dbbeat.error}` };
  }
  const kind = Object.keys(testCase.schedule)[0]!;
  const expected = celery.next;
  const got = comparedRuns(celery, dbbeat);
  const mismatch = `gave ${dbbeat.next.join(', ')}; Celery ${expected.join(', ')}`;
  const same =
    got.length === expected.length &&
    (kind === 'solar'
      ? got.every(
          (run, index) =>
            Math.abs(Date.parse(run) - Date.parse(expected[index]!)) <= solarToleranceMs(celery.notes, index),
        )
      : got.every((run, index) => micros(run) === micros(expected[index]!)));
  if (!same) {
    if (kind === 'interval' && followsMsRounding(testCase, got))
      return { kind: 'documented', why: 'interval with a sub-millisecond part rounds up to whole ms' };
    const event = String(testCase.schedule['solar']?.['event']);
    if (kind === 'solar' && check !== undefined && confirmedByEphem(event, got, expected, check))
      return { kind: 'documented', why: "ephem's search skips an event near the pole (dbbeat's time checked)" };
    return { kind: 'bug', why: mismatch };
  }
  const documented = celery.notes.filter((note) => !note.startsWith('rate@'));
  const names = [...new Set(documented.map((note) => note.split('@')[0]))];
  if (names.length > 0) return { kind: 'documented', why: names.join(', ') };
  return { kind: 'agree' };
}
