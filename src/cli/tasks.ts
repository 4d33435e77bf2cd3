// `dbbeat tasks ls|show|enable|disable|run|rm`: the console's task actions on the
// command line, straight on the database (a running beat sees each change at once)
// and, for `run`, the broker. Every subcommand takes --json.
import type { Command } from 'commander';

import { InvalidTaskError, runNow } from '../beat/run-now.js';
import { connectBroker } from '../broker/index.js';
import { resolveConfig } from '../config.js';
import type { PrismaClient } from '../generated/prisma/client.js';
import { createBaseClient } from '../model/client.js';
import { taskView, type TaskView } from '../http/task-view.js';
import { type TaskWrite, deleteTasks, setTasksEnabled } from '../model/task-edit.js';
import { queryTaskRows, taskRowStatements } from '../model/task-rows.js';
import type { OpenDatabase } from '../db/open.js';
import { DEFAULT_INSPECT_TIMEOUT_MS, connectRemoteControl } from '../outcomes/remote-control.js';
import { type WorkerInfo, inspectWorkers, registrationOf } from '../outcomes/remote-control-workers.js';
import { closestName } from './closest-name.js';
import { EXIT_USAGE } from './exit-codes.js';
import { failureOf, openCheckedDatabase, step } from './failure.js';

interface TasksFlags {
  json?: boolean;
  databaseUrl?: string;
  dataDir?: string;
  broker?: string;
  checkWorkers?: boolean;
  workerTimeout?: string;
}

/** A name that is not a task's; the message suggests the closest one. */
class UnknownTaskError extends Error {}

const displayZone = () => process.env.CELERY_TIMEZONE || 'UTC';

/** `dbbeat tasks`: registers the subcommand and its actions. */
export function registerTasksCommand(program: Command): void {
  const tasks = program.command('tasks').description('list, show, enable, disable, run and delete periodic tasks');
  const common = (command: Command) =>
    command
      .option('--json', 'answer in JSON')
      .option(
        '--database-url <url>',
        'postgres:// or mysql:// URL (env DATABASE_URL; default: embedded database in --data-dir)',
      )
      .option('--data-dir <path>', 'folder of the embedded database (default ./.dbbeat)');

  common(tasks.command('ls').description('a table of every task: name, task, schedule, next run, last run, enabled'))
    .option(
      '--check-workers',
      "ask the live Celery workers (remote control) whether each enabled task's task is registered by a worker consuming its queue; waits up to --worker-timeout",
    )
    .option('-b, --broker <url>', 'broker for --check-workers (env CELERY_BROKER_URL or BROKER_URL)')
    .option(
      '--worker-timeout <ms>',
      `how long --check-workers waits for replies (default ${DEFAULT_INSPECT_TIMEOUT_MS})`,
    )
    .action((flags: TasksFlags) =>
      run(flags, async (db) => {
        const rows = await queryTaskRows(db, taskRowStatements(db).ALL_TASKS);
        const now = new Date();
        let views = rows.map((row) => taskView(row, now, displayZone()));
        let footer: string | undefined;
        if (flags.checkWorkers) ({ views, footer } = await checkWorkers(views, flags));
        return flags.json ? views : table(views, footer);
      }),
    );
  common(tasks.command('show').argument('<name>').description("one task's fields, schedule and next run")).action(
    (name: string, flags: TasksFlags) =>
      run(flags, async (db) => {
        const [view] = await viewsOf(db, [name]);
        return flags.json ? view : details(view!);
      }),
  );
  for (const [verb, enabled] of [
    ['enable', true],
    ['disable', false],
  ] as const) {
    common(tasks.command(verb).argument('<names...>').description(`${verb} tasks`)).action(
      (names: string[], flags: TasksFlags) =>
        run(flags, async (db) => {
          const views = await viewsOf(db, names);
          const writes = await withPrisma(db, (prisma) =>
            setTasksEnabled(
              prisma,
              views.map((view) => view.id),
              enabled,
            ),
          );
          return flags.json ? writes.map(brief) : summary(writes, `${verb}d`, `already ${verb}d`, names.length);
        }),
    );
  }
  common(tasks.command('rm').argument('<names...>').description('delete tasks')).action(
    (names: string[], flags: TasksFlags) =>
      run(flags, async (db) => {
        const views = await viewsOf(db, names);
        const writes = await withPrisma(db, (prisma) =>
          deleteTasks(
            prisma,
            views.map((view) => view.id),
          ),
        );
        return flags.json ? writes.map(brief) : summary(writes, 'deleted', 'already gone', names.length);
      }),
  );
  common(
    tasks
      .command('run')
      .argument('<name>')
      .description('send the task now (its schedule is unchanged); prints the Celery task id'),
  )
    .option('-b, --broker <url>', 'broker URL (env CELERY_BROKER_URL or BROKER_URL; default redis://127.0.0.1:6379/0)')
    .action((name: string, flags: TasksFlags) =>
      run(flags, async (db) => {
        await viewsOf(db, [name]);
        // Routed by Celery's settings (CELERY_TASK_ROUTES, …) as the beat routes its runs.
        const config = resolveConfig({ brokerUrl: flags.broker });
        // Connected and asked once here, so that refused credentials are told as the broker's (exit 2).
        const broker = await step('broker', config.brokerUrl, async () => {
          const connected = await connectBroker(config.brokerUrl, { routing: config.routing });
          try {
            await connected.ping();
          } catch (error) {
            await connected.close().catch(() => undefined);
            throw error;
          }
          return connected;
        });
        try {
          const taskId = await runNow(name, {
            database: db,
            broker,
            requestedBy: `cli:${process.env.USER ?? 'unknown'}`,
            // Into run history as a manual run, with the URL and queue the beat would record.
            history: config.history.enabled,
            brokerUrl: config.brokerUrl,
            routing: config.routing,
            onHistoryError: (error) =>
              process.stderr.write(`dbbeat tasks: sent, but not written to run history: ${error.message}\n`),
          });
          return flags.json ? { name, taskId } : taskId;
        } finally {
          await broker.close();
        }
      }),
    );
}

