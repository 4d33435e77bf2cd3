// readByRanges gives exactly the pages an open-ended keyset query gives (every enabled id
// once, in order, `limit` at a time), over dense ids, gaps and sparse ids, and reads dense
// ids in one range a page.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { readByRanges, SpanHint } from '../../src/db/id-ranges.js';

/** A table of enabled ids, read as the range statement reads it; counts the reads. */
function table(ids: readonly number[]) {
  const sorted = [...ids].sort((a, b) => a - b);
  const calls: { after: number; upTo: number; limit: number }[] = [];
  return {
    calls,
    next: (after: number) => {
      calls.push({ after, upTo: after, limit: 1 });
      return Promise.resolve(sorted.find((id) => id > after) ?? null);
    },
    read: (after: number, upTo: number, limit: number) => {
      calls.push({ after, upTo, limit });
      return Promise.resolve(
        sorted
          .filter((id) => id > after && id <= upTo)
          .slice(0, limit)
          .map((id) => ({ id })),
      );
    },
  };
}

/** Every page from 0, as the loader asks for them: the next after the last id, until a short page. */
async function loadAll(ids: readonly number[], limit: number) {
  const t = table(ids);
  const hint = new SpanHint();
  const pages: number[][] = [];
  let afterId = 0;
  for (;;) {
    const page = await readByRanges(t.read, t.next, afterId, limit, hint);
    pages.push(page.map((row) => row.id));
    if (page.length < limit) break;
    afterId = page[page.length - 1]!.id;
  }
  return { pages, calls: t.calls };
}

const range = (from: number, to: number, step = 1) =>
  Array.from({ length: Math.floor((to - from) / step) + 1 }, (_, i) => from + i * step);

const cases: [string, number[]][] = [
  ['dense ids from 1', range(1, 1000)],
  ['every third id', range(3, 3000, 3)],
  ['a gap of a million ids in the middle', [...range(1, 300), ...range(1_000_000, 1_000_400)]],
  ['first id far from 0', range(5_000_000, 5_000_250)],
  ['ids spread far apart', range(1, 50).map((i) => i * 99_991)],
  ['one id', [42]],
  ['no ids', []],
];

for (const [name, ids] of cases) {
  test(`pages by ranges equal the keyset pages: ${name}`, async () => {
    const limit = 64;
    const { pages } = await loadAll(ids, limit);
    const expected: number[][] = [];
    for (let start = 0; start <= ids.length; start += limit) expected.push(ids.slice(start, start + limit));
    // The keyset loop stops at the first short page: an exact multiple ends with an empty one.
    assert.deepEqual(pages, expected);
  });
}

test('dense ids take one range read a page, sparse ones few more', async () => {
  const dense = await loadAll(range(1, 6400), 64);
  // 100 full pages and the empty last one; a page's range may hold more ids than it returns.
  assert.ok(
    dense.calls.length <= dense.pages.length + 2,
    `${dense.calls.length} reads for ${dense.pages.length} pages`,
  );
  const sparse = await loadAll(range(7, 64_000, 7), 64);
  assert.ok(
    sparse.calls.length <= 1.5 * sparse.pages.length + 5,
    `${sparse.calls.length} reads for ${sparse.pages.length} pages`,
  );
  // Gaps of any width are crossed by one probe each.
  const gaps = await loadAll([1, 2, 3, 1_000_000, 2_000_000_000, 2_000_000_001], 64);
  assert.ok(gaps.calls.length <= 10, `${gaps.calls.length} reads`);
  for (const call of [...dense.calls, ...sparse.calls]) assert.ok(call.upTo - call.after <= 64 * 64);
});
