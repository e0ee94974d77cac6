/**
 * Two tiers: `unit` (specs beside the code, plus offline checks under test/ such as the deploy
 * manifests) and `e2e` (the real app against real MySQL primary/replica, Redis and SMTP, which
 * test/setup/global-setup.ts starts with the project's own infra script when env names none).
 */
const base = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': ['ts-jest', { diagnostics: false }],
  },
  moduleFileExtensions: ['ts', 'js', 'json'],
};

/** Suites run a second time against a Redis Cluster (project e2e-cluster). */
const CLUSTER_SUITES = [
  'test/flash-sale/flash-sale.e2e-spec.ts',
  'test/flash-sale/flash-sale-scripts.e2e-spec.ts',
  'test/flash-sale/unknown-sale.e2e-spec.ts',
  'test/orders/orders.e2e-spec.ts',
  'test/catalog/catalog.e2e-spec.ts',
  'test/catalog/catalog-fence.e2e-spec.ts',
  'test/commerce/cart.e2e-spec.ts',
  'test/users/throttling.e2e-spec.ts',
  'test/users/queue-board.e2e-spec.ts',
];

module.exports = {
  testTimeout: 60000,
  projects: [
    {
      ...base,
      displayName: 'unit',
      roots: ['<rootDir>/src', '<rootDir>/test'],
      testMatch: ['**/*.spec.ts'],
      testPathIgnorePatterns: ['/node_modules/', '\\.e2e-spec\\.ts$'],
    },
    {
      ...base,
      displayName: 'e2e',
      roots: ['<rootDir>/test'],
      testMatch: ['**/*.e2e-spec.ts'],
      globalSetup: '<rootDir>/test/setup/global-setup.ts',
      globalTeardown: '<rootDir>/test/setup/global-teardown.ts',
      slowTestThreshold: 30,
    },
    {
      // The same flash-sale, orders, cache, cart, throttling and queue suites again, with REDIS_URL
      // naming a private Redis Cluster of 3 masters + 3 replicas that the global setup starts
      // (test/setup/use-redis-cluster.ts; decision 0025). Suites that cut a single Redis off
      // (FaultProxy) or list its keys with KEYS stay single-Redis suites.
      ...base,
      displayName: 'e2e-cluster',
      roots: ['<rootDir>/test'],
      testMatch: CLUSTER_SUITES.map((s) => `<rootDir>/${s}`),
      setupFiles: ['<rootDir>/test/setup/use-redis-cluster.ts'],
      globalSetup: '<rootDir>/test/setup/global-setup.ts',
      globalTeardown: '<rootDir>/test/setup/global-teardown.ts',
      slowTestThreshold: 30,
    },
  ],
};
