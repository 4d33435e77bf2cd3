// `dbbeat runs [NAME]`: run history as a terminal table (or JSON), newest first: each run's
// task, slot, send time, lateness, state, runtime, worker and exception, from dbbeat_run.
import type { Command } from 'commander';

import { runStoreFor, type OpenDatabase } from '../db/open.js';
import type { RunRecordView } from '../db/run-store.js';
import { RunFilterError, runFilterOf, runJson, withTaskId } from '../outcomes/run-view.js';
import { EXIT_USAGE } from './exit-codes.js';
import { failureOf, openCheckedDatabase } from './failure.js';

interface RunsFlags {
  state?: string;
  since?: string;
  limit?: string;
  before?: string;
  json?: boolean;
  traceback?: boolean;
  databaseUrl?: string;
  dataDir?: string;
}

/** Most runs one call prints. */
const MAX_LIMIT = 10_000;

/** `dbbeat runs`: registers the subcommand. */
export function registerRunsCommand(program: Command): void {
  program
    .command('runs')
    .description('run history, newest first: task, slot, sent, lateness, state, runtime, worker, exception')
    .argument('[name]', "one periodic task's runs (by its name; a deleted task's too)")
    .option('--state <state>', 'only runs in this state: SENT, SKIPPED, RECEIVED, STARTED, SUCCESS, FAILURE, RETRY, …')
    .option(
      '--since <time>',
      'only runs sent since: an ISO time (UTC without an offset) or a duration (90s, 15m, 2h, 1d)',
    )
    .option('-n, --limit <n>', `most runs shown (default 50, at most ${MAX_LIMIT})`)
    .option('--before <id>', 'only runs older than the run of this id (the next page)')
    .option('-t, --traceback', "print each failed run's traceback under the table")
    .option('--json', 'answer in JSON (every column, times in ISO 8601 UTC)')
    .option('--database-url <url>', 'database URL (env DATABASE_URL; default: embedded database in --data-dir)')
    .option('--data-dir <path>', 'folder of the embedded database (default ./.dbbeat)')
    .action(async (name: string | undefined, flags: RunsFlags) => {
      let filter;
      try {
        filter = runFilterOf(
          {
            ...(name !== undefined && { name }),
            ...(flags.state !== undefined && { state: flags.state }),
            ...(flags.since !== undefined && { since: flags.since }),
            ...(flags.limit !== undefined && { limit: flags.limit }),
            ...(flags.before !== undefined && { before: flags.before }),
          },
          Date.now(),
          { prefix: '--', maxLimit: MAX_LIMIT },
        );
      } catch (error) {
        if (!(error instanceof RunFilterError)) throw error;
        process.stderr.write(`dbbeat runs: ${error.message}\n`);
        process.exitCode = EXIT_USAGE;
        return;
      }
      let db: OpenDatabase | undefined;
      const databaseUrl = flags.databaseUrl || process.env.DATABASE_URL || undefined;
      try {
        const dataDir = flags.dataDir ?? process.env.DBBEAT_DATA_DIR ?? './.dbbeat';
        db = await openCheckedDatabase({ databaseUrl, dataDir });
        const store = runStoreFor(db);
        const runs = await store.listRuns(await withTaskId(store, filter));
        process.stdout.write(
          flags.json
            ? `${JSON.stringify(runs.map(runJson), null, 2)}\n`
            : `${runsTable(runs, flags.traceback === true)}\n`,
        );
      } catch (error) {
        const failure = failureOf(error, databaseUrl);
        process.stderr.write(`dbbeat runs: ${failure.message}\n`);
        process.exitCode = failure.code;
      } finally {
        await db?.close().catch(() => undefined);
      }
    });
}

/** Runs as a table fit for a terminal (cells cut with …), then the tracebacks when asked for. */
export function runsTable(runs: readonly RunRecordView[], tracebacks = false): string {
  if (runs.length === 0) return '(no runs)';
  const header = ['TASK', 'SLOT (UTC)', 'SENT (UTC)', 'LATE MS', 'STATE', 'RUNTIME', 'WORKER', 'EXCEPTION'];
  const rows = runs.map((run) => [
    run.periodicTaskName,
    run.manual ? 'manual' : run.scheduledAt === null ? '-' : shortTime(run.scheduledAt),
    shortTime(run.sentAt),
    run.lateMs === null ? '-' : String(run.lateMs),
    run.state,
    run.runtime === null ? '-' : `${run.runtime < 10 ? run.runtime.toFixed(3) : run.runtime.toFixed(1)} s`,
    run.worker ?? '-',
    run.exceptionType === null
      ? '-'
      : `${run.exceptionType}${run.exceptionMessage ? `: ${run.exceptionMessage.replace(/\s+/g, ' ')}` : ''}`,
  ]);
  // Slot and sent are whole to the millisecond (an interval's slot has milliseconds too).
  const limits = [32, 23, 23, 8, 8, 9, 32, 60];
  const cells = [header, ...rows].map((row) => row.map((cell, index) => cut(cell, limits[index]!)));
  const widths = header.map((_, index) => Math.max(...cells.map((row) => row[index]!.length)));
  const lines = cells.map((row) =>
    row
      .map((cell, index) =>
        index === row.length - 1 ? cell : index === 3 ? cell.padStart(widths[index]!) : cell.padEnd(widths[index]!),
      )
      .join('  '),
  );
  if (tracebacks) {
    for (const run of runs) {
      if (run.traceback === null) continue;
      lines.push('', `${run.periodicTaskName} ${run.taskId ?? ''} ${run.state} at ${shortTime(run.sentAt)} UTC:`);
      lines.push(run.traceback.trimEnd());
    }
  }
  return lines.join('\n');
}

function shortTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 23).replace('T', ' ');
}

function cut(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit - 1)}…`;
}
