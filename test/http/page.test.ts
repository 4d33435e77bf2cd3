// The console's web page in headless Chromium (Debian's, driven by playwright-core),
// served by a running `dbbeat beat --http`: log in, create a crontab task through the
// form, see the preview, save, see it in the table with its next run, run it now, and
// see a real Celery worker receive it from the beat's broker (marked as a manual run).
// An edit made in SQL shows at the next refresh. Screenshots go to
// DBBEAT_SCREENSHOT_DIR (default: a temporary folder), one per step.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import pg from 'pg';
import { type BrowserContext, type Page, chromium } from 'playwright-core';

import { type BeatProcess, spawnBeat } from '../support/beat-process.js';
import { type CeleryWorker, startCeleryWorker } from '../support/celery/worker.js';
import { type TempDatabase, createMigratedDatabase } from '../support/postgres.js';
import { PrivateRedis, freePort } from '../support/private-redis.js';
import { insertTask } from '../support/rows.js';

const CHROMIUM = process.env.DBBEAT_CHROMIUM ?? '/usr/bin/chromium';
const TOKEN = `page-test-token-${randomBytes(8).toString('hex')}`;
const shots = process.env.DBBEAT_SCREENSHOT_DIR ?? mkdtempSync(join(tmpdir(), 'dbbeat-shots-'));

