/**
 * Local infrastructure CLI.
 *
 *   ts-node --transpile-only scripts/infra/cli.ts up     [--no-mail] [--only=a,b] [--json]
 *   ts-node --transpile-only scripts/infra/cli.ts down   [--purge] [--only=a,b]
 *   ts-node --transpile-only scripts/infra/cli.ts status [--json]
 *
 * Components: primary, replica, redis, mail (aliases: mysql-primary, mysql-replica, mailcatcher; mysql = both).
 * Ports: INFRA_MYSQL_PRIMARY_PORT (3307), INFRA_MYSQL_REPLICA_PORT (3308), INFRA_REDIS_PORT (6380),
 * INFRA_SMTP_PORT (1025), INFRA_MAIL_WEB_PORT (1080), from the environment or else .env (the same
 * resolver as every other command). INFRA_ENGINE=local|docker forces an engine.
 *
 * `status` reports a component `up` only when the server on its port is this checkout's own; a
 * server another checkout (or anything else) runs there is `foreign`, and says what it is.
 */
import { resolveLocalInfra } from './infra-plan';
import {
  COMPONENTS,
  Component,
  COMPOSE_SERVICE,
  infraDown,
  infraEndpoints,
  infraProbe,
  infraUp,
} from './local-infra';

function urlsOf(c: Component): string {
  const e = infraEndpoints();
  switch (c) {
    case 'primary':
      return e.primaryUrl;
    case 'replica':
      return e.replicaUrls.join(' ');
    case 'redis':
      return e.redisUrl;
    case 'mail':
      return `${e.smtpUrl}  ${e.mailWebUrl}`;
  }
}

function flag(args: string[], name: string): boolean {
  return args.includes(`--${name}`);
}

function option(args: string[], name: string): string | undefined {
  const i = args.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return undefined;
  return args[i].includes('=') ? args[i].slice(args[i].indexOf('=') + 1) : args[i + 1];
}

const USAGE =
  'usage: cli.ts up [--no-mail] [--only=a,b] [--json] | down [--purge] [--only=a,b] | status [--json]';

async function main(argv: string[]): Promise<number> {
  const [cmd, ...args] = argv;
  resolveLocalInfra(); // INFRA_* from .env, as every other command reads them
  const only = option(args, 'only')?.split(',');
  const log = (line: string) => console.log(`  · ${line}`);
  const name = (c: Component) => COMPOSE_SERVICE[c].padEnd(15);
  switch (cmd) {
    case 'up': {
      const t0 = Date.now();
      const res = await infraUp({
        log: flag(args, 'json') ? undefined : log,
        mail: !flag(args, 'no-mail'),
        only,
      });
      if (flag(args, 'json')) {
        console.log(JSON.stringify(res, null, 2));
        return 0;
      }
      console.log(`infra up (engine: ${res.engine}) in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
      for (const c of COMPONENTS) {
        const how = res.started.includes(c) ? 'started' : res.reused.includes(c) ? 'reused' : null;
        if (how) console.log(`  ${name(c)} ${how.padEnd(8)} ${urlsOf(c)}`);
      }
      return 0;
    }
    case 'down': {
      const t0 = Date.now();
      await infraDown({ log, only, purge: flag(args, 'purge') });
      console.log(
        `infra down${flag(args, 'purge') ? ' --purge' : ''} in ${((Date.now() - t0) / 1000).toFixed(1)}s`,
      );
      return 0;
    }
    case 'status': {
      const st = await infraProbe();
      if (flag(args, 'json')) {
        console.log(JSON.stringify(Object.fromEntries(COMPONENTS.map((c) => [c, st[c].state])), null, 2));
        return 0;
      }
      for (const c of COMPONENTS) {
        const p = st[c];
        console.log(`  ${name(c)} ${p.state.padEnd(9)} ${urlsOf(c)}`);
        if (p.state === 'foreign')
          console.log(`  ${''.padEnd(15)} ${''.padEnd(9)} not this checkout's: ${p.detail}`);
      }
      return 0;
    }
    default:
      console.error(USAGE);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`infra: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  },
);
