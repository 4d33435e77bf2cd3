// Runs dbbeat's workloads for the requested sizes and turns them into figures. A workload
// dbbeat cannot run yet (command missing, beat failing) becomes a "not available yet" figure.
import {
  dbbeatBurstRun,
  dbbeatPickupSeries,
  dbbeatStartupRun,
  dbbeatSteadyRun,
  type InsertPath,
  NotAvailableError,
  type StartupVariant,
} from './dbbeat.js';
import type { Figure } from './support/results.js';
import { median, quantile } from './support/stats.js';

export interface DbbeatBenchOptions {
  workloads: ReadonlySet<string>;
  burstSizes: readonly number[];
  /** Burst sizes run with run history on and off, alternated (issue 16: on ≤ 10 % slower). */
  historySizes?: readonly number[];
  /** Pairs of runs (on then off, off then on, …) per history size. */
  historyRounds?: number;
  startupSizes: readonly number[];
  pickupSizes: readonly number[];
  pickupTries: number;
  /** Steady load: `tasks` tasks every `everySeconds`, spread evenly, for `durationSeconds`. */
  steady: SteadyShape;
  /** Light load: the same shape, a realistic small one (1,000 tasks due within a minute). */
  light: SteadyShape;
  repeats: (size: number) => number;
  log: (line: string) => void;
}

export interface SteadyShape {
  tasks: number;
  everySeconds: number;
  durationSeconds: number;
}

type HistoryVariant = 'history on' | 'history off';

/** Generous on a shared machine: 0.6 ms a run (600 s for 1M), and never under two minutes. */
function burstTimeoutMs(size: number): number {
  return Math.max(120_000, size * 0.6);
}

