import { Injectable } from '@nestjs/common';
import type { Gauge } from 'prom-client';
import { MetricFamilies, MetricsService } from '../infra/observability/metrics.service';

export type PurchaseOutcome =
  | 'reserved'
  | 'sold_out'
  | 'sold_out_local'
  | 'already_purchased'
  | 'not_active'
  | 'paused'
  | 'not_found'
  | 'rate_limited';

/** The flash sale's Prometheus families. */
@Injectable()
export class FlashSaleMetrics extends MetricFamilies({
  purchases: {
    counter: 'shop_flash_sale_purchases_total',
    help: 'Flash-sale purchase attempts by outcome (sold_out_local: answered from the in-process flag)',
    labels: ['outcome'],
  },
  drift: {
    gauge: 'shop_flash_sale_drift',
    help: 'Units by which Redis counters and database reservations disagree, per sale (last reconciliation)',
    labels: ['sale'],
  },
  persisted: {
    counter: 'shop_flash_sale_orders_persisted_total',
    help: 'Reservations turned into orders by the stream consumer',
  },
  definitionReads: {
    counter: 'shop_flash_sale_definition_reads_total',
    help: 'Sale definitions read from the database (cache misses); found="false": the id names no sale (then remembered as unknown for a minute)',
    labels: ['found'],
  },
  rejected: {
    counter: 'shop_flash_sale_reservations_rejected_total',
    help:
      'Reservations answered 202 that got no order because Redis had lost acknowledged writes, by reason ' +
      '(SOLD_OUT: a unit already sold, LIMIT_REACHED: beyond the per-user limit, LOST: lost before persisted)',
    labels: ['reason'],
  },
  rebuilds: {
    counter: 'shop_flash_sale_rebuilds_total',
    help: "Rebuilds of a sale's Redis counters from MySQL, by trigger (redis-reset, fence, anomaly, missing, ...)",
    labels: ['reason'],
  },
}) {
  readonly streamLag: Gauge<'sale'>;
  /** Set by the consumer: computes the lag of the sales it consumes when /metrics is scraped. */
  lagSource?: () => Promise<Map<string, number>>;

  constructor(metrics: MetricsService) {
    super(metrics);
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    this.streamLag = metrics.gauge(
      'shop_flash_sale_stream_lag',
      'Reservations not yet turned into orders (pending + undelivered stream entries of the group), per sale',
      ['sale'],
      async function () {
        if (!self.lagSource) return;
        const lags = await self.lagSource().catch(() => undefined);
        if (!lags) return;
        this.reset();
        for (const [sale, lag] of lags) this.set({ sale }, lag);
      },
    );
  }
}
