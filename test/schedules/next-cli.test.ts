// `dbbeat next` as a spawned process: the batch form over the whole conformance
// file, and the person form's output and exit codes.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';

import { caseKind, readConformanceCases } from './conformance-cases.js';

const BIN = new URL('../../bin/dbbeat.js', import.meta.url).pathname;
const TIMEOUT_MS = 60_000;

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runNext(args: string[], stdin = ''): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'next', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(stdin);
  });
}

test('--batch answers every conformance case like Celery, and survives bad lines', async (t) => {
  const cases = readConformanceCases();
  const input = cases.map(({ schedule, after, count }) => JSON.stringify({ schedule, after, count }));
  input.splice(
    10,
    0,
    'not json',
    '{"schedule": {"crontab": {"minute": "61"}}, "after": "2026-01-01T00:00:00Z", "count": 2}',
  );
  input.push(
    '{"schedule": {"clocked": {"clocked_time": "2026-12-01T10:00:00Z"}}, "after": "2026-01-01T00:00:00Z", "count": 3}',
  );
  const started = performance.now();
  const { code, stdout, stderr } = await runNext(['--batch'], `${input.join('\n')}\n`);
  t.diagnostic(
    `batch: ${input.length} lines in ${Math.round(performance.now() - started)} ms (process start included)`,
  );
  assert.equal(code, 0, stderr);
  const answers = stdout
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as { next?: string[]; error?: string });
  assert.equal(answers.length, input.length);
  assert.match(answers[10]!.error!, /not JSON/);
  assert.equal(answers[11]!.error, 'crontab.minute: "61" is out of range 0-59');
  assert.deepEqual(answers.at(-1), { next: ['2026-12-01T10:00:00Z'] });
  const caseAnswers = [...answers.slice(0, 10), ...answers.slice(12, -1)];
  cases.forEach((testCase, index) => {
    const answer = caseAnswers[index]!;
    const where = `line ${testCase.line}: ${JSON.stringify(answer)}`;
    if ('error' in testCase.celery) {
      assert.ok(answer.error, where);
      return;
    }
    assert.ok(answer.next, where);
    if (caseKind(testCase) === 'solar') {
      testCase.celery.next.forEach((run, runIndex) =>
        assert.ok(Math.abs(Date.parse(run) - Date.parse(answer.next![runIndex]!)) <= 10_000, where),
      );
      assert.equal(answer.next.length, testCase.celery.next.length, where);
    } else {
      assert.deepEqual(answer.next, testCase.celery.next, where);
    }
  });
});

test('the person form lists local and UTC times and marks DST moves', async () => {
  const { code, stdout } = await runNext([
    '--crontab',
    '30 2 * * *',
    '--tz',
    'America/New_York',
    '-n',
    '2',
    '--after',
    '2026-03-07T12:00:00Z',
  ]);
  assert.equal(code, 0);
  const lines = stdout.trimEnd().split('\n');
  assert.equal(lines[0], 'crontab 30 2 * * * (America/New_York), runs after 2026-03-07T12:00:00Z:');
  assert.match(
    lines[1]!,
    /Sun 2026-03-08 03:30:00 -04:00 America\/New_York {2}2026-03-08T07:30:00Z {2}DST: moved forward/,
  );
  assert.match(lines[2]!, /Mon 2026-03-09 02:30:00 -04:00 America\/New_York {2}2026-03-09T06:30:00Z$/);
});

test('a clocked time that has passed: one run, at once, as beat sends it (never "no run")', async () => {
  const passed = await runNext(['--clocked', '2026-01-01T10:00:00Z', '--after', '2026-06-01T00:00:00Z', '-n', '3']);
  assert.equal(passed.code, 0, passed.stderr);
  assert.deepEqual(passed.stdout.trimEnd().split('\n').slice(1), [
    '   1  Thu 2026-01-01 10:00:00 +00:00 UTC  2026-01-01T10:00:00Z  its time has passed: beat sends it at once, once',
    '  (no more runs)',
  ]);
  const ahead = await runNext(['--clocked', '2026-12-01T10:00:00Z', '--after', '2026-06-01T00:00:00Z', '-n', '3']);
  assert.deepEqual(ahead.stdout.trimEnd().split('\n').slice(1), [
    '   1  Tue 2026-12-01 10:00:00 +00:00 UTC  2026-12-01T10:00:00Z',
    '  (no more runs)',
  ]);
});

test('invalid input exits with code 2 and a clear message', async () => {
  const bad: [string[], RegExp][] = [
    [['--crontab', '61 * * * *'], /crontab\.minute: "61" is out of range 0-59/],
    [['--crontab', '1 * * *'], /has 4 fields/],
    [['--crontab', '0 9 * * *', '--tz', 'Mars/Base'], /--tz "Mars\/Base" is not a known time zone/],
    [['--interval', 'often'], /--interval "often"/],
    [['--solar', 'sunrise', '--lat', 'abc', '--lon', '0'], /--lat "abc" is not a number of degrees/],
    [['--interval', '5 weeks'], /interval\.period/],
    [['--crontab', '* * * * *', '--after', 'yesterday'], /--after "yesterday"/],
    [['--crontab', '* * * * *', '-n', 'x'], /--count/],
    [[], /exactly one of/],
    [['--no-such-flag'], /unknown option/],
  ];
  for (const [args, message] of bad) {
    const { code, stderr } = await runNext(args);
    assert.equal(code, 2, `${args.join(' ')}: ${stderr}`);
    assert.match(stderr, message);
  }
});
