// The first row of the README's Guarantees table, at its exact moment: a leader crashes
// after its broker took a run and before the database recorded it. The test makes that
// moment certain instead of hoping a kill lands in it: it holds the task's row lock, so
// the run is provably in the broker and not recorded (checked from the database), then
// SIGKILLs the leader. The next leader must send the same run again, with the same task
// id: on Redis the re-send is suppressed (one message, logged "already sent"); on
// RabbitMQ it arrives twice with one id. Either way the run is recorded once.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import amqp from 'amqplib';
import pg from 'pg';

import { type BeatLogLine, type BeatProcess, killAllBeats, readLease, spawnBeat } from '../support/beat-process.js';
import { PrivateRedis } from '../support/private-redis.js';
import { insertTask } from '../support/rows.js';
import { createFaultDatabase, deleteAmqpQueue, type FaultDatabase, Redis, uniqueName, waitUntil } from './support.js';

const AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672//';
const LEASE_SECONDS = 2;
const HOUR_MS = 3_600_000;

/** One message as the broker held it: Celery task id and the slot it is for. */
interface Held {
  id: string;
  slot: string;
}

/** What the scenario needs from a broker: its URL and the messages for a task so far. */
interface BrokerProbe {
  url: string;
  /** Messages for `name` received so far (RabbitMQ: taken off the queue and kept). */
  messages(name: string): Promise<Held[]>;
  close(): Promise<void>;
}

async function redisProbe(queue: string): Promise<BrokerProbe> {
  const server = await PrivateRedis.start();
  const client = new Redis(server.url());
  return {
    url: server.url(),
    async messages(name) {
      const raw = await client.lrange(queue, 0, -1);
      return raw
        .map(
          (text) =>
            (JSON.parse(text) as { headers: { id: string; periodic_task_name: string; dbbeat_scheduled_at: string } })
              .headers,
        )
        .filter((headers) => headers.periodic_task_name === name)
        .map((headers) => ({ id: headers.id, slot: headers.dbbeat_scheduled_at }));
    },
    async close() {
      client.disconnect();
      await server.remove();
    },
  };
}

async function amqpProbe(queue: string): Promise<BrokerProbe> {
  const connection = await amqp.connect(AMQP_URL);
  const received: { name: string; held: Held }[] = [];
  return {
    url: AMQP_URL,
    async messages(name) {
      // A fresh channel per look: a get on a queue not declared yet closes its channel (404).
      const channel = await connection.createChannel();
      channel.on('error', () => undefined);
      try {
        for (;;) {
          const message = await channel.get(queue, { noAck: true });
          if (message === false) break;
          const headers = (message.properties.headers ?? {}) as Record<string, string>;
          received.push({
            name: headers.periodic_task_name!,
            held: { id: headers.id!, slot: headers.dbbeat_scheduled_at! },
          });
        }
        await channel.close();
      } catch {
        // not declared yet
      }
      return received.filter((entry) => entry.name === name).map((entry) => entry.held);
    },
    async close() {
      await deleteAmqpQueue(AMQP_URL, queue).catch(() => undefined);
      await connection.close();
    },
  };
}

function sentLine(name: string, id: string): (line: BeatLogLine) => boolean {
  return (line) => line.task === name && line.id === id;
}

