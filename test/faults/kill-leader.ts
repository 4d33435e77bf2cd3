// The kill-the-leader scenario, shared by the Redis and the RabbitMQ fault tests: keep a
// few beat processes running, find the leader, SIGKILL it at a chosen moment, start a
// replacement, and measure how long until another process leads.
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';

import type pg from 'pg';

import { type BeatLogLine, type BeatProcess, readLease, spawnBeat } from '../support/beat-process.js';
import { delay } from './support.js';

/** When, relative to the leader's work, a kill lands. */
export type KillMoment = 'random' | 'after-send' | 'slot-boundary';

export interface KillPhase {
  kills: number;
  /** --lease-seconds of the beats started in this phase; undefined: the default (5 s). */
  leaseSeconds: number | undefined;
}

export interface KillScenarioOptions {
  pool: pg.Pool;
  databaseUrl: string;
  brokerUrl: string;
  /** Beat processes kept running (2–3). */
  processes: number;
  phases: KillPhase[];
  /** Called once the first leader is up (to insert the tasks, so a slow start skews nothing). */
  onFirstLeader?: () => Promise<void>;
}

/** One kill and the failover it caused. */
export interface Failover {
  moment: KillMoment;
  /** --lease-seconds of the killed leader (5 when the default). */
  leaseSeconds: number;
  /** Kill → another process logs "became leader" (its lease row is written just before). */
  leaderMs: number;
  /** Kill → the new leader's first "sent"/"already sent" line, when it logged one. */
  firstSendMs: number | undefined;
}

export interface KillScenarioResult {
  failovers: Failover[];
  /** A whole second after which nothing was killed any more: every slot up to it must be out. */
  until: number;
  /** Every process started, the killed ones included. */
  beats: BeatProcess[];
  /** Processes that exited without being killed by the scenario: label, exit and last stderr lines. */
  crashed: string[];
}

const MOMENTS: KillMoment[] = ['random', 'after-send', 'slot-boundary'];
const BECOME_LEADER_TIMEOUT_MS = 30_000;

function isSend(line: BeatLogLine): boolean {
  return typeof line.scheduled === 'string' && typeof line.id === 'string';
}

/**
 * Runs the phases one after the other, then waits until the last leader has sent past
 * `until` and stops every beat gracefully. The processes a phase starts use its lease
 * time; when a phase changes it, the standbys are replaced first so that the leader
 * killed in that phase holds a lease of the new length.
 */
