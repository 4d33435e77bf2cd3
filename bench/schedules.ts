// Schedule engine micro-benchmark: next-run computations per second for 100k
// crontab rows, a realistic mix of expressions across 20 time zones, on one core.
// Run alone: `npx tsx bench/schedules.ts`; `bench/run.ts` calls benchSchedules().

import { fileURLToPath } from 'node:url';

import { buildSchedule } from '../src/schedules/index.js';
import type { Schedule } from '../src/schedules/types.js';

const ROWS = 100_000;
const RUNS = 5;

const ZONES = [
  'UTC',
  'America/New_York',
  'America/Chicago',
  'America/Denver',
  'America/Los_Angeles',
  'America/Sao_Paulo',
  'America/Havana',
  'Europe/London',
  'Europe/Berlin',
  'Europe/Paris',
  'Europe/Moscow',
  'Africa/Cairo',
  'Asia/Kolkata',
  'Asia/Shanghai',
  'Asia/Tokyo',
  'Asia/Singapore',
  'Australia/Sydney',
  'Australia/Lord_Howe',
  'Pacific/Auckland',
  'Pacific/Chatham',
];

/** Cron-order expressions; `M` and `H` become a per-row minute and hour. */
const EXPRESSIONS = [
  '*/5 * * * *',
  '*/10 * * * *',
  '0,30 * * * *',
  'M * * * *',
  'M H * * *',
  '0 9 * * mon-fri',
  '30 2 * * *',
  '0 0 1 * *',
  '*/15 9-17 * * mon-fri',
  '15 */2 * * *',
  'M 8-18 * * 1-5',
  '0 12 * * sun',
  '45 23 28-31 * *',
  'M H 1,15 * *',
  '0 0 * * 0',
  'M H * jan-mar *',
  '0 22-2 * * fri-mon',
  'M H 1-7 * mon',
];

/** A small deterministic generator, so every run measures the same rows. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

interface Row {
  schedule: Schedule;
  lastRunAt: Date;
}

function makeRows(count: number): Row[] {
  const random = seededRandom(20_260_101);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const yearStart = Date.UTC(2026, 0, 1);
  const rows: Row[] = [];
  for (let index = 0; index < count; index++) {
    const expression = pick(EXPRESSIONS)
      .replace('M', String(Math.floor(random() * 60)))
      .replace('H', String(Math.floor(random() * 24)));
    const [minute, hour, dayOfMonth, monthOfYear, dayOfWeek] = expression.split(' ') as [
      string,
      string,
      string,
      string,
      string,
    ];
    const schedule = buildSchedule({
      kind: 'crontab',
      minute,
      hour,
      dayOfMonth,
      monthOfYear,
      dayOfWeek,
      timezone: pick(ZONES),
    });
    // Last runs spread over a year, so DST changes come up as often as in real life.
    rows.push({ schedule, lastRunAt: new Date(yearStart + Math.floor(random() * 365 * 86_400_000)) });
  }
  return rows;
}

function medianOf(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Result of {@link benchSchedules}. */
export interface ScheduleBenchResult {
  bench: 'schedules.nextAfter';
  rows: number;
  zones: number;
  /** Median over the runs of rows / seconds for one nextAfter per row. */
  perSecond: number;
  /** How many timed runs the median is taken over. */
  medianOfRuns: number;
  /** Rows built (parsed and validated) per second. */
  buildPerSecond: number;
}

/**
 * Times `nextAfter` once per row over 100k crontab rows, after one warm-up pass,
 * RUNS times, and reports the median rate.
 */
export async function benchSchedules(): Promise<ScheduleBenchResult> {
  const buildStarted = performance.now();
  const rows = makeRows(ROWS);
  const buildSeconds = (performance.now() - buildStarted) / 1000;
  let sink = 0;
  const pass = (): number => {
    const started = performance.now();
    for (const row of rows) sink += row.schedule.nextAfter(row.lastRunAt)?.getTime() ?? 0;
    return (performance.now() - started) / 1000;
  };
  pass();
  const rates: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    rates.push(ROWS / pass());
    await new Promise((resolve) => setImmediate(resolve));
  }
  if (sink === 0) throw new Error('no run times were computed');
  return {
    bench: 'schedules.nextAfter',
    rows: ROWS,
    zones: ZONES.length,
    perSecond: Math.round(medianOf(rates)),
    medianOfRuns: RUNS,
    buildPerSecond: Math.round(ROWS / buildSeconds),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const result = await benchSchedules();
  console.log(JSON.stringify(result));
  console.log(
    `schedules: ${result.perSecond.toLocaleString('en')} nextAfter/s over ${result.rows.toLocaleString('en')} crontab rows ` +
      `in ${result.zones} zones (median of ${result.medianOfRuns} runs); rows built at ${result.buildPerSecond.toLocaleString('en')}/s`,
  );
}
