/**
 * `npm run migration:run`: applies the migrations to DB_PRIMARY_URL, resolved like `npm run up`
 * resolves it (unset or naming the local infrastructure: this checkout's own local primary on
 * INFRA_MYSQL_PRIMARY_PORT, which must be running; a server another checkout started there is
 * refused). The build's `node dist/infra/database/migrate.js` (the Kubernetes Job) takes
 * DB_PRIMARY_URL as it is.
 */
import { appConfig } from '../src/infra/config/app-config';
import { runMigrations } from '../src/infra/database/migrate';
import { resolveLocalInfra } from './infra/infra-plan';
import { assertOwnInfra } from './infra/local-infra';

async function main(): Promise<void> {
  const infra = resolveLocalInfra({ dotenv: 'all' });
  await assertOwnInfra(infra.components.filter((c) => c === 'primary'));
  Object.assign(process.env, infra.env);
  const config = appConfig();
  console.log(`migrating ${config.db.primary.label}/${config.db.primary.database}`);
  await runMigrations(config.db.primary);
}

main().catch((err: Error) => {
  console.error(`migration failed: ${err.message}`);
  process.exit(1);
});