let temp: TempDatabase;
let redis: PrivateRedis;
let beat: BeatProcess;
let worker: CeleryWorker | undefined;
let browser: BrowserContext;
let page: Page;
let url: string;
let sql: pg.Client;
const notFound: string[] = [];
const queue = `console_page_${randomBytes(4).toString('hex')}`;

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium`);
  mkdirSync(shots, { recursive: true });
  temp = await createMigratedDatabase('dbbeat_page');
  sql = new pg.Client({ connectionString: temp.url });
  await sql.connect();
  redis = await PrivateRedis.start();
  const tokenFile = join(mkdtempSync(join(tmpdir(), 'dbbeat-token-')), 'token');
  writeFileSync(tokenFile, `${TOKEN}\n`);
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  beat = spawnBeat({
    databaseUrl: temp.url,
    brokerUrl: redis.url(),
    extraArgs: ['--http', `127.0.0.1:${port}`, '--http-token-file', tokenFile],
    label: 'beat with console',
  });
  await beat.waitForLine((line) => /console listening/.test(line.msg), 60_000);
  browser = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'dbbeat-chromium-')), {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  page = browser.pages()[0] ?? (await browser.newPage());
  // Nothing the page asks for may be missing (a browser logs each 404 as an error).
  page.on('response', (response) => {
    if (response.status() === 404) notFound.push(response.url());
  });
});

after(async () => {
  await browser?.close().catch(() => undefined);
  await worker?.stop();
  await beat?.stop();
  await sql?.end().catch(() => undefined);
  await redis?.remove();
  await temp?.drop();
  console.log(`screenshots: ${shots}`);
});

test('log in, create a crontab task with a live preview, see it with its next run, run it now: a Celery worker gets it', async () => {
  await page.goto(url);
  await page.getByRole('form', { name: 'log in' }).waitFor();
  await shot('1-login');
  await page.locator('input[name=token]').fill('not the token at all');
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('alert').filter({ hasText: 'wrong token' }).waitFor();
  await page.locator('input[name=token]').fill(TOKEN);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByText('No tasks match.').waitFor();
  // The icon: linked from the page, and at /favicon.ico for whatever asks there.
  const icon = await page.request.get(`${url}/favicon.ico`);
  assert.equal(icon.status(), 200);
  assert.equal(icon.headers()['content-type'], 'image/svg+xml');
  assert.match(await icon.text(), /^<svg /);
  assert.equal(
    (await page.request.get(`${url}${await page.locator('link[rel=icon]').getAttribute('href')}`)).status(),
    200,
  );
  assert.deepEqual(notFound, []);

  await page.getByRole('link', { name: 'New task' }).click();
  const form = page.getByRole('form', { name: 'task editor' });
  await form.locator('input[name=name]').fill('nightly report');
  await form.locator('input[name=task]').fill('dbbeat_test.record');
  await form.locator('input[name="crontab.minute"]').fill('30');
  await form.locator('input[name="crontab.hour"]').fill('2');
  await form.locator('input[name="crontab.timezone"]').fill('America/New_York');
  await form.locator('textarea[name=args]').fill('[1, 2.0, "three"]');
  await form.locator('input[name=queue]').fill(queue);
  // The live preview: five runs from the server's schedule engine, at 02:30 New York time.
  const runs = page.getByRole('region', { name: 'preview' }).locator('li');
  // Wait for the preview of the finished form: one of an earlier keystroke (every hour, UTC) may still show.
  await page.locator('.preview li', { hasText: 'America/New_York' }).nth(4).waitFor();
  assert.equal(await page.locator('.preview li').count(), 5);
  for (const text of await page.locator('.preview li').allInnerTexts())
    assert.match(text, /02:30 America\/New_York|03:30 America\/New_York/);
  void runs;
  // A bad field is named before saving, and the form keeps what was typed.
  await form.locator('input[name="crontab.hour"]').fill('25');
  await page.locator('.preview .error').filter({ hasText: 'crontab.hour' }).waitFor();
  await shot('2-editor-bad-hour');
  await form.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('alert', { name: 'problems' }).filter({ hasText: 'crontab.hour: "25"' }).waitFor();
  await form.locator('input[name="crontab.hour"]').fill('2');
  await page.locator('.preview li').nth(4).waitFor();
  await shot('3-editor-preview');
  await form.getByRole('button', { name: 'Save' }).click();

  // The table: the new task with its next run (New York time and UTC).
  const row = page.locator('tr[data-task="nightly report"]');
  await row.waitFor();
  const nextRun = await row.locator('td.next-run').innerText();
  assert.match(nextRun, /0[23]:30 America\/New_York/);
  assert.match(nextRun, /0[67]:30 UTC/);
  assert.match(await row.innerText(), /30 2 \* \* \* \(America\/New_York\)/);
  await shot('4-table');

  // Run now: the beat's broker gets it and a real Celery worker runs it, marked manual.
  worker = await startCeleryWorker({ brokerUrl: redis.url(), queues: [queue] });
  await row.getByRole('button', { name: 'run nightly report now' }).click();
  const notice = page.getByRole('status').filter({ hasText: 'Celery task id' });
  await notice.waitFor();
  const taskId = /task id ([0-9a-f-]{36})/.exec(await notice.innerText())![1]!;
  await shot('5-run-now');
  const [record] = (await worker.waitForRecords((records) => records.some((r) => r.id === taskId), 60_000)).filter(
    (r) => r.id === taskId,
  );
  assert.equal(record!.task, 'dbbeat_test.record');
  assert.deepEqual(record!.args, [1, 2.0, 'three']);
  assert.equal(record!.routing_key, queue);
  assert.equal(record!.periodic_task_name, 'nightly report');
  assert.equal(record!.dbbeat_manual_run, 'token');
  // The schedule is untouched: still never run by the beat.
  assert.match(await row.innerText(), /never/);

  // An edit made elsewhere (SQL here; Django admin writes the same row) shows at the next refresh.
  await sql.query(
    "UPDATE django_celery_beat_periodictask SET description = 'edited in SQL', date_changed = now() WHERE name = 'nightly report'",
  );
  await page.getByRole('button', { name: 'Refresh' }).click();
  await row.getByText('edited in SQL').waitFor();

  // Disable from the table.
  await row.getByRole('button', { name: 'disable nightly report' }).click();
  await row.getByRole('button', { name: 'enable nightly report' }).waitFor();
  const [flag] = (
    await sql.query<{ enabled: boolean }>(
      "SELECT enabled FROM django_celery_beat_periodictask WHERE name = 'nightly report'",
    )
  ).rows;
  assert.equal(flag!.enabled, false);

  // The beats page shows this beat as the leader.
  await page.getByRole('link', { name: 'Beats' }).click();
  await page.getByText('leading').waitFor();
  // And lists it among the running beats, from its heartbeat row, with this machine's host name.
  await page
    .locator('tr', { has: page.getByText('leader', { exact: true }) })
    .getByText(hostname(), { exact: true })
    .waitFor();
  await shot('6-beats');
});

test('a misspelled task gets an "unregistered" badge; the workers page lists the worker and its queue', async () => {
  assert.ok(worker, 'the first test starts the worker');
  const hourly = { interval: { every: 1, period: 'hours' } };
  await insertTask(sql, { name: 'misspelled', task: 'dbbeat_test.recrod', schedule: hourly, queue });
  await insertTask(sql, { name: 'spelled right', task: 'dbbeat_test.record', schedule: hourly, queue });
  await page.getByRole('link', { name: 'Tasks' }).click();
  await page.locator('tr[data-task="spelled right"]').waitFor();
  // The console asks the workers at most every 5 s: refresh until its answer has this worker.
  const badge = page.locator('tr[data-task="misspelled"] .badge');
  const deadline = Date.now() + 30_000;
  while (!(await badge.isVisible())) {
    assert.ok(Date.now() < deadline, 'no badge on the misspelled task within 30 s');
    await page.getByRole('button', { name: 'Refresh' }).click();
    await page.waitForTimeout(500);
  }
  assert.equal(await badge.innerText(), 'unregistered');
  assert.equal(await page.locator('tr[data-task="spelled right"] .badge').count(), 0);
  await shot('7-unregistered-badge');

  await page.getByRole('link', { name: 'Workers' }).click();
  const workerRow = page.locator('tr[data-worker]');
  await workerRow.waitFor();
  assert.match(await workerRow.innerText(), new RegExp(queue));
  assert.match((await workerRow.getAttribute('data-worker')) ?? '', /^dbbeat-test-[0-9a-f]{8}@/);
  await shot('8-workers');
});
