// The metrics module alone: what each method puts in the Prometheus text, read back with a
// real text-format parser; bounded labels unless per-task labels are asked for; registries
// of two instances kept apart.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Metrics } from '../../src/outcomes/metrics.js';
import { histogramOf, parseMetrics, sampleValue, sumOf } from '../support/prometheus.js';

test('counters, gauges and histograms come out in Prometheus text format', async () => {
  const metrics = new Metrics({ processMetrics: false });
  metrics.runsSent('celery', 3, 'ignored without perTask');
  metrics.runsSent('reports', 2);
  metrics.runsSent('celery', 0);
  metrics.runsDuplicate(1);
  metrics.runsSkipped(4);
  metrics.sendFailed('message', 2);
  metrics.sendFailed('batch', 5);
  metrics.outcome('SUCCESS', 2);
  metrics.outcome('FAILURE');
  for (const seconds of [0.001, 0.2, 7, -1]) metrics.lateness(seconds);
  metrics.runtime(1.5);
  metrics.runtime(Number.NaN); // ignored
  metrics.changePickup(0.04);
  metrics.leaseRenewal(true);
  metrics.leaseRenewal(true);
  metrics.leaseRenewal(false);
  metrics.leader(true);
  metrics.tasksLoaded(100_000);
  metrics.invalidTasks(3);
  metrics.failingTasks(1);
  let scrapes = 0;
  metrics.beforeScrape(() => {
    scrapes += 1;
    metrics.brokerUp(true);
    metrics.databaseUp(false);
  });

  assert.match(metrics.contentType, /^text\/plain; version=0\.0\.4/);
  const families = parseMetrics(await metrics.text());
  assert.equal(scrapes, 1);
  assert.equal(families.get('dbbeat_runs_sent_total')?.type, 'COUNTER');
  assert.equal(sampleValue(families, 'dbbeat_runs_sent_total', { queue: 'celery' }), 3);
  assert.equal(sampleValue(families, 'dbbeat_runs_sent_total', { queue: 'reports' }), 2);
  assert.ok(families.get('dbbeat_runs_sent_total')?.metrics.every((m) => m.labels?.task === undefined));
  assert.equal(sampleValue(families, 'dbbeat_runs_duplicate_total'), 1);
  assert.equal(sampleValue(families, 'dbbeat_runs_skipped_total'), 4);
  assert.equal(sampleValue(families, 'dbbeat_send_failures_total', { kind: 'message' }), 2);
  assert.equal(sampleValue(families, 'dbbeat_send_failures_total', { kind: 'batch' }), 5);
  assert.equal(sampleValue(families, 'dbbeat_run_outcomes_total', { state: 'SUCCESS' }), 2);
  assert.equal(sumOf(families, 'dbbeat_run_outcomes_total'), 3);
  const lateness = histogramOf(families, 'dbbeat_run_lateness_seconds');
  assert.equal(families.get('dbbeat_run_lateness_seconds')?.type, 'HISTOGRAM');
  assert.equal(lateness?.count, 4);
  assert.equal(lateness?.buckets.get('0.005'), 2); // 0.001 and the negative one, counted as 0
  assert.equal(lateness?.buckets.get('5'), 3);
  assert.equal(lateness?.buckets.get('+Inf'), 4);
  assert.equal(histogramOf(families, 'dbbeat_run_runtime_seconds')?.count, 1);
  assert.equal(histogramOf(families, 'dbbeat_run_runtime_seconds')?.sum, 1.5);
  assert.equal(histogramOf(families, 'dbbeat_change_pickup_seconds')?.count, 1);
  assert.equal(sampleValue(families, 'dbbeat_lease_renewals_total', { result: 'ok' }), 2);
  assert.equal(sampleValue(families, 'dbbeat_lease_renewals_total', { result: 'failed' }), 1);
  assert.equal(sampleValue(families, 'dbbeat_leader'), 1);
  assert.equal(sampleValue(families, 'dbbeat_tasks_loaded'), 100_000);
  assert.equal(sampleValue(families, 'dbbeat_tasks_invalid'), 3);
  assert.equal(sampleValue(families, 'dbbeat_tasks_failing'), 1);
  assert.equal(sampleValue(families, 'dbbeat_broker_up'), 1);
  assert.equal(sampleValue(families, 'dbbeat_database_up'), 0);
  assert.equal(families.has('process_cpu_user_seconds_total'), false);
});

test('a fresh instance shows zeroed failure and renewal series, and process metrics by default', async () => {
  const families = parseMetrics(await new Metrics().text());
  assert.equal(sampleValue(families, 'dbbeat_send_failures_total', { kind: 'batch' }), 0);
  assert.equal(sampleValue(families, 'dbbeat_lease_renewals_total', { result: 'failed' }), 0);
  assert.equal(sampleValue(families, 'dbbeat_leader'), 0);
  assert.ok(families.has('process_cpu_user_seconds_total'));
  assert.ok(families.has('nodejs_eventloop_lag_seconds'));
});

test('per-task labels only when asked for; two instances do not share series', async () => {
  const perTask = new Metrics({ perTask: true, processMetrics: false });
  const plain = new Metrics({ processMetrics: false });
  perTask.runsSent('celery', 2, 'nightly report');
  perTask.runsSent('celery', 1, 'cleanup');
  plain.runsSent('celery', 7, 'nightly report');
  const a = parseMetrics(await perTask.text());
  const b = parseMetrics(await plain.text());
  assert.equal(sampleValue(a, 'dbbeat_runs_sent_total', { queue: 'celery', task: 'nightly report' }), 2);
  assert.equal(sampleValue(a, 'dbbeat_runs_sent_total', { queue: 'celery', task: 'cleanup' }), 1);
  assert.equal(sumOf(a, 'dbbeat_runs_sent_total'), 3);
  assert.equal(b.get('dbbeat_runs_sent_total')?.metrics.length, 1);
  assert.equal(sampleValue(b, 'dbbeat_runs_sent_total', { queue: 'celery' }), 7);
});
