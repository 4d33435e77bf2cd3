// "Did you mean …?" for mistyped task names: the closest name by edit distance
// (case-insensitive), if it is close enough to be a plausible typo.

/** Levenshtein distance between two strings (insertions, deletions, substitutions). */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
    }
    previous = current;
  }
  return previous[b.length]!;
}

/**
 * The name in `names` closest to `wanted`, or undefined when none is within a third
 * of the longer length (at least 2 edits). A name that contains `wanted` (or the
 * reverse) counts as close.
 */
export function closestName(wanted: string, names: Iterable<string>): string | undefined {
  const lower = wanted.toLowerCase();
  let best: string | undefined;
  let bestScore = Number.POSITIVE_INFINITY;
  for (const name of names) {
    const candidate = name.toLowerCase();
    const distance =
      candidate.includes(lower) || lower.includes(candidate)
        ? Math.abs(candidate.length - lower.length) * 0.5
        : editDistance(lower, candidate);
    const limit = Math.max(2, Math.ceil(Math.max(lower.length, candidate.length) / 3));
    if (distance <= limit && distance < bestScore) {
      best = name;
      bestScore = distance;
    }
  }
  return best;
}
