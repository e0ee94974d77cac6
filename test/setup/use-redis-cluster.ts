/**
 * Setup file of the `e2e-cluster` jest project: every suite of that project talks to the Redis
 * Cluster the global setup started (3 masters + 3 replicas, AOF, private ports) instead of the
 * single Redis. Jest gives each test file its own copy of process.env, so the other project's
 * suites keep the single Redis.
 */
const url = process.env.TEST_REDIS_CLUSTER_URL;
if (!url) throw new Error('TEST_REDIS_CLUSTER_URL is not set: the e2e global setup starts the Redis Cluster');
process.env.REDIS_URL = url;
