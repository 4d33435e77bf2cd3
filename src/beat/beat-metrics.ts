// Turns the beat's typed events into metrics (src/outcomes/metrics.ts defines them): the
// beat's parts only emit, this listens. Counters move once per batch (by the batch's
// counts); only the lateness histogram takes one observation per run sent.
import type { Metrics } from '../outcomes/metrics.js';
import type { BeatEvents } from './events.js';
import type { Beat } from './loop.js';

/** What the metrics read from the beat at each scrape. */
type BeatState = Pick<Beat, 'isLeader' | 'scheduledTasks' | 'invalidTasks'>;

/**
 * Feeds `metrics` from `beat`'s events, and sets the leader and task gauges from the beat
 * at each scrape. Returns a function that stops listening (the scrape hook stays, reading
 * the beat as it is).
 */
export function watchBeat(beat: Beat, metrics: Metrics): () => void {
  const onSent = ({ duplicates, failed, skipped, runs }: BeatEvents['sent'][0]) => {
    if (runs.length > 0) countSent(metrics, runs);
    metrics.runsDuplicate(duplicates);
    metrics.runsSkipped(skipped);
    metrics.sendFailed('message', failed);
  };
  const onSendFailed = ({ runs }: BeatEvents['sendFailed'][0]) => metrics.sendFailed('batch', runs);
  const onLease = ({ held, wasLeader, error }: BeatEvents['lease'][0]) => {
    // A leader's renewal; a standby's tries to take the lease are not renewals.
    if (wasLeader) metrics.leaseRenewal(held && error === undefined);
  };
  const onChanges = ({ oldestAgeMs }: BeatEvents['changes'][0]) => {
    if (oldestAgeMs !== null) metrics.changePickup(oldestAgeMs / 1000);
  };
  beat.on('sent', onSent);
  beat.on('sendFailed', onSendFailed);
  beat.on('lease', onLease);
  beat.on('changes', onChanges);
  metrics.beforeScrape(() => setGauges(metrics, beat));
  return () => {
    beat.off('sent', onSent);
    beat.off('sendFailed', onSendFailed);
    beat.off('lease', onLease);
    beat.off('changes', onChanges);
  };
}

/** One counter increment per queue (per queue and task with per-task labels) for a batch. */
function countSent(metrics: Metrics, runs: BeatEvents['sent'][0]['runs']): void {
  const counts = new Map<string, { queue: string; task: string | undefined; n: number }>();
  for (const run of runs) {
    metrics.lateness(run.lateMs / 1000);
    // A NUL cannot appear in a queue name sent through Celery's routing, so it separates the two.
    const key = metrics.perTask ? `${run.queue}\u0000${run.name}` : run.queue;
    const count = counts.get(key);
    if (count !== undefined) count.n += 1;
    else counts.set(key, { queue: run.queue, task: metrics.perTask ? run.name : undefined, n: 1 });
  }
  for (const { queue, task, n } of counts.values()) metrics.runsSent(queue, n, task);
}

function setGauges(metrics: Metrics, beat: BeatState): void {
  metrics.leader(beat.isLeader);
  metrics.tasksLoaded(beat.isLeader ? beat.scheduledTasks : 0);
  metrics.invalidTasks(beat.isLeader ? beat.invalidTasks : 0);
}
