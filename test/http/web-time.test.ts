// The page's wall times: minutes for a crontab's runs, seconds when a run has them (an
// interval of 7 seconds showed five runs as "21:38, 21:38, 21:39, 21:39, 21:39").
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { wallTime } from '../../web/src/api.js';

test('wallTime: minutes when the seconds are zero, else the seconds too; the zone as written', () => {
  assert.equal(wallTime('2026-12-01T09:00:00-05:00'), '2026-12-01 09:00');
  assert.equal(wallTime('2026-12-01T09:00:00.000Z'), '2026-12-01 09:00');
  assert.equal(wallTime('2026-11-30T21:38:07.230Z'), '2026-11-30 21:38:07');
  assert.equal(wallTime('2026-11-01T01:30:42+08:00'), '2026-11-01 01:30:42');
  assert.equal(wallTime('2026-12-01T09:00Z'), '2026-12-01 09:00');
});
