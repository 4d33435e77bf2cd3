// Dispatch lag at a light, realistic load: 1,000 interval tasks, each every 60 s, their runs
// spread so that all 1,000 fall due within one minute (about 17 a second), measured for
// `--seconds` (default 60). Lag = the moment the message landed in Redis minus its scheduled
// slot (header dbbeat_scheduled_at). Prints one JSON line.
//
//   npx tsx bench/light-load.ts [--seconds 60]
import { dbbeatSteadyRun } from './dbbeat.js';
import { median, quantile, round } from './support/stats.js';

const secondsFlag = process.argv.indexOf('--seconds');
const durationSeconds = secondsFlag > 0 ? Number(process.argv[secondsFlag + 1]) : 60;
if (!Number.isFinite(durationSeconds) || durationSeconds <= 0) {
  console.error('usage: npx tsx bench/light-load.ts [--seconds N]');
  process.exit(2);
}

const run = await dbbeatSteadyRun(1_000, 60, durationSeconds);
const figure = (value: number | null) => (value === null ? null : round(value));
console.log(
  JSON.stringify({
    bench: 'light-load',
    tasks: 1_000,
    everySeconds: 60,
    durationSeconds,
    expected: run.expected,
    received: run.received,
    lagMs: {
      p50: figure(median(run.lagsMs)),
      p99: figure(quantile(run.lagsMs, 0.99)),
      max: figure(run.lagsMs.length > 0 ? Math.max(...run.lagsMs) : null),
    },
  }),
);
