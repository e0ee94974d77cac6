import type { Metric, Registry } from 'prom-client';

export type Labels<L extends string> = Record<L, string>;

/** One label set: per-bucket counts (not cumulative; the last slot is +Inf), sum and count. */
export class HistogramSeries {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    readonly labels: Readonly<Record<string, string>>,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && value > b[i]) i++;
    this.counts[i]++;
    this.sum += value;
    this.count++;
  }
}

interface ExportedValue {
  labels: Record<string, string | number>;
  sharedLabels?: Readonly<Record<string, string>>;
  value: number;
  metricName: string;
}

interface MetricData {
  name: string;
  help: string;
  type: string;
  aggregator: string;
  values: ExportedValue[];
}

/**
 * A Prometheus histogram for per-request paths. prom-client's Histogram validates and hashes
 * the label object on every observation (~0.8 µs here); this one finds the series by a key
 * the caller builds (or from the label values) in one Map lookup and bumps a typed array.
 * It renders exactly like prom-client's Histogram (`_bucket{le}`, `_sum`, `_count`) and is
 * registered in the same Registry, so /metrics is one document.
 */
export class FastHistogram<L extends string> {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly bounds: number[];
  private series = new Map<string, HistogramSeries>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly L[],
    buckets: readonly number[],
    registry: Registry,
  ) {
    this.bounds = [...buckets].sort((a, b) => a - b);
    registry.registerMetric(this as unknown as Metric);
  }

  /** prom-client compatible: `observe({ method, route, status }, seconds)`. */
  observe(labels: Partial<Record<L, string | number>>, value: number): void {
    let key = '';
    for (const n of this.labelNames) key += `${labels[n] ?? ''}\u0001`;
    let s = this.series.get(key);
    if (!s) {
      const named = {} as Record<string, string>;
      for (const n of this.labelNames) named[n] = String(labels[n] ?? '');
      s = this.add(key, named as Labels<L>);
    }
    s.observe(value);
  }

  /** The series under a key the caller built from its label values, if already created. */
  find(key: string): HistogramSeries | undefined {
    return this.series.get(key);
  }

  /** prom-client's metric interface, as Registry renders it (label sets shared by a series' lines). */
  getForPromString(): Promise<MetricData> {
    return Promise.resolve(this.data(this.values()));
  }

  /** prom-client's metric interface, as `registry.getMetricsAsJSON()` returns it (labels merged). */
  get(): Promise<MetricData> {
    const values = this.values().map(({ labels, sharedLabels, value, metricName }) => ({
      labels: { ...sharedLabels, ...labels },
      value,
      metricName,
    }));
    return Promise.resolve(this.data(values));
  }

  private data(values: ExportedValue[]): MetricData {
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** Creates the series for `key` (the caller guarantees one key per label set). */
  add(key: string, labels: Labels<L>): HistogramSeries {
    let s = this.series.get(key);
    if (!s) {
      s = new HistogramSeries(labels, this.bounds);
      this.series.set(key, s);
    }
    return s;
  }

  reset(): void {
    this.series = new Map();
  }

  /** The same values, in the same order and label layout, as prom-client's Histogram exports. */
  private values(): ExportedValue[] {
    const out: ExportedValue[] = [];
    const bucket = `${this.name}_bucket`;
    for (const s of this.series.values()) {
      let acc = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        acc += s.counts[i];
        out.push({ labels: { le: this.bounds[i] }, sharedLabels: s.labels, value: acc, metricName: bucket });
      }
      out.push({ labels: { le: '+Inf' }, sharedLabels: s.labels, value: s.count, metricName: bucket });
      out.push({ labels: {}, sharedLabels: s.labels, value: s.sum, metricName: `${this.name}_sum` });
      out.push({ labels: {}, sharedLabels: s.labels, value: s.count, metricName: `${this.name}_count` });
    }
    return out;
  }
}