for (const [brokerName, makeProbe] of [
  ['Redis', redisProbe],
  ['RabbitMQ', amqpProbe],
] as const) {
  describe(`a leader killed after publishing, before recording (${brokerName})`, () => {
    let db: FaultDatabase;
    let probe: BrokerProbe;
    const queue = uniqueName('fault_resend');

    before(async () => {
      db = await createFaultDatabase();
      probe = await makeProbe(queue);
    });

    after(async () => {
      await killAllBeats();
      await probe?.close();
      await db?.drop();
    });

    test(
      'the next leader sends the same run again with the same task id, and it is recorded once',
      { timeout: 90_000 },
      async () => {
        const beats: BeatProcess[] = [1, 2].map((n) =>
          spawnBeat({ databaseUrl: db.url, brokerUrl: probe.url, leaseSeconds: LEASE_SECONDS, label: `beat ${n}` }),
        );
        await Promise.any(beats.map((beat) => beat.waitForLine((line) => line.msg.startsWith('beat ready'), 60_000)));

        // One task, due in 3 s: an hourly task whose last run was nearly an hour ago.
        const name = uniqueName('resend');
        const lastRunAt = new Date(Date.now() - HOUR_MS + 3000);
        const taskId = await insertTask(db.pool, {
          name,
          schedule: { interval: { every: 1, period: 'hours' } },
          queue,
          lastRunAt,
        });
        const slot = new Date(lastRunAt.getTime() + HOUR_MS).toISOString();

        // Hold the task's row lock: the leader can read and send the row, but not record it.
        const locker = new pg.Client({ connectionString: db.url });
        await locker.connect();
        let locked = true;
        try {
          await locker.query('BEGIN');
          await locker.query('SELECT id FROM django_celery_beat_periodictask WHERE id = $1 FOR UPDATE', [taskId]);

          const [original] = await waitUntil(
            'the run in the broker',
            async () => {
              const held = await probe.messages(name);
              return held.length > 0 ? held : undefined;
            },
            30_000,
            20,
          );
          assert.equal(original!.slot, slot, 'the run is for the expected slot');
          const lease = await readLease((sql, params) => db.pool.query(sql, params));
          const victim = beats.find((beat) => beat.pid === lease?.pid && lease.valid);
          assert.ok(victim, `the lease names a live beat (${lease?.holder})`);
          await victim.waitForLine(sentLine(name, original!.id), 10_000);

          // In the broker, not recorded: the database still holds the old last run.
          const before = await db.pool.query<{ last_run_at: Date; total_run_count: number }>(
            'SELECT last_run_at, total_run_count FROM django_celery_beat_periodictask WHERE id = $1',
            [taskId],
          );
          assert.equal(before.rows[0]!.last_run_at.getTime(), lastRunAt.getTime(), 'not recorded before the kill');
          assert.equal(before.rows[0]!.total_run_count, 0);

          await victim.kill('SIGKILL');
          // A crashed host's connections die with it. PostgreSQL only notices a gone client
          // when it next talks to it, so a statement of the dead leader that waits on our
          // lock would still run once we let go: end those backends as the crash would.
          await db.pool.query(
            `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
           WHERE datname = $1 AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()`,
            [db.temp.name],
          );
          await locker.query('ROLLBACK');
          locked = false;

          // The standby takes over once the lease lapses and sends the same run again.
          const survivor = beats.find((beat) => beat !== victim)!;
          const repeat = await survivor.waitForLine(sentLine(name, original!.id), 30_000);
          assert.equal(repeat.scheduled, slot, 'the repeat is for the same slot');
          const held = await waitUntil(
            'the repeat in the broker',
            async () => {
              const all = await probe.messages(name);
              return brokerName === 'Redis' || all.length >= 2 ? all : undefined;
            },
            10_000,
          );
          if (brokerName === 'Redis') {
            assert.match(repeat.msg, /^already sent/, 'Redis suppressed the re-send');
            assert.equal(repeat.duplicate, true);
            assert.deepEqual(held, [original], 'one message on Redis');
          } else {
            assert.deepEqual(held, [original, original], 'RabbitMQ holds the run twice, with one task id');
          }

          // Recorded once, by the new leader.
          const recorded = await waitUntil(
            'the run recorded',
            async () => {
              const { rows } = await db.pool.query<{ last_run_at: Date; total_run_count: number }>(
                'SELECT last_run_at, total_run_count FROM django_celery_beat_periodictask WHERE id = $1',
                [taskId],
              );
              return rows[0]!.total_run_count > 0 ? rows[0]! : undefined;
            },
            10_000,
          );
          assert.equal(recorded.last_run_at.toISOString(), slot);
          assert.equal(recorded.total_run_count, 1, 'the run counts once');
          const exit = await survivor.stop();
          assert.equal(exit.code, 0);
        } finally {
          if (locked) await locker.query('ROLLBACK').catch(() => undefined);
          await locker.end();
        }
      },
    );
  });
}
