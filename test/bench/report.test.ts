// The benchmark's arithmetic: percentiles, same-run ratios, lower bounds from timeouts,
// the verdicts against issue 18's targets, and the README's generated region.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  README_BEGIN,
  README_END,
  dialectRows,
  renderMarkdown,
  renderReadmeRegion,
  replaceReadmeRegion,
} from '../../bench/render.js';
import { type BenchResults, burstRatios, type StoredFigure, targetVerdicts } from '../../bench/report.js';
import { median, quantile } from '../../bench/support/stats.js';

function figure(
  partial: Partial<StoredFigure> & Pick<StoredFigure, 'workload' | 'subject' | 'size' | 'metric'>,
): StoredFigure {
  return { value: null, unit: 's', runs: 1, runId: 'run-1', measuredAt: 'run-1', ...partial };
}

function results(figures: StoredFigure[]): BenchResults {
  return {
    runId: 'run-1',
    generatedAt: 'now',
    machine: { cpus: 2, node: 'v20', loadAverageAtStart: [1, 1, 1], loadAverageAtEnd: [1, 1, 1] },
    options: {},
    figures,
    schedules: null,
  };
}

const status = (figures: StoredFigure[], prefix: string) =>
  targetVerdicts(figures).find((v) => v.target.startsWith(prefix))?.status;

describe('stats', () => {
  test('median and nearest-rank quantiles', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 2, 3]), 2.5);
    const samples = Array.from({ length: 20 }, (_, i) => i + 1);
    assert.equal(quantile(samples, 0.5), 10);
    assert.equal(quantile(samples, 0.99), 20);
    assert.equal(quantile([], 0.5), null);
  });
});

describe('ratios and targets', () => {
  test('run history on against off, from one run, decides the issue 16 target and gets a README row', () => {
    const history = (variant: string, value: number, runId = 'run-1') =>
      figure({ workload: 'history', subject: 'dbbeat', size: 100_000, metric: 'seconds', variant, value, runId });
    const on = history('history on', 10.8);
    assert.equal(status([on, history('history off', 10)], 'burst 100k with run history'), 'met');
    assert.equal(
      status([history('history on', 11.5), history('history off', 10)], 'burst 100k with run history'),
      'missed',
    );
    assert.equal(status([on, history('history off', 10, 'run-0')], 'burst 100k with run history'), 'not measured');
    const region = renderReadmeRegion(results([on, history('history off', 10)]));
    assert.match(
      region,
      /100,000 due at once, run history on \/ off \(alternated\) \| 10\.8 s \/ 10 s .*\+8 % with history/,
    );
  });

  test('same-run ratios against the floor and BullMQ decide the burst targets; a timeout gives a lower bound', () => {
    const figures = [
      figure({ workload: 'burst', subject: 'dbbeat', size: 100_000, metric: 'seconds', value: 3 }),
      figure({ workload: 'burst', subject: 'floor', size: 100_000, metric: 'seconds', value: 1.6 }),
      figure({ workload: 'burst', subject: 'bullmq', size: 100_000, metric: 'seconds', value: 3.5 }),
      figure({
        workload: 'burst',
        subject: 'peer',
        size: 100_000,
        metric: 'seconds',
        value: null,
        atLeast: 900,
        note: 'timeout after 900000 ms',
      }),
      figure({ workload: 'burst', subject: 'dbbeat', size: 1_000_000, metric: 'seconds', value: 40 }),
      figure({ workload: 'burst', subject: 'floor', size: 1_000_000, metric: 'seconds', value: 16 }),
      figure({
        workload: 'burst',
        subject: 'dbbeat',
        size: 1_000_000,
        metric: 'peak_rss_bytes',
        value: 900 * 2 ** 20,
        unit: 'bytes',
      }),
    ];
    const ratios = burstRatios(figures);
    const floor = ratios.find((r) => r.size === 100_000 && r.label.startsWith('dbbeat / floor'));
    assert.ok(Math.abs(floor!.value! - 3 / 1.6) < 1e-9);
    const peer = ratios.find((r) => r.label.startsWith('django-celery-beat'));
    assert.equal(peer?.value, 300);
    assert.equal(peer?.atLeast, true);
    assert.equal(status(figures, 'burst 100k: ≤ 2×'), 'met');
    assert.equal(status(figures, 'burst 100k: faster than BullMQ'), 'met');
    assert.equal(status(figures, 'burst 1M'), 'missed'); // 2.5× the floor, though RSS is under 1 GiB
    assert.match(
      renderMarkdown(results(figures)),
      /\| burst 100k: ≤ 2× the floor, process start included \| 1\.88× the floor \| met \|/,
    );
  });

  test('sides from different runs, missing figures and missing runs are never "met"', () => {
    const figures = [
      figure({ workload: 'burst', subject: 'dbbeat', size: 100_000, metric: 'seconds', value: 3, runId: 'a' }),
      figure({ workload: 'burst', subject: 'floor', size: 100_000, metric: 'seconds', value: 2, runId: 'b' }),
      figure({
        workload: 'pickup',
        subject: 'dbbeat',
        size: 100_000,
        metric: 'pickup_p99_ms',
        value: 120,
        unit: 'ms',
        variant: 'raw SQL',
      }),
      figure({ workload: 'steady', subject: 'dbbeat', size: 10_000, metric: 'lag_p99_ms', value: 20, unit: 'ms' }),
      figure({ workload: 'steady', subject: 'dbbeat', size: 10_000, metric: 'lag_max_ms', value: 90, unit: 'ms' }),
      figure({ workload: 'steady', subject: 'dbbeat', size: 10_000, metric: 'runs_missing', value: 12, unit: 'runs' }),
    ];
    const ratio = burstRatios(figures).find((r) => r.label.startsWith('dbbeat / floor'));
    assert.equal(ratio?.value, null);
    assert.equal(ratio?.note, 'not measured in the same run');
    assert.equal(status(figures, 'burst 100k: ≤ 2×'), 'not measured');
    assert.equal(status(figures, 'change pickup p99 ≤ 100 ms at 100k tasks (raw SQL)'), 'missed');
    assert.equal(status(figures, 'change pickup p99 ≤ 100 ms at 100k tasks (Prisma client)'), 'not measured');
    assert.equal(status(figures, 'startup 1M (after ANALYZE)'), 'not measured');
    assert.equal(status(figures, 'steady'), 'missed'); // lags are fine, but 12 runs never arrived
  });

  test('startup targets hold for both the analysed and the fresh tables', () => {
    const startup = (variant: string, seconds: number, mb: number) => [
      figure({ workload: 'startup', subject: 'dbbeat', size: 1_000_000, variant, metric: 'seconds', value: seconds }),
      figure({
        workload: 'startup',
        subject: 'dbbeat',
        size: 1_000_000,
        variant,
        metric: 'peak_rss_bytes',
        value: mb * 1e6,
        unit: 'bytes',
      }),
    ];
    const figures = [...startup('after ANALYZE', 4.2, 480), ...startup('no statistics', 4.8, 510)];
    assert.equal(status(figures, 'startup 1M (after ANALYZE)'), 'met');
    assert.equal(status(figures, 'startup 1M (no statistics)'), 'missed');
  });
});

