import { MetricFamilies, MetricsService } from './metrics.service';

describe('MetricsService', () => {
  it('observeHttp and httpDuration.observe record into one series per label set', async () => {
    const m = new MetricsService();
    m.observeHttp('GET', '/api/v1/products/:id', 200, 0.002);
    m.httpDuration.observe({ method: 'GET', route: '/api/v1/products/:id', status: '200' }, 0.004);
    const text = await m.registry.metrics();
    expect(text.match(/^shop_http_request_duration_seconds_count.*$/gm)).toEqual([
      'shop_http_request_duration_seconds_count{method="GET",route="/api/v1/products/:id",status="200"} 2',
    ]);
  });

  it('observeGrpc labels by service, method, status name and call type', async () => {
    const m = new MetricsService();
    m.observeGrpc('shop.orders.v1.OrderService', 'GetOrder', 'NOT_FOUND', 'unary', 0.01);
    expect(await m.registry.metrics()).toContain(
      'shop_grpc_request_duration_seconds_count{service="shop.orders.v1.OrderService",method="GetOrder",code="NOT_FOUND",type="unary"} 1',
    );
  });

  it('a gauge whose collect never settles or throws does not stall or fail the scrape', async () => {
    const m = new MetricsService();
    m.gauge('shop_test_hanging', 'never answers', [], function () {
      this.set(1); // set before hanging: the value stays
      return new Promise<void>(() => undefined);
    });
    m.gauge('shop_test_failing', 'fails', [], () => Promise.reject(new Error('redis down')));
    m.gauge('shop_test_throwing', 'throws', [], () => {
      throw new Error('sync failure');
    });
    m.gauge('shop_test_ok', 'answers', ['k'], function () {
      this.set({ k: 'v' }, 7);
    });
    const text = await m.registry.metrics();
    expect(text).toContain('shop_test_hanging 1');
    expect(text).toContain('shop_test_ok{k="v"} 7');
    expect(text).toContain('# TYPE shop_test_failing gauge');
    expect(text).toContain('# TYPE shop_test_throwing gauge');
  });

  it('returns the registered family when asked twice for the same name', () => {
    const m = new MetricsService();
    expect(m.counter('shop_test_total', 'x', ['a'])).toBe(m.counter('shop_test_total', 'x', ['a']));
    expect(m.gauge('shop_test_g', 'x')).toBe(m.gauge('shop_test_g', 'x'));
  });

  it('declares a table of families; a MetricFamilies subclass has them as fields', async () => {
    class TestMetrics extends MetricFamilies({
      jobs: { counter: 'shop_test_jobs_total', help: 'jobs by outcome', labels: ['outcome'] },
      depth: { gauge: 'shop_test_depth', help: 'depth' },
    }) {}
    const m = new MetricsService();
    const t = new TestMetrics(m);
    t.jobs.inc({ outcome: 'ok' });
    t.depth.set(3);
    const text = await m.registry.metrics();
    expect(text).toContain(
      '# HELP shop_test_jobs_total jobs by outcome\n# TYPE shop_test_jobs_total counter',
    );
    expect(text).toContain('shop_test_jobs_total{outcome="ok"} 1');
    expect(text).toContain('# TYPE shop_test_depth gauge');
    expect(text).toContain('shop_test_depth 3');
    // A second instance shares the registered families.
    expect(new TestMetrics(m).jobs).toBe(t.jobs);
    expect(Reflect.getMetadata('design:paramtypes', TestMetrics)).toEqual([MetricsService]);
  });
});
