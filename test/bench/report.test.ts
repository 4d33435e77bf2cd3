// The benchmark's arithmetic: percentiles, same-run ratios, lower bounds from timeouts,
// and the verdicts against the targets.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { burstRatios, renderMarkdown, type StoredFigure, targetVerdicts } from '../../bench/report.js';
import { median, quantile } from '../../bench/support/stats.js';

function figure(partial: Partial<StoredFigure> & Pick<StoredFigure, 'workload' | 'subject' | 'size' | 'metric'>): StoredFigure {
  return { value: null, unit: 's', runs: 1, runId: 'run-1', measuredAt: 'run-1', ...partial };
}

describe('stats', () => {
  test('median and nearest-rank quantiles', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 2, 3]), 2.5);
    const samples = Array.from({ length: 20 }, (_, i) => i + 1);
    assert.equal(quantile(samples, 0.5), 10);
    assert.equal(quantile(samples, 0.99), 20);
    assert.equal(quantile([], 0.5), null);
  });
});

describe('ratios and targets', () => {
  test('burst ratios come from the same run and a peer timeout gives a lower bound', () => {
    const figures = [
      figure({ workload: 'burst', subject: 'dbbeat', size: 10_000, metric: 'seconds', value: 2 }),
      figure({ workload: 'burst', subject: 'floor', size: 10_000, metric: 'seconds', value: 1.5 }),
      figure({ workload: 'burst', subject: 'peer', size: 10_000, metric: 'seconds', value: null, atLeast: 900, note: 'timeout after 900000 ms' }),
    ];
    const ratios = burstRatios(figures);
    const floor = ratios.find((r) => r.label.startsWith('dbbeat / floor'));
    const peer = ratios.find((r) => r.label.startsWith('peer'));
    assert.ok(floor !== undefined && peer !== undefined);
    assert.ok(Math.abs(floor.value! - 4 / 3) < 1e-9);
    assert.equal(floor.note, undefined);
    assert.equal(peer.value, 450);
    assert.equal(peer.atLeast, true);

    const verdicts = targetVerdicts(figures);
    assert.deepEqual(
      verdicts.filter((v) => v.target.startsWith('burst 10k')).map((v) => [v.status, v.measured]),
      [['met', '≥ 450×'], ['met', '1.33×']],
    );
    assert.match(renderMarkdown({
      generatedAt: 'now',
      machine: { cpus: 2, node: 'v20', loadAverageAtStart: [1, 1, 1], loadAverageAtEnd: [1, 1, 1] },
      options: {},
      figures,
      schedules: null,
    }), /\| burst 10k: within 2× of the floor \| 1\.33× \| met \|/);
  });

  test('figures from different runs are flagged; missing targets are "not measured"', () => {
    const figures = [
      figure({ workload: 'burst', subject: 'dbbeat', size: 1000, metric: 'seconds', value: 3, runId: 'a' }),
      figure({ workload: 'burst', subject: 'floor', size: 1000, metric: 'seconds', value: 1, runId: 'b' }),
      figure({ workload: 'pickup', subject: 'dbbeat', size: 100_000, metric: 'pickup_p99_ms', value: 120, unit: 'ms', variant: 'raw SQL' }),
    ];
    const [ratio] = burstRatios(figures);
    assert.equal(ratio?.note, 'sides from different runs');
    const verdicts = targetVerdicts(figures);
    assert.equal(verdicts.find((v) => v.target.includes('(raw SQL)'))?.status, 'missed');
    assert.equal(verdicts.find((v) => v.target.includes('(Prisma client)'))?.status, 'not measured');
    assert.equal(verdicts.find((v) => v.target.startsWith('startup with 1M tasks < 20 s'))?.status, 'not measured');
  });
});
