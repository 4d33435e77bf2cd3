// The shape of what each workload reports; run.ts collects these into latest.json.

/** Who was measured. */
export type Subject = 'dbbeat' | 'peer' | 'floor' | 'bullmq';

/** One measured figure. `value` null means not measured; `note` says why. */
export interface Figure {
  /** burst | startup | pickup | steady | schedules */
  workload: string;
  subject: Subject;
  /** Task rows in the database (or tasks due) for this figure. */
  size: number;
  /** e.g. "seconds", "runs_per_second", "pickup_p99_ms", "peak_rss_bytes". */
  metric: string;
  value: number | null;
  /** When `value` is null because the run timed out: the value is at least this. */
  atLeast?: number;
  unit: string;
  /** How many runs the value is the median of (or samples for a percentile). */
  runs: number;
  /** Extra context: the insert path (raw SQL / Prisma), a timeout, "not available yet". */
  variant?: string;
  note?: string;
}
