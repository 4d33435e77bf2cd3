// Reads a /metrics answer with a real Prometheus text-format parser
// (parse-prometheus-text-format, a port of the Prometheus Python client's parser), so a
// test checks what a scraper would see, not what a regular expression finds.
import parsePrometheusTextFormat, { type ParsedFamily, type ParsedSample } from 'parse-prometheus-text-format';

export type { ParsedFamily, ParsedSample };

/** Parsed metric families by name. @throws when the text is not valid Prometheus text format */
export function parseMetrics(text: string): Map<string, ParsedFamily> {
  return new Map(parsePrometheusTextFormat(text).map((family) => [family.name, family]));
}

/** The value of the sample of `name` whose labels include `labels`; undefined when there is none. */
export function sampleValue(
  families: Map<string, ParsedFamily>,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const sample = findSample(families, name, labels);
  return sample?.value === undefined ? undefined : Number(sample.value);
}

/** The sum of every sample of `name` (a counter's total over its label values). */
export function sumOf(families: Map<string, ParsedFamily>, name: string): number {
  return (families.get(name)?.metrics ?? []).reduce((total, sample) => total + Number(sample.value ?? 0), 0);
}

/** A histogram's count, sum and cumulative buckets (upper bound to count). */
export function histogramOf(
  families: Map<string, ParsedFamily>,
  name: string,
  labels: Record<string, string> = {},
): { count: number; sum: number; buckets: Map<string, number> } | undefined {
  const sample = findSample(families, name, labels);
  if (sample === undefined) return undefined;
  return {
    count: Number(sample.count),
    sum: Number(sample.sum),
    buckets: new Map(Object.entries(sample.buckets ?? {}).map(([bound, count]) => [bound, Number(count)])),
  };
}

function findSample(
  families: Map<string, ParsedFamily>,
  name: string,
  labels: Record<string, string>,
): ParsedSample | undefined {
  return families
    .get(name)
    ?.metrics.find((sample) => Object.entries(labels).every(([key, value]) => sample.labels?.[key] === value));
}