/** dbbeat's figures for every requested workload. */
export async function benchDbbeat(options: DbbeatBenchOptions): Promise<Figure[]> {
  const figures: Figure[] = [];
  const attempt = async (workload: string, size: number, metrics: string[], work: () => Promise<Figure[]>) => {
    try {
      figures.push(...(await work()));
    } catch (error) {
      // A workload that fails is recorded as not measured: the run goes on and still writes its figures.
      const note = (
        error instanceof NotAvailableError
          ? error.message
          : `failed: ${error instanceof Error ? error.message : String(error)}`
      ).split('\n')[0]!;
      options.log(`dbbeat ${workload} ${size}: ${note}`);
      for (const metric of metrics)
        figures.push({ workload, subject: 'dbbeat', size, metric, value: null, unit: '', runs: 0, note });
    }
  };

  if (options.workloads.has('burst')) {
    for (const size of options.burstSizes) {
      await attempt('burst', size, ['seconds'], async () => {
        const seconds: number[] = [];
        const rss: number[] = [];
        let timeout: string | undefined;
        for (let i = 0; i < options.repeats(size); i++) {
          const run = await dbbeatBurstRun(size, burstTimeoutMs(size));
          options.log(`dbbeat burst ${size}: ${run.seconds === null ? run.note : `${run.seconds.toFixed(3)} s`}`);
          if (run.peakRssBytes !== null) rss.push(run.peakRssBytes);
          if (run.seconds === null) {
            timeout = run.note;
            break;
          }
          seconds.push(run.seconds);
        }
        const value = timeout === undefined ? median(seconds) : null;
        const runs = seconds.length;
        return [
          {
            workload: 'burst',
            subject: 'dbbeat',
            size,
            metric: 'seconds',
            value,
            unit: 's',
            runs,
            ...(timeout ? { note: timeout, atLeast: burstTimeoutMs(size) / 1000 } : {}),
          },
          {
            workload: 'burst',
            subject: 'dbbeat',
            size,
            metric: 'runs_per_second',
            value: value === null ? null : size / value,
            unit: 'runs/s',
            runs,
          },
          {
            workload: 'burst',
            subject: 'dbbeat',
            size,
            metric: 'peak_rss_bytes',
            value: rss.length ? Math.max(...rss) : null,
            unit: 'bytes',
            runs: rss.length,
          },
        ];
      });
    }
  }

  if (options.workloads.has('history')) {
    for (const size of options.historySizes ?? []) {
      await attempt('history', size, ['seconds'], async () => {
        const seconds: Record<HistoryVariant, number[]> = { 'history on': [], 'history off': [] };
        for (let round = 0; round < (options.historyRounds ?? 1); round += 1) {
          // Alternated, so that a swing of the machine's load hits both alike.
          const order: HistoryVariant[] =
            round % 2 === 0 ? ['history on', 'history off'] : ['history off', 'history on'];
          for (const variant of order) {
            const run = await dbbeatBurstRun(
              size,
              burstTimeoutMs(size),
              variant === 'history off' ? ['--no-history'] : [],
            );
            options.log(
              `dbbeat burst ${size} (${variant}): ${run.seconds === null ? run.note : `${run.seconds.toFixed(3)} s`}`,
            );
            if (run.seconds === null) throw new Error(`burst ${size} with ${variant}: ${run.note ?? 'no result'}`);
            seconds[variant].push(run.seconds);
          }
        }
        return (['history on', 'history off'] as const).map((variant) => ({
          workload: 'history',
          subject: 'dbbeat' as const,
          size,
          variant,
          metric: 'seconds',
          value: median(seconds[variant]),
          unit: 's',
          runs: seconds[variant].length,
        }));
      });
    }
  }

  if (options.workloads.has('startup')) {
    const variants: StartupVariant[] = ['after ANALYZE', 'no statistics'];
    for (const size of options.startupSizes) {
      for (const variant of variants) {
        await attempt('startup', size, ['seconds', 'peak_rss_bytes'], async () => {
          const seconds: number[] = [];
          const rss: number[] = [];
          for (let i = 0; i < options.repeats(size); i++) {
            const run = await dbbeatStartupRun(size, variant);
            options.log(
              `dbbeat startup ${size} (${variant}): ${run.seconds.toFixed(2)} s, peak RSS ${((run.peakRssBytes ?? 0) / 2 ** 20).toFixed(0)} MiB`,
            );
            seconds.push(run.seconds);
            if (run.peakRssBytes !== null) rss.push(run.peakRssBytes);
          }
          return [
            {
              workload: 'startup',
              subject: 'dbbeat',
              size,
              variant,
              metric: 'seconds',
              value: median(seconds),
              unit: 's',
              runs: seconds.length,
            },
            {
              workload: 'startup',
              subject: 'dbbeat',
              size,
              variant,
              metric: 'peak_rss_bytes',
              value: rss.length ? Math.max(...rss) : null,
              unit: 'bytes',
              runs: rss.length,
            },
          ];
        });
      }
    }
  }

  if (options.workloads.has('pickup')) {
    const paths: InsertPath[] = ['raw SQL', 'Prisma client'];
    for (const size of options.pickupSizes) {
      await attempt('pickup', size, ['pickup_median_ms', 'pickup_p99_ms'], async () => {
        const series = await dbbeatPickupSeries(size, options.pickupTries, paths);
        const out: Figure[] = [];
        for (const [variant, { samplesMs, missed }] of series) {
          options.log(`dbbeat pickup ${size} (${variant}): ${samplesMs.map((ms) => ms.toFixed(0)).join(', ')} ms`);
          const note =
            missed > 0 ? { note: `${missed} of ${options.pickupTries} tries got no message within 10 s` } : {};
          out.push(
            {
              workload: 'pickup',
              subject: 'dbbeat',
              size,
              metric: 'pickup_median_ms',
              value: median(samplesMs),
              unit: 'ms',
              runs: samplesMs.length,
              variant,
              ...note,
            },
            {
              workload: 'pickup',
              subject: 'dbbeat',
              size,
              metric: 'pickup_p99_ms',
              value: missed > 0 ? null : quantile(samplesMs, 0.99),
              unit: 'ms',
              runs: samplesMs.length,
              variant,
              ...note,
            },
          );
        }
        return out;
      });
    }
  }

  for (const workload of ['steady', 'light'] as const) {
    if (!options.workloads.has(workload)) continue;
    const { tasks, everySeconds, durationSeconds } = options[workload];
    const perSecond = Math.round(tasks / everySeconds);
    // steady is labelled by its rate (runs due per second), light by its task count.
    const size = workload === 'steady' ? perSecond : tasks;
    await attempt(workload, size, ['lag_p50_ms', 'lag_p99_ms', 'lag_max_ms'], async () => {
      const run = await dbbeatSteadyRun(tasks, everySeconds, durationSeconds);
      options.log(
        `dbbeat ${workload} ${tasks} tasks: received ${run.received}/${run.expected}, p99 lag ${quantile(run.lagsMs, 0.99)?.toFixed(1)} ms`,
      );
      const note = `${tasks} tasks every ${everySeconds} s (${perSecond}/s) for ${durationSeconds} s; ${run.received}/${run.expected} runs received; scheduled time from ${run.scheduledFrom}`;
      const base = { workload, subject: 'dbbeat' as const, size, unit: 'ms', runs: run.lagsMs.length };
      // Runs that had not arrived 2 s after the window have no lag: counted apart, and a
      // target on lag is met only when none is missing.
      return [
        { ...base, metric: 'lag_p50_ms', value: quantile(run.lagsMs, 0.5), note },
        { ...base, metric: 'lag_p99_ms', value: quantile(run.lagsMs, 0.99) },
        {
          ...base,
          metric: 'lag_max_ms',
          value: run.lagsMs.length ? run.lagsMs.reduce((a, b) => Math.max(a, b)) : null,
        },
        { ...base, metric: 'runs_missing', value: Math.max(0, run.expected - run.received), unit: 'runs' },
      ];
    });
  }
  return figures;
}