// Opens the database, runs the action, prints its answer (JSON or text), exits non-zero on error.
async function run(flags: TasksFlags, action: (db: OpenDatabase) => Promise<unknown>): Promise<void> {
  let db: OpenDatabase | undefined;
  const databaseUrl = flags.databaseUrl || process.env.DATABASE_URL || undefined;
  try {
    const dataDir = flags.dataDir ?? process.env.DBBEAT_DATA_DIR ?? './.dbbeat';
    db = await openCheckedDatabase({ databaseUrl, dataDir });
    const answer = await action(db);
    process.stdout.write(typeof answer === 'string' ? `${answer}\n` : `${JSON.stringify(answer, null, 2)}\n`);
  } catch (error) {
    const failure =
      // A name that does not exist, or a row no run can be sent from until someone fixes it: 2.
      error instanceof UnknownTaskError || error instanceof InvalidTaskError
        ? { message: error.message, code: EXIT_USAGE }
        : failureOf(error, databaseUrl);
    process.stderr.write(
      flags.json ? `${JSON.stringify({ error: failure.message })}\n` : `dbbeat tasks: ${failure.message}\n`,
    );
    process.exitCode = failure.code;
  } finally {
    await db?.close().catch(() => undefined);
  }
}

/** The tasks of these names, in that order. @throws UnknownTaskError naming each missing one, with the closest name */
async function viewsOf(db: OpenDatabase, names: string[]): Promise<TaskView[]> {
  const rows = await queryTaskRows(db, taskRowStatements(db).TASKS_BY_NAMES, [names]);
  const byName = new Map(rows.map((row) => [row.name, row]));
  const missing = names.filter((name) => !byName.has(name));
  if (missing.length > 0) {
    const all = (await db.query<{ name: string }>(taskRowStatements(db).ALL_TASK_NAMES)).map((row) => row.name);
    throw new UnknownTaskError(
      missing
        .map((name) => {
          const suggestion = closestName(name, all);
          return `no task named ${JSON.stringify(name)}${suggestion === undefined ? '' : `; did you mean ${JSON.stringify(suggestion)}?`}`;
        })
        .join('\n'),
    );
  }
  const now = new Date();
  return names.map((name) => taskView(byName.get(name)!, now, displayZone()));
}

async function withPrisma<T>(db: OpenDatabase, work: (prisma: PrismaClient) => Promise<T>): Promise<T> {
  const prisma = createBaseClient(db);
  try {
    return await work(prisma);
  } finally {
    await prisma.$disconnect();
  }
}

const brief = (write: TaskWrite) => ({ id: write.id, name: write.name, changes: write.changes });

function summary(writes: TaskWrite[], done: string, unchanged: string, asked: number): string {
  const lines = writes.map((write) => `${done} ${JSON.stringify(write.name)}`);
  if (writes.length < asked) lines.push(`${asked - writes.length} ${unchanged}`);
  return lines.join('\n');
}

