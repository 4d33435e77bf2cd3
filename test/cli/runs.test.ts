// `dbbeat runs` on every dialect: the table (state, runtime, worker, exception), a task's
// failed runs with their tracebacks, --json with --since, and bad values exiting 2 with one
// line naming the flag. Outcomes are written with SQL, as the event consumer would.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';

import { runStoreFor } from '../../src/db/open.js';
import { runDbbeat } from '../support/cli.js';
import { testDialects, withDialectDatabase } from '../support/dialects.js';

/** `dbbeat runs <args…> --database-url <url>`, in UTC. */
const dbbeat = (url: string, ...args: string[]) =>
  runDbbeat(['runs', ...args, '--database-url', url], { DATABASE_URL: '', TZ: 'UTC' });

const TRACEBACK = 'Traceback (most recent call last):\n  File "tasks.py", line 9, in boom\nValueError: no such report';

for (const dialect of testDialects) {
  describe(`dbbeat runs on ${dialect.name}`, () => {
    const database = withDialectDatabase(dialect, 'dbbeat_runs_cli');
    const now = Date.now();

    before(async () => {
      const { db } = database;
      const report = await dialect.insertTask(db, {
        name: 'report',
        schedule: { interval: { every: 1, period: 'hours' } },
      });
      const base = { periodicTaskId: report, periodicTaskName: 'report', task: 'proj.report', broker: 'redis://h/0' };
      const slot = (hoursAgo: number) => now - hoursAgo * 3_600_000;
      await runStoreFor(db).insertRuns([
        {
          ...base,
          taskId: 'r-old',
          scheduledAt: slot(30),
          sentAt: slot(30) + 5,
          lateMs: 5,
          queue: 'celery',
          manual: false,
          state: 'SENT',
        },
        {
          ...base,
          taskId: 'r-ok',
          scheduledAt: slot(1),
          sentAt: slot(1) + 12,
          lateMs: 12,
          queue: 'celery',
          manual: false,
          state: 'SENT',
        },
        {
          ...base,
          taskId: 'r-bad',
          scheduledAt: null,
          sentAt: slot(0.5),
          lateMs: null,
          queue: 'celery',
          manual: true,
          state: 'SENT',
        },
      ]);
      await dialect.query(db, "UPDATE dbbeat_run SET state = 'SUCCESS', runtime = $1, worker = $2 WHERE task_id = $3", [
        1.5,
        'celery@w1',
        'r-ok',
      ]);
      await dialect.query(
        db,
        "UPDATE dbbeat_run SET state = 'FAILURE', runtime = $1, worker = $2, exception_type = $3, exception_message = $4, traceback = $5 WHERE task_id = $6",
        [0.02, 'celery@w2', 'ValueError', 'no such report', TRACEBACK, 'r-bad'],
      );
    });

    test('a table, newest first: slot, lateness, state, runtime, worker, exception', async () => {
      const { code, stdout, stderr } = await dbbeat(database.url);
      assert.equal(code, 0, stderr);
      const lines = stdout.trimEnd().split('\n');
      assert.match(lines[0]!, /^TASK +SLOT \(UTC\) +SENT \(UTC\) +LATE MS +STATE +RUNTIME +WORKER +EXCEPTION$/);
      assert.equal(lines.length, 4);
      assert.match(lines[1]!, /^report +manual +\S+ \S+ +- +FAILURE +0\.020 s +celery@w2 +ValueError: no such report$/);
      assert.match(lines[2]!, /^report +\S+ \S+ +\S+ \S+ +12 +SUCCESS +1\.500 s +celery@w1 +-$/);
      assert.match(lines[3]!, /^report .* 5 +SENT +- +- +-$/);
      // Slots are shown to the millisecond, not cut (an interval task's slot has milliseconds).
      const shown = (ms: number) => new Date(ms).toISOString().slice(0, 23).replace('T', ' ');
      assert.ok(lines[2]!.includes(`report  ${shown(now - 3_600_000)}  ${shown(now - 3_600_000 + 12)}`), lines[2]);
    });

    test("a task's failed runs with --traceback; --json with --since", async () => {
      const failed = await dbbeat(database.url, 'report', '--state', 'failure', '--traceback');
      assert.equal(failed.code, 0, failed.stderr);
      assert.ok(failed.stdout.includes(`report r-bad FAILURE at `), failed.stdout);
      assert.ok(failed.stdout.includes(TRACEBACK), failed.stdout);
      assert.doesNotMatch(failed.stdout, /SUCCESS/);
      const json = await dbbeat(database.url, '--since', '2h', '--json');
      assert.equal(json.code, 0, json.stderr);
      const runs = JSON.parse(json.stdout) as {
        taskId: string;
        state: string;
        sentAt: string;
        traceback: string | null;
      }[];
      assert.deepEqual(
        runs.map((run) => [run.taskId, run.state]),
        [
          ['r-bad', 'FAILURE'],
          ['r-ok', 'SUCCESS'],
        ],
      );
      assert.equal(runs[0]!.traceback, TRACEBACK);
      assert.equal(runs[0]!.sentAt, new Date(now - 1_800_000).toISOString());
    });
  });
}

test('bad values exit 2 with one line naming the flag and the value', async () => {
  for (const [flag, value, reason] of [
    ['--since', 'yesterday', /is not an ISO time/],
    ['--state', 'DONE', /is not one of SENT, SKIPPED/],
    ['--limit', '0', /is not a whole number from 1/],
  ] as const) {
    const { code, stdout, stderr } = await dbbeat('postgres://127.0.0.1:1/never-opened', flag, value);
    assert.equal(code, 2, `${flag} ${value}`);
    assert.equal(stdout, '');
    const lines = stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, stderr);
    assert.ok(lines[0]!.startsWith(`dbbeat runs: ${flag}: "${value}" `), stderr);
    assert.match(lines[0]!, reason);
  }
});
