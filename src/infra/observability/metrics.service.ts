import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { FastHistogram } from './fast-histogram';

/**
 * How long one family's collect() may take on a scrape. Collectors that read Redis or MySQL
 * answer within this or keep their previous values, so /metrics never hangs on an outage.
 */
export const COLLECT_TIMEOUT_MS = 1000;

const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** gRPC call shapes, as in the .proto (`stream` on the request, the response, or both). */
export type GrpcCallType = 'unary' | 'client_stream' | 'server_stream' | 'bidi_stream';

/**
 * One family of a {@link MetricsService.families} table: a counter or a gauge (set by its owner;
 * a gauge that collects on scrape is declared with {@link MetricsService.gauge}).
 */
export type FamilySpec =
  | { counter: string; help: string; labels?: readonly string[] }
  | { gauge: string; help: string; labels?: readonly string[] };

type LabelsOf<F> = F extends { labels: readonly (infer L extends string)[] } ? L : never;

/** The families a table declares, by the names it gives them. */
export type Families<S extends Record<string, FamilySpec>> = {
  readonly [K in keyof S]: S[K] extends { counter: string } ? Counter<LabelsOf<S[K]>> : Gauge<LabelsOf<S[K]>>;
};

/**
 * The Prometheus registry of this process. Modules add their own metric families through
 * {@link counter}/{@link gauge}/{@link histogram}, or a table of them ({@link families}); names
 * are prefixed `shop_`. The families every instance exposes are listed in docs/observability.md.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  /** Observed once per HTTP request (app.factory's onResponse); prefer {@link observeHttp}. */
  readonly httpDuration: FastHistogram<'method' | 'route' | 'status'>;
  readonly grpcDuration: FastHistogram<'service' | 'method' | 'code' | 'type'>;

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'shop_' });
    this.httpDuration = new FastHistogram(
      'shop_http_request_duration_seconds',
      'HTTP request duration by route',
      ['method', 'route', 'status'],
      DURATION_BUCKETS,
      this.registry,
    );
    this.grpcDuration = new FastHistogram(
      'shop_grpc_request_duration_seconds',
      'gRPC call duration (streams: until their status is sent) by service, method, status code and call type',
      ['service', 'method', 'code', 'type'],
      DURATION_BUCKETS,
      this.registry,
    );
  }

  /**
   * Records one HTTP request: one string build and one Map lookup, no label object
   * (`route` is the route pattern, e.g. `/api/v1/products/:id`, never the raw URL).
   */
  observeHttp(method: string, route: string, status: number, seconds: number): void {
    // Same key as FastHistogram.observe() builds from {method, route, status}.
    const key = `${method}\u0001${route}\u0001${status}\u0001`;
    (
      this.httpDuration.find(key) ?? this.httpDuration.add(key, { method, route, status: String(status) })
    ).observe(seconds);
  }

  /** Records one finished gRPC call; `code` is the grpc status name (OK, NOT_FOUND, ...). */
  observeGrpc(service: string, method: string, code: string, type: GrpcCallType, seconds: number): void {
    const key = `${service}\u0001${method}\u0001${code}\u0001${type}\u0001`;
    (this.grpcDuration.find(key) ?? this.grpcDuration.add(key, { service, method, code, type })).observe(
      seconds,
    );
  }

  counter<L extends string>(name: string, help: string, labelNames: L[] = []): Counter<L> {
    return this.registered(name, () => new Counter({ name, help, labelNames, registers: [this.registry] }));
  }

  /**
   * A gauge; `collect` (optional) runs on every scrape to refresh it. It is bounded by
   * {@link COLLECT_TIMEOUT_MS} and its errors are swallowed: a collector that hangs or fails
   * leaves the gauge as it was instead of failing or stalling the whole scrape.
   */
  gauge<L extends string>(
    name: string,
    help: string,
    labelNames: L[] = [],
    collect?: (this: Gauge<L>) => void | Promise<void>,
  ): Gauge<L> {
    return this.registered(
      name,
      () =>
        new Gauge({
          name,
          help,
          labelNames,
          registers: [this.registry],
          ...(collect ? { collect: bounded(collect, COLLECT_TIMEOUT_MS) } : {}),
        }),
    );
  }

  histogram<L extends string>(
    name: string,
    help: string,
    labelNames: L[] = [],
    buckets?: number[],
  ): Histogram<L> {
    return this.registered(
      name,
      () =>
        new Histogram({
          name,
          help,
          labelNames,
          registers: [this.registry],
          buckets: buckets ?? DURATION_BUCKETS,
        }),
    );
  }

  /**
   * Counters and gauges declared as one table, each under the name its owner uses:
   * `families({ hits: { counter: 'shop_cache_hits_total', help: 'Cache hits by tier', labels: ['tier'] } })`
   * answers `{ hits: Counter<'tier'> }`. A class whose fields they are extends {@link MetricFamilies}.
   */
  families<const S extends Record<string, FamilySpec>>(specs: S): Families<S> {
    return Object.fromEntries(
      Object.entries(specs).map(([key, f]) => [
        key,
        'counter' in f
          ? this.counter(f.counter, f.help, [...(f.labels ?? [])])
          : this.gauge(f.gauge, f.help, [...(f.labels ?? [])]),
      ]),
    ) as Families<S>;
  }

  /** The family `name` as registered already (by another provider or instance of this one), else a new one. */
  private registered<M>(name: string, create: () => M): M {
    return (this.registry.getSingleMetric(name) as M | undefined) ?? create();
  }
}

/**
 * The base of a provider whose fields are the families of `specs` ({@link MetricsService.families}):
 * `class QueueMetrics extends MetricFamilies({ processed: { counter: …, help: …, labels: […] } })`
 * has `processed: Counter<…>`. A subclass with a constructor of its own passes MetricsService on.
 */
export function MetricFamilies<const S extends Record<string, FamilySpec>>(
  specs: S,
): new (metrics: MetricsService) => Families<S> {
  class WithFamilies {
    constructor(metrics: MetricsService) {
      Object.assign(this, metrics.families(specs));
    }
  }
  Reflect.defineMetadata('design:paramtypes', [MetricsService], WithFamilies);
  return WithFamilies as new (metrics: MetricsService) => Families<S>;
}

/** Wraps a collect callback: resolves when it does, after `ms`, or when it fails — never rejects. */
export function bounded<T>(
  collect: (this: T) => void | Promise<void>,
  ms: number,
): (this: T) => Promise<void> {
  return function (this: T) {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      timer.unref();
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      try {
        Promise.resolve(collect.call(this)).then(done, done);
      } catch {
        done();
      }
    });
  };
}
