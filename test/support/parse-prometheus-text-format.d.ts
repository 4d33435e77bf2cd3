// Types for parse-prometheus-text-format 1.1.1 (it ships none), after its README: the
// output of prom2json, every number kept as the text it was written as.
declare module 'parse-prometheus-text-format' {
  export interface ParsedSample {
    value?: string;
    labels?: Record<string, string>;
    /** Histograms: upper bound ("0.5", "+Inf") to cumulative count. */
    buckets?: Record<string, string>;
    /** Summaries: quantile to value. */
    quantiles?: Record<string, string>;
    count?: string;
    sum?: string;
  }
  export interface ParsedFamily {
    name: string;
    help: string;
    type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED';
    metrics: ParsedSample[];
  }
  /** @throws InvalidLineError on a line that is not Prometheus text format */
  export default function parsePrometheusTextFormat(text: string): ParsedFamily[];
}
