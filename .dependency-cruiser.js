/**
 * Module boundaries of the modular monolith, checked by `npm run lint:deps` (part of npm test):
 * - no cycles;
 * - a domain module (src/<module>/) is used by others only through its public entry points:
 *   its `<module>.module.ts` and its `index.ts` (exported services, types, events);
 *   never its entities, repositories, migrations or internal services;
 * - infrastructure (src/infra, src/common) never imports a domain module;
 * - test/, scripts/ and bench/ (cruised too) hold to the same boundary: a domain module through
 *   its index.ts, its .module.ts or its testing.ts (the internals only tests, the seed and the
 *   bench may use); src/infra, src/common and the bootstrap files stay importable;
 * - no application code imports a testing.ts.
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
    {
      name: 'outside-src-through-public-api',
      severity: 'error',
      comment:
        "test/, scripts/ and bench/ use a module only through its index.ts, its .module.ts or, for what only tests need, its testing.ts.",
      from: { path: '^(test|scripts|bench)/' },
      to: {
        path: '^src/[^/]+/',
        pathNot: [
          '^src/(infra|common)/',
          '^src/[^/]+/index\\.ts$',
          '^src/[^/]+/[^/]+\\.module\\.ts$',
          '^src/[^/]+/testing\\.ts$',
        ],
      },
    },
    {
      name: 'testing-exports-stay-out-of-src',
      severity: 'error',
      comment: "A module's testing.ts is for test/, scripts/ and bench/: application code never imports it.",
      from: { path: '^src/' },
      to: { path: '^src/[^/]+/testing\\.ts$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Unit specs beside the code test their own module's internals; test/'s specs are checked.
    exclude: { path: '^src/.*\\.spec\\.ts$' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
