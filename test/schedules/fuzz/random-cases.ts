// Seeded random schedule cases for the differential fuzzer, in the conformance
// file's form: {"schedule": {...}, "after": "<ISO UTC>", "count": K}.

/** One question for both Celery and dbbeat. */
export interface FuzzCase {
  schedule: Record<string, Record<string, unknown>>;
  after: string;
  count: number;
}

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

/** Zones with half-hour and 45-minute offsets, southern DST, odd and negative DST, no DST. */
export const ZONES = [
  'UTC',
  'America/New_York',
  'America/Los_Angeles',
  'Europe/Berlin',
  'Europe/London',
  'Europe/Dublin',
  'Australia/Lord_Howe',
  'Australia/Adelaide',
  'Australia/Eucla',
  'Asia/Kolkata',
  'Asia/Kathmandu',
  'Asia/Tehran',
  'Pacific/Chatham',
  'Pacific/Auckland',
  'Pacific/Kiritimati',
  'Pacific/Pago_Pago',
  'America/Santiago',
  'America/Sao_Paulo',
  'America/St_Johns',
  'America/Havana',
  'Africa/Casablanca',
  'Africa/Cairo',
  'Antarctica/Troll',
  'Asia/Tokyo',
] as const;

const WEEKDAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const WEEKDAY_SPELLINGS = [(name: string) => name, (name: string) => name.toUpperCase(), fullWeekday];
const MONTH_NAMES = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

function fullWeekday(name: string): string {
  const full: Record<string, string> = {
    sun: 'Sunday',
    mon: 'Monday',
    tue: 'Tuesday',
    wed: 'Wednesday',
    thu: 'Thursday',
    fri: 'Friday',
    sat: 'Saturday',
  };
  return full[name]!;
}

interface FieldShape {
  min: number;
  max: number;
  /** A value as text: a number, or sometimes a name. */
  value: (random: Random, value: number) => string;
}

const plain = (_random: Random, value: number): string => String(value);

const FIELDS: Record<string, FieldShape> = {
  minute: { min: 0, max: 59, value: plain },
  hour: { min: 0, max: 23, value: plain },
  day_of_week: {
    min: 0,
    max: 6,
    value: (random, value) => {
      if (value === 0 && random.chance(0.3)) return '7';
      return random.chance(0.4) ? random.pick(WEEKDAY_SPELLINGS)(WEEKDAY_NAMES[value]!) : String(value);
    },
  },
  day_of_month: { min: 1, max: 31, value: plain },
  month_of_year: {
    min: 1,
    max: 12,
    value: (random, value) => (random.chance(0.3) ? MONTH_NAMES[value - 1]! : String(value)),
  },
};

/** One part of a field: a value, a range, a stepped range or star, maybe biased to the field's end. */
function fieldPart(random: Random, shape: FieldShape): string {
  const { min, max } = shape;
  // Days 28-31 and the field's ends are where calendars go wrong.
  const pickValue = (): number =>
    random.chance(0.3) ? random.pick([min, max, Math.max(min, max - 1), Math.max(min, max - 2)]) : random.int(min, max);
  switch (random.int(0, 5)) {
    case 0:
      return shape.value(random, pickValue());
    case 1: {
      const from = pickValue();
      const to = random.chance(0.2) ? random.int(min, max) : random.int(from, max);
      return `${shape.value(random, from)}-${shape.value(random, to)}`;
    }
    case 2: {
      const from = pickValue();
      const to = random.int(from, max);
      return `${shape.value(random, from)}-${shape.value(random, to)}/${random.int(1, max - min + 2)}`;
    }
    case 3:
      return `*/${random.pick([1, 2, 3, 5, 7, 13, 15, random.int(1, max - min + 3)])}`;
    default:
      return '*';
  }
}

function crontabField(random: Random, name: string): string {
  const shape = FIELDS[name]!;
  const star = { minute: 0.15, hour: 0.35, day_of_week: 0.6, day_of_month: 0.6, month_of_year: 0.7 }[name]!;
  if (random.chance(star)) return '*';
  const parts = random.chance(0.3) ? random.int(2, 4) : 1;
  return Array.from({ length: parts }, () => fieldPart(random, shape)).join(',');
}

