/**
 * Module boundaries of the modular monolith, checked by `npm run lint:deps` (part of npm test):
 * - no cycles;
 * - a domain module (src/<module>/) is used by others only through its public entry points:
 *   its `<module>.module.ts` and its `index.ts` (exported services, types, events);
 *   never its entities, repositories, migrations or internal services;
 * - infrastructure (src/infra, src/common) never imports a domain module.
 */
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
    {
      name: 'domain-through-public-api',
      severity: 'error',
      comment: 'Import another module only through its index.ts or its .module.ts.',
      from: { path: '^src/([^/]+)/' },
      to: {
        path: '^src/[^/]+/',
        pathNot: ['^src/$1/', '^src/(infra|common)/', '^src/[^/]+/index\\.ts$', '^src/[^/]+/[^/]+\\.module\\.ts$'],
      },
    },
    {
      name: 'infra-knows-no-domain',
      severity: 'error',
      from: { path: '^src/(infra|common)/' },
      to: { path: '^src/[^/]+/', pathNot: '^src/(infra|common)/' },
    },
    { name: 'no-test-code-in-src', severity: 'error', from: { path: '^src/' }, to: { path: '^test/' } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '\\.spec\\.ts$' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
