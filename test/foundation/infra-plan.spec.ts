import { planLocalInfra } from '../../scripts/infra/infra-plan';
import { infraEndpoints, type InfraConfig } from '../../scripts/infra/local-infra';

const ports: InfraConfig['ports'] = { primary: 3307, replica: 3308, redis: 6380, smtp: 1025, mailWeb: 1080 };
const endpoints = infraEndpoints({ repoRoot: '/r', localDir: '/r/.local', composeFile: '/r/c.yml', ports });
const plan = (env: NodeJS.ProcessEnv, mail?: boolean) => planLocalInfra(env, ports, endpoints, { mail });

describe('which local servers npm run up and the e2e setup start', () => {
  it('starts everything and points the app at it when the environment names no server', () => {
    expect(plan({})).toEqual({
      components: ['primary', 'replica', 'redis', 'mail'],
      env: {
        DB_PRIMARY_URL: 'mysql://shop:shop@127.0.0.1:3307/shop',
        DB_REPLICA_URLS: 'mysql://shop:shop@127.0.0.1:3308/shop',
        REDIS_URL: 'redis://127.0.0.1:6380',
        SMTP_URL: 'smtp://127.0.0.1:1025',
      },
    });
    expect(plan({}, false).components).toEqual(['primary', 'replica', 'redis']);
  });

  it('treats the URLs of .env.example (the local infrastructure itself) as "start it", so copying it to .env changes nothing', () => {
    const dotEnvExample = {
      DB_PRIMARY_URL: 'mysql://shop:shop@127.0.0.1:3307/shop',
      DB_REPLICA_URLS: 'mysql://shop:shop@127.0.0.1:3308/shop',
      REDIS_URL: 'redis://127.0.0.1:6380',
      SMTP_URL: 'smtp://127.0.0.1:1025',
    };
    expect(plan(dotEnvExample)).toEqual({ components: ['primary', 'replica', 'redis', 'mail'], env: {} });
    expect(plan({ REDIS_URL: 'redis://localhost:6380' }).components).toContain('redis');
  });

  it('starts nothing for a component whose URL names another server, and the rest as usual', () => {
    expect(plan({ REDIS_URL: 'redis://cache.internal:6379' })).toEqual({
      components: ['primary', 'replica', 'mail'],
      env: {
        DB_PRIMARY_URL: endpoints.primaryUrl,
        DB_REPLICA_URLS: endpoints.replicaUrls.join(','),
        SMTP_URL: endpoints.smtpUrl,
      },
    });
    expect(plan({ SMTP_URL: 'smtp://127.0.0.1:2525' }).components).toEqual(['primary', 'replica', 'redis']);
  });

  it('never pairs a server elsewhere with the local replica: without DB_REPLICA_URLS its reads go to that primary', () => {
    expect(plan({ DB_PRIMARY_URL: 'mysql://u:p@db.internal:3306/shop' })).toEqual({
      components: ['redis', 'mail'],
      env: { DB_REPLICA_URLS: '', REDIS_URL: endpoints.redisUrl, SMTP_URL: endpoints.smtpUrl },
    });
    const withReplicas = plan({
      DB_PRIMARY_URL: 'mysql://u:p@db.internal:3306/shop',
      DB_REPLICA_URLS: 'mysql://u:p@db-ro.internal:3306/shop',
    });
    expect(withReplicas.components).toEqual(['redis', 'mail']);
    expect(withReplicas.env).not.toHaveProperty('DB_REPLICA_URLS');
  });

  it('starts the local primary without a replica when DB_REPLICA_URLS is empty (reads on the primary)', () => {
    expect(plan({ DB_REPLICA_URLS: '' }, false)).toEqual({
      components: ['primary', 'redis'],
      env: { DB_PRIMARY_URL: endpoints.primaryUrl, REDIS_URL: endpoints.redisUrl },
    });
  });
});
