// The console page's run history in headless Chromium (Debian's, driven by playwright-core):
// a failing task is marked in the table; its page lists the last runs with state, lateness
// and runtime, says why it is failing, and a click on a failed run shows its traceback.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { type BrowserContext, chromium } from 'playwright-core';

import { runStoreFor } from '../../src/db/open.js';
import { insertTask } from '../support/rows.js';
import { TOKEN, type TestConsole, startTestConsole } from './support.js';

const CHROMIUM = process.env.DBBEAT_CHROMIUM ?? '/usr/bin/chromium';
const TRACEBACK = 'Traceback (most recent call last):\n  File "tasks.py", line 3, in nightly\nKeyError: \'region\'';

let console_: TestConsole;
let browser: BrowserContext;
let url: string;
let taskId: number;

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium`);
  console_ = await startTestConsole();
  const sql = { query: async (text: string, params?: unknown[]) => ({ rows: await console_.db.query(text, params) }) };
  taskId = await insertTask(sql as never, { name: 'nightly', schedule: { interval: { every: 1, period: 'hours' } } });
  await insertTask(sql as never, { name: 'fine', schedule: { interval: { every: 1, period: 'hours' } } });
  const now = Date.now();
  await runStoreFor(console_.db).insertRuns(
    [0, 1, 2, 3].map((i) => ({
      periodicTaskId: taskId,
      periodicTaskName: 'nightly',
      task: 'proj.nightly',
      taskId: `n-${i}`,
      scheduledAt: now - (4 - i) * 3_600_000,
      sentAt: now - (4 - i) * 3_600_000 + 17,
      lateMs: 17,
      broker: 'redis://127.0.0.1:6379/0',
      queue: 'celery',
      manual: false,
      state: 'SENT' as const,
    })),
  );
  await console_.db.query(
    "UPDATE dbbeat_run SET state = 'SUCCESS', runtime = 2.5, worker = 'celery@w1' WHERE task_id = 'n-0'",
  );
  await console_.db.query(
    `UPDATE dbbeat_run SET state = 'FAILURE', runtime = 0.125, worker = 'celery@w1', exception_type = 'KeyError',
       exception_message = $1, traceback = $2 WHERE task_id <> 'n-0'`,
    ["'region'", TRACEBACK],
  );
  await console_.app.listen({ host: '127.0.0.1', port: 0 });
  const address = console_.app.server.address();
  url = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
  browser = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'dbbeat-chromium-')), {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
});

after(async () => {
  await browser?.close().catch(() => undefined);
  await console_?.close();
});

test('a failing task is marked; its runs show state, lateness and runtime; a click shows the traceback', async () => {
  const page = browser.pages()[0] ?? (await browser.newPage());
  await page.goto(url);
  await page.locator('input[name=token]').fill(TOKEN);
  await page.getByRole('button', { name: 'Log in' }).click();
  const row = page.locator('tr[data-task="nightly"]');
  await row.locator('.pill.failing').waitFor();
  assert.equal(await page.locator('tr[data-task="fine"] .pill.failing').count(), 0);

  await row.getByRole('link', { name: 'nightly' }).click();
  const runs = page.getByRole('region', { name: 'run history' });
  await runs.getByRole('alert').filter({ hasText: 'failing: its last 3 runs failed' }).waitFor();
  const lines = runs.locator('tbody tr');
  assert.equal(await lines.count(), 4);
  const newest = runs.locator('tr[data-run="n-3"]');
  assert.match(await newest.innerText(), /17 ms\s+FAILURE\s+0\.125 s\s+celery@w1\s+KeyError/);
  assert.match(await runs.locator('tr[data-run="n-0"]').innerText(), /17 ms\s+SUCCESS\s+2\.500 s/);
  await newest.click();
  const traceback = runs.getByLabel('traceback');
  await traceback.waitFor();
  assert.equal(await traceback.innerText(), TRACEBACK);
  assert.match(await runs.locator('tr.detail').innerText(), /KeyError: 'region'/);
});
