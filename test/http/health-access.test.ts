// Who may read the health routes of a console with credentials: /healthz and /readyz
// answer anyone (probes do not log in), /metrics takes the API's token or basic auth
// unless metricsPublic. A real console on PostgreSQL; readiness given by the test.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { Metrics } from '../../src/outcomes/metrics.js';
import { parseMetrics, sampleValue } from '../support/prometheus.js';
import { bearer, PASSWORD, startTestConsole, type TestConsole, USER } from './support.js';

let guarded: TestConsole;
let open: TestConsole;
let ready = true;

before(async () => {
  const readiness = () => Promise.resolve({ ready, failed: ready ? [] : ['broker'] });
  guarded = await startTestConsole({ health: { metrics: new Metrics({ processMetrics: false }), readiness } });
  open = await startTestConsole({
    health: { metrics: new Metrics({ processMetrics: false }), readiness, metricsPublic: true },
  });
});

after(async () => {
  await guarded?.close();
  await open?.close();
});

test('/healthz and /readyz answer without credentials; /readyz is 503 when not ready', async () => {
  const health = await guarded.app.inject({ method: 'GET', url: '/healthz' });
  assert.equal(health.statusCode, 200);
  assert.deepEqual(health.json(), { status: 'ok' });
  assert.equal((await guarded.app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200);
  ready = false;
  try {
    const notReady = await guarded.app.inject({ method: 'GET', url: '/readyz' });
    assert.equal(notReady.statusCode, 503);
    assert.deepEqual(notReady.json(), { ready: false, failed: ['broker'] });
  } finally {
    ready = true;
  }
});

test('/metrics needs the console credentials unless public', async () => {
  assert.equal((await guarded.app.inject({ method: 'GET', url: '/metrics' })).statusCode, 401);
  const wrong = { authorization: 'Bearer not-the-token', host: '127.0.0.1' };
  assert.equal((await guarded.app.inject({ method: 'GET', url: '/metrics', headers: wrong })).statusCode, 401);
  const withToken = await guarded.app.inject({ method: 'GET', url: '/metrics', headers: bearer });
  assert.equal(withToken.statusCode, 200);
  assert.match(String(withToken.headers['content-type']), /^text\/plain; version=0\.0\.4/);
  // The server counts failing tasks at each scrape (none in an empty database).
  assert.equal(sampleValue(parseMetrics(withToken.body), 'dbbeat_tasks_failing'), 0);
  const basic = { authorization: `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`, host: '127.0.0.1' };
  assert.equal((await guarded.app.inject({ method: 'GET', url: '/metrics', headers: basic })).statusCode, 200);
  const publicScrape = await open.app.inject({ method: 'GET', url: '/metrics' });
  assert.equal(publicScrape.statusCode, 200);
  assert.ok(parseMetrics(publicScrape.body).has('dbbeat_runs_sent_total'));
});
