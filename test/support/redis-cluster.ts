/** The tests' Redis Cluster: the same private 3 + 3 cluster as `npm run infra:redis-cluster`. */
export {
  LocalRedisCluster as TestRedisCluster,
  type ClusterNodeInfo,
} from '../../scripts/infra/redis-cluster';
