// The seeded randomness of the differential fuzzer and its awkward reference instants.

/** A seeded pseudo-random source (mulberry32): the same seed gives the same cases. */
export class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }

  /** An integer in [low, high]. */
  int(low: number, high: number): number {
    return low + Math.floor(this.next() * (high - low + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }
}

/** A reference instant, often an awkward one: a minute boundary, xx:59.999, a month or year end, Feb 29. */
export function awkwardInstant(random: Random): string {
  const year = random.pick([2024, 2025, 2026, 2027, 2028, 2030, 2100]);
  const base = Date.UTC(year, 0, 1) + random.next() * 366 * 86_400_000;
  let ms = Math.floor(base / 1000) * 1000;
  switch (random.int(0, 7)) {
    case 0:
      ms = Math.floor(ms / 60_000) * 60_000;
      break;
    case 7:
      // A local hour or midnight in zones at :00, :30 and :45 offsets: often a run itself.
      ms = Math.floor(ms / 3_600_000) * 3_600_000 + random.pick([0, 15, 30, 45]) * 60_000;
      break;
    case 1:
      ms = Math.floor(ms / 60_000) * 60_000 + 59_999;
      break;
    case 2: {
      const month = random.int(0, 11);
      ms = Date.UTC(year, month + 1, 1) - random.pick([1, 1000, 60_000, 3_600_000, 13 * 3_600_000]);
      break;
    }
    case 3:
      ms = Date.UTC(year, 1, 28, random.int(0, 23), random.int(0, 59)) + random.pick([0, 86_400_000]);
      break;
    case 4:
      ms = Date.UTC(year, 11, 31, random.int(10, 23), random.int(0, 59), random.int(0, 59));
      break;
    default:
      ms += random.int(0, 999);
  }
  return new Date(ms).toISOString();
}
