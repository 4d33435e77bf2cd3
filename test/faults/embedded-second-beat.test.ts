// A second beat on an embedded data folder (issue 14.6). The embedded database lives inside
// the process that opened the folder, so a second beat cannot be a real standby: it refuses
// to start with one clear line and exit code 2, instead of "standing by" forever.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { killAllBeats } from '../support/beat-process.js';
import { PrivateRedis } from '../support/private-redis.js';
import { spawnBeatProcess } from './scenario.js';

describe('a second beat on an embedded data folder', () => {
  let redisServer: PrivateRedis;
  const dataDir = mkdtempSync(join(tmpdir(), 'dbbeat-embedded-'));

  before(async () => {
    redisServer = await PrivateRedis.start();
  });

  after(async () => {
    await killAllBeats();
    await redisServer?.remove();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('refuses to start: exit code 2 and one line naming the folder and the owner', { timeout: 120_000 }, async () => {
    const options = { databaseUrl: '', dataDir, brokerUrl: redisServer.url(0), migrate: true };
    const owner = spawnBeatProcess({ ...options, label: 'owner' });
    await owner.waitForLine((line) => line.msg === 'became leader', 90_000);

    const second = spawnBeatProcess({ ...options, label: 'second' });
    const exit = await Promise.race([
      second.exited,
      new Promise<'running'>((resolve) => setTimeout(() => resolve('running'), 30_000).unref()),
    ]);
    if (exit === 'running') await second.kill();
    const said = [...second.otherOutput, ...second.lines.map((line) => line.msg)].filter((text) => text.trim() !== '');
    console.log(JSON.stringify({ embeddedSecondBeat: { exit, said } }));
    assert.notEqual(exit, 'running', 'the second beat does not stay up pretending to stand by');
    assert.equal(exit === 'running' ? null : exit.code, 2, 'exit code 2');
    assert.equal(said.length, 1, `one line: ${JSON.stringify(said)}`);
    assert.match(said[0]!, new RegExp(dataDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    assert.match(said[0]!, new RegExp(`\\b${owner.pid}\\b`), 'it names the process that owns the folder');
    assert.match(said[0]!, /DATABASE_URL|PostgreSQL/, 'and what to do instead');
    assert.ok(owner.alive, 'the owner runs on');
    assert.equal((await owner.stop()).code, 0);
  });
});
