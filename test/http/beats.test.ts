// Issue 17: the beats page lists every running beat, leader first, standbys after. Two real
// beats (in process, memory broker) on one real PostgreSQL database, read through the API.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, test } from 'node:test';

import pino from 'pino';

import { systemClock } from '../../src/beat/clock.js';
import { Beat } from '../../src/beat/loop.js';
import { resolveConfig } from '../../src/config.js';
import { beatStoreFor } from '../../src/db/open.js';
import { MemoryBroker } from '../beat/in-process.js';
import { bearer, startTestConsole, type TestConsole } from './support.js';

let t: TestConsole;

before(async () => {
  t = await startTestConsole();
});

after(async () => {
  await t?.close();
});

interface BeatRow {
  instance: string;
  role: string;
  hostname: string;
  pid: number;
  startedAt: string;
  lastSeen: string;
}

async function listBeats(): Promise<BeatRow[]> {
  const response = await t.app.inject({ method: 'GET', url: '/api/beats', headers: bearer });
  assert.equal(response.statusCode, 200);
  return response.json<{ beats: BeatRow[] }>().beats;
}

function startBeat(): { beat: Beat; holder: string } {
  const config = resolveConfig({ leaseSeconds: 2, maxInterval: 5, migrate: false, databaseUrl: t.temp.url }, {});
  const beat = new Beat(
    beatStoreFor(t.db),
    new MemoryBroker(systemClock),
    pino({ level: 'silent' }),
    config,
    systemClock,
  );
  return { beat, holder: config.holder };
}

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

test('two beats: one leader and one standby listed, leader first; when the leader stops, the standby leads and the old one is gone', async () => {
  const a = startBeat();
  const aLeads = once(a.beat, 'leader');
  a.beat.start();
  await within(aLeads, 10_000, 'beat A to lead');
  const b = startBeat();
  const bStandsBy = once(b.beat, 'ready');
  b.beat.start();
  await within(bStandsBy, 10_000, 'beat B to stand by');
  try {
    const beats = await listBeats();
    assert.deepEqual(
      beats.map((row) => [row.instance, row.role]),
      [
        [a.holder, 'leader'],
        [b.holder, 'standby'],
      ],
    );
    assert.equal(beats[0]!.pid, process.pid);
    assert.ok(beats[0]!.hostname.length > 0);
    assert.ok(Date.parse(beats[1]!.startedAt) <= Date.parse(beats[1]!.lastSeen));

    const bLeads = once(b.beat, 'leader');
    await a.beat.stop();
    await within(bLeads, 10_000, 'beat B to take over');
    assert.deepEqual(
      (await listBeats()).map((row) => [row.instance, row.role]),
      [[b.holder, 'leader']],
    );
  } finally {
    await a.beat.stop();
    await b.beat.stop();
  }
  assert.deepEqual(await listBeats(), [], 'a beat that stopped cleanly removes its row');
});