/**
 * `--check-workers`: asks the workers once (registered and active_queues, side by side: one
 * timeout in all; with no worker the broker says so and it returns at once) and sets each
 * view's `registration`. A broker that cannot be reached leaves them `unknown`, said on stderr.
 */
async function checkWorkers(views: TaskView[], flags: TasksFlags): Promise<{ views: TaskView[]; footer: string }> {
  const config = resolveConfig({ brokerUrl: flags.broker });
  const timeoutMs = flags.workerTimeout === undefined ? DEFAULT_INSPECT_TIMEOUT_MS : Number(flags.workerTimeout);
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0)
    throw new Error(`--worker-timeout: ${JSON.stringify(flags.workerTimeout)} is not a whole number of ms above 0`);
  let workers: WorkerInfo[] = [];
  let footer: string;
  try {
    const control = await connectRemoteControl(config.brokerUrl, { controlExchange: config.controlExchange });
    try {
      workers = await inspectWorkers(control, { timeoutMs });
    } finally {
      await control.close();
    }
    footer =
      workers.length === 0
        ? `no worker answered within ${timeoutMs} ms`
        : `workers: ${workers.map((worker) => `${worker.hostname} (${worker.queues.map((q) => q.name).join(', ')})`).join('; ')}`;
  } catch (error) {
    footer = `workers not checked: ${(error as Error).message}`;
    process.stderr.write(`dbbeat tasks: ${footer}\n`);
  }
  return {
    views: views.map((view) => ({
      ...view,
      registration: view.enabled ? registrationOf(view, workers, config.routing) : null,
    })),
    footer,
  };
}

/** A table fit for a terminal: columns padded, long cells cut with …. With --check-workers, a WORKERS column. */
function table(views: TaskView[], footer?: string): string {
  const checked = footer !== undefined;
  const header = ['NAME', 'TASK', 'SCHEDULE', 'NEXT RUN (UTC)', 'LAST RUN (UTC)', 'ENABLED'];
  if (checked) header.push('WORKERS');
  const rows = views.map((view) => {
    const row = [
      view.name,
      view.task,
      view.valid ? view.schedule.text : `INVALID: ${view.problem}`,
      view.nextRun ? shortTime(view.nextRun.utc) : '-',
      view.lastRunAt ? shortTime(view.lastRunAt) : 'never',
      view.enabled ? 'yes' : 'no',
    ];
    if (checked) row.push(view.registration ?? '-');
    return row;
  });
  const limits = [40, 36, 44, 19, 19, 7, 19];
  const cells = [header, ...rows].map((row) => row.map((cell, index) => cut(cell, limits[index]!)));
  const widths = header.map((_, index) => Math.max(...cells.map((row) => row[index]!.length)));
  const lines = cells.map((row) =>
    row.map((cell, index) => (index === row.length - 1 ? cell : cell.padEnd(widths[index]!))).join('  '),
  );
  if (views.length === 0) lines.push('(no tasks)');
  if (footer !== undefined) lines.push('', footer);
  return lines.join('\n');
}

function details(view: TaskView): string {
  const lines: [string, unknown][] = [
    ['name', view.name],
    ['task', view.task],
    ['schedule', view.schedule.text],
    ['enabled', view.enabled ? 'yes' : 'no'],
    ['next run', view.nextRun ? `${view.nextRun.local} (${view.nextRun.zone}), ${view.nextRun.utc}` : '-'],
    ['last run', view.lastRunAt ?? 'never'],
    ['total runs', view.totalRunCount],
    ['args', view.args],
    ['kwargs', view.kwargs],
    ['headers', view.headers],
    ['queue', view.queue ?? '(default)'],
    ['exchange', view.exchange ?? '-'],
    ['routing key', view.routingKey ?? '-'],
    ['priority', view.priority ?? '-'],
    ['one-off', view.oneOff ? 'yes' : 'no'],
    ['start time', view.startTime ?? '-'],
    ['expires', view.expires ?? (view.expireSeconds !== null ? `${view.expireSeconds} s after each send` : '-')],
    ['description', view.description || '-'],
    ['changed', view.dateChanged],
    ['valid', view.valid ? 'yes' : `no: ${view.problem}`],
  ];
  return lines.map(([key, value]) => `${key.padEnd(12)} ${String(value)}`).join('\n');
}

function shortTime(iso: string): string {
  return iso.slice(0, 19).replace('T', ' ');
}

function cut(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit - 1)}…`;
}