export async function runKillScenario(options: KillScenarioOptions): Promise<KillScenarioResult> {
  const beats: BeatProcess[] = [];
  const leaseOf = new Map<BeatProcess, number>();
  let counter = 0;
  const start = (leaseSeconds: number | undefined): BeatProcess => {
    counter += 1;
    const beat = spawnBeat({
      databaseUrl: options.databaseUrl,
      brokerUrl: options.brokerUrl,
      ...(leaseSeconds !== undefined && { leaseSeconds }),
      label: `beat #${counter}`,
    });
    beats.push(beat);
    leaseOf.set(beat, leaseSeconds ?? 5);
    return beat;
  };
  const live = (): BeatProcess[] => beats.filter((beat) => beat.alive);
  const killedByUs = new Set<BeatProcess>();

  /** The process that logged "became leader" at or after `since`, checked against the lease row. */
  const awaitLeader = async (
    since: number,
    exclude?: BeatProcess,
  ): Promise<{ beat: BeatProcess; line: BeatLogLine }> => {
    const candidates = live().filter((beat) => beat !== exclude);
    const winner = await Promise.any(
      candidates.map(async (beat) => ({
        beat,
        line: await beat.waitForLine(
          (line) => line.msg === 'became leader' && Date.parse(line.time) >= since,
          BECOME_LEADER_TIMEOUT_MS,
        ),
      })),
    ).catch(() => {
      throw new Error(
        `no beat became leader within ${BECOME_LEADER_TIMEOUT_MS} ms (live: ${live()
          .map((b) => b.label)
          .join(', ')})`,
      );
    });
    const lease = await readLease((sql, params) => options.pool.query(sql, params));
    assert.equal(
      lease?.pid,
      winner.beat.pid,
      `the lease row names the process that logged "became leader" (${lease?.holder})`,
    );
    return winner;
  };

  /** The live process the valid lease row names (a leader may also have died on its own). */
  const currentLeader = async (): Promise<BeatProcess> => {
    const deadline = Date.now() + BECOME_LEADER_TIMEOUT_MS;
    for (;;) {
      const lease = await readLease((sql, params) => options.pool.query(sql, params));
      const beat = lease?.valid ? live().find((candidate) => candidate.pid === lease.pid) : undefined;
      if (beat) return beat;
      if (Date.now() > deadline) throw new Error(`no live beat holds the lease (${lease?.holder})`);
      await delay(100);
    }
  };

  let leaseSeconds = options.phases[0]?.leaseSeconds;
  for (let n = 0; n < options.processes; n += 1) start(leaseSeconds);
  await awaitLeader(0);
  await options.onFirstLeader?.();
  const failovers: Failover[] = [];
  let kill = 0;

  for (const phase of options.phases) {
    if (phase.leaseSeconds !== leaseSeconds) {
      // Replace the standbys with processes of the new lease length (killing standbys is a fault too).
      leaseSeconds = phase.leaseSeconds;
      const keep = await currentLeader();
      for (const beat of live()) {
        if (beat === keep) continue;
        killedByUs.add(beat);
        await beat.kill();
      }
      for (let n = 1; n < options.processes; n += 1) start(leaseSeconds);
      await delay(3000); // let them boot, so the next failover measures the lease, not a cold start
    }
    for (let k = 0; k < phase.kills; k += 1) {
      const moment = MOMENTS[kill % MOMENTS.length]!;
      kill += 1;
      const victim = await currentLeader();
      if (moment === 'random') {
        await delay(randomInt(0, 3000));
      } else if (moment === 'after-send') {
        // No silent fallback to an arbitrary moment: a leader that sends nothing fails the test.
        await victim.waitForLine(isSend, 15_000, victim.lines.length).catch((error: unknown) => {
          throw new Error(`kill ${kill} (after-send): ${victim.label} sent nothing to kill it after`, { cause: error });
        });
      } else {
        // A few ms after a whole second: a batch of runs is being published or recorded.
        await delay(1000 - (Date.now() % 1000) + randomInt(0, 40));
      }
      const killedAt = Date.now();
      killedByUs.add(victim);
      await victim.kill('SIGKILL');
      start(leaseSeconds);
      const leader = await awaitLeader(killedAt, victim);
      const becameAt = leader.beat.lines.indexOf(leader.line);
      const firstSend = await leader.beat.waitForLine(isSend, 10_000, becameAt).catch(() => undefined);
      failovers.push({
        moment,
        leaseSeconds: leaseOf.get(victim)!,
        leaderMs: Date.parse(leader.line.time) - killedAt,
        firstSendMs: firstSend === undefined ? undefined : Date.parse(firstSend.time) - killedAt,
      });
    }
  }

  // Nothing is killed from here on: the leader must send every slot up to `until`.
  const until = Math.ceil(Date.now() / 1000) * 1000;
  await currentLeader();
  // Any live beat may be the one that sends it (leadership can still move on its own).
  await Promise.any(
    live().map((beat) =>
      beat.waitForLine((line) => isSend(line) && Date.parse(String(line.scheduled)) > until + 2000, 30_000),
    ),
  ).catch(() => {
    const tails = live().map(
      (beat) =>
        `${beat.label}: ${beat.lines
          .slice(-4)
          .map((line) => `${line.time} ${line.msg}`)
          .join(' / ')}`,
    );
    throw new Error(
      `no beat sent past ${new Date(until + 2000).toISOString()} within 30 s after the last kill; last lines:\n${tails.join('\n')}`,
    );
  });
  const survivors = live();
  const crashed = beats
    .filter((beat) => !beat.alive && !killedByUs.has(beat))
    .map(
      (beat) =>
        `${beat.label} exited ${JSON.stringify(beat.exitStatus)}: ${beat.otherOutput
          .filter((text) => /Error/.test(text))
          .slice(0, 2)
          .join(' | ')}`,
    );
  const exits = await Promise.all(survivors.map((beat) => beat.stop()));
  for (const exit of exits) assert.equal(exit.code, 0, 'a surviving beat stops cleanly on SIGTERM');
  return { failovers, until, beats, crashed };
}
