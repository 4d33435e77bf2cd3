// The zone of MySQL's naive DATETIMEs (--db-timezone): exact instants, including the hour
// that repeats when clocks fall back and the one skipped when they spring forward.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { NaiveTimeZone, UnknownTimeZoneError } from '../../src/db/mysql/naive-time.js';

const iso = (ms: number) => new Date(ms).toISOString();

describe('NaiveTimeZone', () => {
  test('UTC (Django USE_TZ = True): the text is the instant; microseconds are cut to ms', () => {
    const utc = new NaiveTimeZone('UTC');
    assert.equal(iso(utc.toEpochMs('2026-11-30 21:15:00.123999')), '2026-11-30T21:15:00.123Z');
    assert.equal(utc.fromEpochMs(Date.parse('2026-11-30T21:15:00.5Z')), '2026-11-30 21:15:00.500000');
  });

  test('a local zone (Django USE_TZ = False, TIME_ZONE = Asia/Shanghai): 21:15 local is 13:15Z', () => {
    const shanghai = new NaiveTimeZone('Asia/Shanghai');
    assert.equal(iso(shanghai.toEpochMs('2026-11-30 21:15:00')), '2026-11-30T13:15:00.000Z');
    assert.equal(shanghai.fromEpochMs(Date.parse('2026-11-30T13:15:00Z')), '2026-11-30 21:15:00.000000');
  });

  test('America/New_York, 2026-11-01: the repeated 01:30 is read as its first pass (EDT), as Python fold=0', () => {
    const newYork = new NaiveTimeZone('America/New_York');
    assert.equal(iso(newYork.toEpochMs('2026-11-01 01:30:00')), '2026-11-01T05:30:00.000Z');
    // Both passes are written as the same wall time, so the second reads back an hour early.
    assert.equal(newYork.fromEpochMs(Date.parse('2026-11-01T05:30:00Z')), '2026-11-01 01:30:00.000000');
    assert.equal(newYork.fromEpochMs(Date.parse('2026-11-01T06:30:00Z')), '2026-11-01 01:30:00.000000');
    // Either side of the repeated hour there is no doubt.
    assert.equal(iso(newYork.toEpochMs('2026-11-01 00:59:59')), '2026-11-01T04:59:59.000Z');
    assert.equal(iso(newYork.toEpochMs('2026-11-01 02:00:00')), '2026-11-01T07:00:00.000Z');
  });

  test('America/New_York, 2026-03-08: the skipped 02:30 is read with the offset before the gap (03:30 EDT)', () => {
    const newYork = new NaiveTimeZone('America/New_York');
    assert.equal(iso(newYork.toEpochMs('2026-03-08 02:30:00')), '2026-03-08T07:30:00.000Z');
    assert.equal(iso(newYork.toEpochMs('2026-03-08 03:30:00')), '2026-03-08T07:30:00.000Z');
  });

  test('a 30-minute transition (Australia/Lord_Howe) is handled the same way', () => {
    const lordHowe = new NaiveTimeZone('Australia/Lord_Howe');
    assert.equal(iso(lordHowe.toEpochMs('2026-04-05 01:45:00')), '2026-04-04T14:45:00.000Z'); // first pass, +11
    assert.equal(iso(lordHowe.toEpochMs('2026-10-04 02:15:00')), '2026-10-03T15:45:00.000Z'); // in the gap
  });

  test('an unknown zone is refused with its name; a non-DATETIME text names the text', () => {
    assert.throws(
      () => new NaiveTimeZone('Mars/Olympus'),
      (error: unknown) => error instanceof UnknownTimeZoneError && /Mars\/Olympus/.test(error.message),
    );
    assert.throws(() => new NaiveTimeZone('UTC').toEpochMs('yesterday'), /not a DATETIME: "yesterday"/);
  });
});

test('toEpochMs reads exactly the texts the DATETIME pattern matches, as Date.UTC of their fields', () => {
  // The reading before it was made character by character: a regular expression.
  const pattern = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?$/;
  const reference = (text: string): number | null => {
    const match = pattern.exec(text);
    if (match === null) return null;
    const [, y, mo, d, h, mi, s, frac] = match;
    const ms = frac === undefined ? 0 : Math.floor(+frac.padEnd(6, '0') / 1000);
    return Date.UTC(+y!, +mo! - 1, +d!, +h!, +mi!, +s!, ms);
  };
  const utc = new NaiveTimeZone('UTC');
  const texts = [
    '2026-11-30 15:00:00',
    '2026-11-30T15:00:00.1',
    '2026-11-30 15:00:00.123456',
    '2026-11-30 15:00:00.999999',
    '0099-01-01 00:00:00.5',
    '1969-12-31 23:59:59.999',
    '2026-13-40 25:61:61.0001',
    '2026-11-30 15:00:00.',
    '2026-11-30 15:00:00.1234567',
    '2026-11-30  15:00:00',
    '2026/11/30 15:00:00',
    '2026-11-30 15:00',
    '2026-11-3a 15:00:00',
    '２026-11-30 15:00:00',
    '',
  ];
  // And random texts over the characters that matter, of the lengths that matter.
  const alphabet = '0123456789-: T.x';
  let seed = 7;
  const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
  for (let i = 0; i < 5000; i++) {
    const base = [...'2026-11-30 15:00:00.123456'].slice(0, 19 + Math.floor(random() * 8));
    const changes = Math.floor(random() * 3);
    for (let c = 0; c < changes; c++) base[Math.floor(random() * base.length)] = alphabet[Math.floor(random() * 16)]!;
    texts.push(base.join(''));
  }
  for (const text of texts) {
    const expected = reference(text);
    if (expected === null) assert.throws(() => utc.toEpochMs(text), /not a DATETIME/, text);
    else assert.equal(utc.toEpochMs(text), expected, text);
  }
});
