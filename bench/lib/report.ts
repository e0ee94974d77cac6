// vega and vega-lite ship ESM only; load them with a real dynamic import from this CommonJS script.
const esm = new Function('m', 'return import(m)') as <T>(m: string) => Promise<T>;

interface Row {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  serverCpu?: number;
  loadCpu?: number;
  othersCpu?: { worker?: number; mysql?: number; redis?: number };
  baseline?: string;
  baselineRps?: number;
  ratio?: number;
  target?: number;
  note?: string;
}

const pct = (n?: number) => (n === undefined ? '—' : `${n}%`);
const others = (o?: Row['othersCpu']) => (o ? `${pct(o.worker)} / ${pct(o.mysql)} / ${pct(o.redis)}` : '—');

/** A markdown table and an SVG chart (ratio to baseline, p99) rendered by vega in Node, no browser. */
export async function renderReport(
  meta: Record<string, unknown>,
  rows: Row[],
): Promise<{ markdown: string; svg: string }> {
  const lines = [
    `Benchmark ${String(meta.date).slice(0, 10)} — ${meta.cpus} cores, ${meta.node}, ${meta.durationSec}s per scenario, ${meta.connections} connections, pool ${meta.pool}${meta.quick ? ' (quick)' : ''}`,
    '',
    '| scenario | req/s | p50 ms | p99 ms | errors | non-2xx | server CPU | worker / MySQL / Redis CPU | load-gen CPU | baseline | ratio | target |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.name} | ${r.rps} | ${r.p50} | ${r.p99} | ${r.errors} | ${r.non2xx} | ${r.serverCpu !== undefined ? `${r.serverCpu}%` : '—'} | ${others(r.othersCpu)} | ${r.loadCpu !== undefined ? `${r.loadCpu}%` : '—'} | ${r.baseline ? `${r.baseline.replace(/^baseline: /, '')}${r.baselineRps ? ` (${r.baselineRps} around it)` : ''}` : '—'} | ${r.ratio ?? '—'} | ${r.target ? `≥ ${r.target}` : '—'} |`,
    ),
    '',
    ...rows.filter((r) => r.note).map((r) => `- ${r.name}: ${r.note}`),
    ...(meta.seed ? [`- data: ${meta.seed}`] : []),
  ];
  const data = rows
    .filter((r) => r.ratio !== undefined)
    .map((r) => ({ scenario: r.name, ratio: r.ratio, target: r.target ?? null, p99: r.p99 }));
  const spec: Record<string, unknown> = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: `nest-commerce: throughput as a ratio of its baseline (same run, ${meta.cpus} cores)`,
    data: { values: data },
    hconcat: [
      {
        width: 360,
        height: { step: 22 },
        layer: [
          {
            mark: 'bar',
            encoding: {
              y: { field: 'scenario', type: 'nominal', sort: null, title: null },
              x: { field: 'ratio', type: 'quantitative', title: 'req/s ÷ baseline req/s' },
            },
          },
          {
            mark: { type: 'tick', color: 'red', thickness: 2 },
            encoding: {
              y: { field: 'scenario', type: 'nominal', sort: null },
              x: { field: 'target', type: 'quantitative' },
            },
          },
          {
            mark: { type: 'text', align: 'left', dx: 3 },
            encoding: {
              y: { field: 'scenario', type: 'nominal', sort: null },
              x: { field: 'ratio', type: 'quantitative' },
              text: { field: 'ratio' },
            },
          },
        ],
      },
      {
        width: 220,
        height: { step: 22 },
        mark: { type: 'bar', color: '#e45756' },
        encoding: {
          y: { field: 'scenario', type: 'nominal', sort: null, axis: null },
          x: { field: 'p99', type: 'quantitative', title: 'p99 latency (ms)' },
        },
      },
    ],
  };
  const vega = await esm<typeof import('vega')>('vega');
  const vegaLite = await esm<{ compile: (s: unknown) => { spec: unknown } }>('vega-lite');
  const view = new vega.View(vega.parse(vegaLite.compile(spec).spec as Parameters<typeof vega.parse>[0]), {
    renderer: 'none',
  });
  const svg = await view.toSVG();
  view.finalize();
  return { markdown: lines.join('\n') + '\n', svg };
}
