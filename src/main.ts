import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { createApp, grpcPort, listen } from './app.factory';
import { ConfigValidationError, loadConfig, loadDotEnv } from './infra/config/app-config';

async function bootstrap(): Promise<void> {
  let config;
  try {
    loadDotEnv();
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigValidationError) {
      // The message names every invalid variable.
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
  const app = await createApp(config);
  await listen(app, config);
  const logger = new Logger('Bootstrap');
  logger.log(`role=${config.role} http=:${config.port} grpc=:${grpcPort(app) ?? 'off'} docs=/docs`);

  // Bound the graceful drain: if closing hangs, exit anyway.
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      setTimeout(() => {
        logger.error(`shutdown did not finish within ${config.shutdownTimeoutMs} ms; exiting`);
        process.exit(1);
      }, config.shutdownTimeoutMs).unref();
    });
  }
}

bootstrap().catch((err: Error) => {
  console.error(`startup failed: ${err.stack ?? err.message}`);
  process.exit(1);
});