/** A reference instant, often an awkward one: a minute boundary, xx:59.999, a month or year end, Feb 29. */
export function awkwardInstant(random: Random): string {
  const year = random.pick([2024, 2025, 2026, 2027, 2028, 2030, 2100]);
  const base = Date.UTC(year, 0, 1) + random.next() * 366 * 86_400_000;
  let ms = Math.floor(base / 1000) * 1000;
  switch (random.int(0, 6)) {
    case 0:
      ms = Math.floor(ms / 60_000) * 60_000;
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

function crontabCase(random: Random): FuzzCase {
  const fields: Record<string, unknown> = {};
  for (const name of ['minute', 'hour', 'day_of_week', 'day_of_month', 'month_of_year']) {
    fields[name] = crontabField(random, name);
  }
  // Feb 29 and days a month lacks, on purpose.
  if (random.chance(0.08)) {
    fields['day_of_month'] = random.pick(['29', '30', '31', '29-31', '31', '30,31']);
    fields['month_of_year'] = random.pick(['2', '2,4', 'feb', '4,6,9,11', '2-4', '*']);
  }
  fields['timezone'] = random.pick(ZONES);
  return { schedule: { crontab: fields }, after: awkwardInstant(random), count: random.int(1, 6) };
}

function intervalCase(random: Random): FuzzCase {
  const period = random.pick(['microseconds', 'seconds', 'minutes', 'hours', 'days']);
  const every = random.pick([
    1,
    2,
    7,
    59,
    60,
    61,
    999,
    1000,
    1001,
    1500,
    86_400,
    999_999,
    random.int(1, 100),
    random.int(1, 100_000),
    random.int(1, 2_147_483_647),
  ]);
  return { schedule: { interval: { every, period } }, after: awkwardInstant(random), count: random.int(1, 5) };
}

const SOLAR_EVENTS = [
  'dawn_astronomical',
  'dawn_nautical',
  'dawn_civil',
  'sunrise',
  'solar_noon',
  'sunset',
  'dusk_civil',
  'dusk_nautical',
  'dusk_astronomical',
];

function solarCase(random: Random): FuzzCase {
  const polar = random.chance(0.35);
  const magnitude = polar ? 60 + random.next() * 30 : random.next() * 60;
  const latitude = Number(((random.chance(0.5) ? 1 : -1) * magnitude).toFixed(6));
  const longitude = Number((random.next() * 360 - 180).toFixed(6));
  const after = new Date(Date.UTC(random.int(2025, 2030), 0, 1) + random.next() * 365 * 86_400_000);
  return {
    schedule: { solar: { event: random.pick(SOLAR_EVENTS), latitude, longitude } },
    after: after.toISOString(),
    count: random.int(1, 3),
  };
}

function clockedCase(random: Random): FuzzCase {
  const after = awkwardInstant(random);
  const clocked = new Date(Date.parse(after) + random.pick([-1, 0, 1, 1000, 86_400_000, -86_400_000]));
  return { schedule: { clocked: { clocked_time: clocked.toISOString() } }, after, count: random.int(1, 3) };
}

/** Field texts that may or may not be valid: typos, bounds, Unicode digits, junk after a match. */
const ODD_PARTS = [
  '60',
  '24',
  '0',
  '32',
  '13',
  '7',
  '8',
  '-1',
  '*/0',
  '0-5/0',
  '1-',
  '-',
  '/5',
  '*/',
  'abc',
  '',
  ' ',
  ',',
  '1,,2',
  '1-5/2/3',
  '*/5x',
  '5x',
  ' 5',
  '5 ',
  '05',
  '5_0',
  '+5',
  '\u0663',
  '\uff15',
  '\u2460',
  'jan',
  'Mon',
  'monday',
  'sunflower',
  'L',
  '?',
  '1.5',
  '1e1',
  '0x5',
  '*/100',
  '59-0',
  '31-1',
  'sat-sun',
  'fri-mon',
  '5-7',
  '0-7',
  '7-2',
  'dec-feb',
  '1-12/5',
  '*,*',
  '2-2',
];

function oddCrontabCase(random: Random): FuzzCase {
  const base = crontabCase(random);
  const fields = base.schedule['crontab']!;
  const name = random.pick(['minute', 'hour', 'day_of_week', 'day_of_month', 'month_of_year']);
  const odd = random.pick(ODD_PARTS);
  fields[name] = random.chance(0.5) ? odd : `${String(fields[name])},${odd}`;
  base.count = Math.min(base.count, 2);
  return base;
}

/** `total` cases from `seed`, in a fixed mix of kinds. */
export function randomCases(seed: number, total: number): FuzzCase[] {
  const random = new Random(seed);
  const cases: FuzzCase[] = [];
  for (let index = 0; index < total; index++) {
    const roll = random.next();
    if (roll < 0.55) cases.push(crontabCase(random));
    else if (roll < 0.68) cases.push(oddCrontabCase(random));
    else if (roll < 0.83) cases.push(intervalCase(random));
    else if (roll < 0.97) cases.push(solarCase(random));
    else cases.push(clockedCase(random));
  }
  return cases;
}
