// Burst with run history on and off, in the same run (issue 16: history must not slow the
// burst by more than 10 %). Alternates the two so that load on the machine hits both alike.
//   npx tsx bench/history.ts [size=20000] [rounds=3]
import { dbbeatBurstRun } from './dbbeat.js';

const size = Number(process.argv[2] ?? 20_000);
const rounds = Number(process.argv[3] ?? 3);
const seconds: Record<'on' | 'off', number[]> = { on: [], off: [] };
for (let round = 0; round < rounds; round += 1) {
  for (const variant of round % 2 === 0 ? (['on', 'off'] as const) : (['off', 'on'] as const)) {
    const run = await dbbeatBurstRun(size, 300_000, variant === 'off' ? ['--no-history'] : []);
    if (run.seconds === null) throw new Error(`burst with history ${variant}: ${run.note ?? 'no result'}`);
    seconds[variant].push(run.seconds);
    console.log(`burst ${size} history ${variant}: ${run.seconds.toFixed(2)} s`);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const on = median(seconds.on);
const off = median(seconds.off);
console.log(
  `median of ${rounds}: history on ${on.toFixed(2)} s, off ${off.toFixed(2)} s (${(((on - off) / off) * 100).toFixed(1)} %)`,
);
