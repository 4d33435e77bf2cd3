// Random crontab rows for the differential fuzzer: ranges, steps, lists, names,
// 7 = Sunday, days 29-31, many zones; and fields Celery may reject.

import { type Random, awkwardInstant } from './random.js';
import type { FuzzCase } from './random-cases.js';

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

/** A crontab case in a random zone at an awkward instant. */
export function crontabCase(random: Random): FuzzCase {
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
  // Long chains walk over month and year ends from run to run.
  const count = random.chance(0.2) ? random.int(7, 24) : random.int(1, 6);
  return { schedule: { crontab: fields }, after: awkwardInstant(random), count };
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

export function oddCrontabCase(random: Random): FuzzCase {
  const base = crontabCase(random);
  const fields = base.schedule['crontab']!;
  const name = random.pick(['minute', 'hour', 'day_of_week', 'day_of_month', 'month_of_year']);
  const odd = random.pick(ODD_PARTS);
  fields[name] = random.chance(0.5) ? odd : `${String(fields[name])},${odd}`;
  base.count = Math.min(base.count, 2);
  return base;
}
