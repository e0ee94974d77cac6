import { Histogram, Registry } from 'prom-client';
import { FastHistogram } from './fast-histogram';

const BUCKETS = [0.001, 0.01, 0.1, 1];
const OBSERVATIONS: [Record<'method' | 'route' | 'status', string>, number][] = [
  [{ method: 'GET', route: '/a/:id', status: '200' }, 0.0005],
  [{ method: 'GET', route: '/a/:id', status: '200' }, 0.001], // on a bound: counted in that bucket
  [{ method: 'GET', route: '/a/:id', status: '200' }, 0.05],
  [{ method: 'POST', route: '/b "quoted"\\', status: '409' }, 3], // above every bound: +Inf only
  [{ method: 'GET', route: '/a/:id', status: '404' }, 0.2],
];

describe('FastHistogram', () => {
  it('renders exactly what prom-client Histogram renders for the same observations', async () => {
    const reference = new Registry();
    const ours = new Registry();
    const h = new Histogram({
      name: 'x_seconds',
      help: 'help',
      labelNames: ['method', 'route', 'status'],
      buckets: BUCKETS,
      registers: [reference],
    });
    const f = new FastHistogram('x_seconds', 'help', ['method', 'route', 'status'], BUCKETS, ours);
    for (const [labels, v] of OBSERVATIONS) {
      h.observe(labels, v);
      f.observe(labels, v);
    }
    expect(await ours.metrics()).toBe(await reference.metrics());
    const json = async (r: Registry) =>
      (await r.getMetricsAsJSON()).map((m) => ({
        ...m,
        values: m.values.map(({ labels, value, metricName }: any) => ({ labels, value, metricName })),
      }));
    expect(await json(ours)).toEqual(await json(reference));
  });

  it('a caller-built key reaches the same series as the label object', async () => {
    const r = new Registry();
    const f = new FastHistogram('y_seconds', 'help', ['method', 'status'], BUCKETS, r);
    f.observe({ method: 'GET', status: 200 }, 0.5);
    const key = `GET\u0001${200}\u0001`;
    expect(f.find(key)?.count).toBe(1);
    (f.find(key) ?? f.add(key, { method: 'GET', status: '200' })).observe(0.5);
    expect(f.find(key)?.count).toBe(2);
    expect((await r.metrics()).match(/^y_seconds_count.*$/gm)).toEqual([
      'y_seconds_count{method="GET",status="200"} 2',
    ]);
  });

  it('reset() empties it, as registry.resetMetrics() expects', async () => {
    const r = new Registry();
    const f = new FastHistogram('z_seconds', 'help', ['a'], BUCKETS, r);
    f.observe({ a: '1' }, 0.1);
    r.resetMetrics();
    expect(await r.metrics()).toBe('# HELP z_seconds help\n# TYPE z_seconds histogram\n');
  });
});
