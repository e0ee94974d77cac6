import { clusterNodesFromUrl, redisOptionsFromUrl } from './redis-url';

const at = (host: string, port: number) => ({ host, port });

describe('redisOptionsFromUrl', () => {
  it('reads a single server, with credentials, database and TLS', () => {
    expect(redisOptionsFromUrl('redis://127.0.0.1:6380')).toEqual({ host: '127.0.0.1', port: 6380 });
    expect(redisOptionsFromUrl('rediss://app:s%40cret@cache.example:6390/2')).toEqual({
      host: 'cache.example',
      port: 6390,
      username: 'app',
      password: 's@cret',
      db: 2,
      tls: {},
    });
  });

  it('reads a Sentinel group: every sentinel, the master name, password and database', () => {
    expect(redisOptionsFromUrl('redis+sentinel://:pw@s1:26379,s2:26380,s3/mymaster/1')).toEqual({
      sentinels: [at('s1', 26379), at('s2', 26380), at('s3', 26379)],
      name: 'mymaster',
      password: 'pw',
      db: 1,
    });
  });

  it('rejects what it cannot use, saying why', () => {
    expect(() => redisOptionsFromUrl('redis+sentinel://s1:26379')).toThrow(/master-name/);
    expect(() => redisOptionsFromUrl('http://x')).toThrow(/redis:\/\//);
    expect(() => redisOptionsFromUrl('redis://h:1/x')).toThrow(/database/);
  });
});

describe('clusterNodesFromUrl', () => {
  it('reads the seed nodes and the password of a Redis Cluster, and nothing else', () => {
    expect(clusterNodesFromUrl('redis+cluster://:pw@n1:7000,n2:7001,n3')).toEqual({
      nodes: [at('n1', 7000), at('n2', 7001), at('n3', 6379)],
      options: { password: 'pw' },
    });
    expect(redisOptionsFromUrl('redis+cluster://n1:7000')).toEqual({});
    expect(clusterNodesFromUrl('redis://n1:7000')).toBeUndefined();
  });
});