describe('README region', () => {
  test('is replaced between its markers and nowhere else', () => {
    const figures = [figure({ workload: 'burst', subject: 'dbbeat', size: 1000, metric: 'seconds', value: 1.25 })];
    const readme = `# x\n\nbefore\n\n${README_BEGIN}\nold table\n${README_END}\n\nafter\n`;
    const out = replaceReadmeRegion(readme, renderReadmeRegion(results(figures)));
    assert.ok(out.startsWith('# x\n\nbefore\n\n'));
    assert.ok(out.endsWith(`${README_END}\n\nafter\n`));
    assert.doesNotMatch(out, /old table/);
    assert.match(out, /\| 1,000 interval tasks due at once[^|]*\| 1\.25 s \|/);
    assert.throws(() => replaceReadmeRegion('# no markers\n', 'x'), /no generated benchmark region/);
  });
});

describe('MariaDB beside PostgreSQL (issue 15)', () => {
  const dialect = (variant: string, size: number, metric: string, value: number, unit = 's') =>
    figure({ workload: 'dialects', subject: 'dbbeat', variant, size, metric, value, unit });
  const figures = [
    dialect('PostgreSQL', 10_000, 'burst_seconds', 4),
    dialect('MariaDB', 10_000, 'burst_seconds', 5),
    dialect('PostgreSQL', 100_000, 'burst_seconds', 40),
    dialect('MariaDB', 100_000, 'burst_seconds', 70),
    dialect('PostgreSQL', 100_000, 'pickup_p99_ms', 30, 'ms'),
    dialect('MariaDB', 100_000, 'pickup_p99_ms', 40, 'ms'),
    dialect('PostgreSQL', 100_000, 'pickup_p50_ms', 10, 'ms'),
    dialect('MariaDB', 100_000, 'pickup_p50_ms', 120, 'ms'),
    dialect('MariaDB', 100_000, 'idle_queries_per_second', 20, 'queries/s'),
  ];

  test('one row per figure and size: both values, the ratio, and the 1.5× target met or missed', () => {
    const { header, rows } = dialectRows(figures);
    assert.deepEqual(header, ['figure', 'unit', 'PostgreSQL', 'MariaDB', 'MariaDB / PostgreSQL', 'target: ≤ 1.5×']);
    const byFigure = new Map(rows.map((row) => [row[0], row.slice(4)]));
    assert.deepEqual(byFigure.get('burst seconds 10k'), ['1.25×', 'met']);
    assert.deepEqual(byFigure.get('burst seconds 100k'), ['1.75×', 'missed']);
    assert.deepEqual(byFigure.get('pickup p99 ms 100k'), ['1.33×', 'met (and ≤ 100 ms)']);
    assert.deepEqual(byFigure.get('pickup p50 ms 100k'), ['12×', 'missed']);
    assert.deepEqual(byFigure.get('idle queries per second 100k'), ['—', 'stated (no target)']);
  });

  test('BENCHMARKS.md has the table with its target', () => {
    const markdown = renderMarkdown(results(figures));
    assert.match(markdown, /## MariaDB beside PostgreSQL/);
    assert.match(markdown, /\| burst seconds 100k \| s \| .* \| 1\.75× \| missed \|/);
  });
});
