import { type INestApplication, Logger, ValidationPipe, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { APP_CONFIG, type AppConfig, ConfigError } from '@usageguard/config';
import { Logger as PinoLogger } from 'nestjs-pino';
import { HttpExceptionFilter } from './http-exception.filter';

export interface HttpAppOptions {
  name: string;
  /** Picks this app's port from the validated configuration. */
  port: (config: AppConfig) => number;
  /** Runs before listen (swagger, static files, body limits). */
  configure?: (app: INestApplication, config: AppConfig) => void | Promise<void>;
}

/** The same HTTP plumbing for every app: pino logs, whitelisting validation, one error shape, graceful shutdown. */
export function configureHttpApp(app: INestApplication): void {
  app.useLogger(app.get(PinoLogger));
  app.useGlobalPipes(
    new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true, stopAtFirstError: false }),
  );
  app.useGlobalFilters(new HttpExceptionFilter());
  app.enableShutdownHooks();
}

export async function startHttpApp(module: Type<unknown>, options: HttpAppOptions): Promise<INestApplication> {
  const app = await NestFactory.create(module, { bufferLogs: true });
  const config = app.get<AppConfig>(APP_CONFIG);
  configureHttpApp(app);
  await options.configure?.(app, config);
  await app.listen(options.port(config), config.http.host);
  new Logger(options.name).log(`${options.name} listening on ${await app.getUrl()}`);
  return app;
}

/** Entry-point wrapper: a configuration error prints the bad variables and exits 1 without a stack trace. */
export function runMain(main: () => Promise<unknown>): void {
  main().catch((error: unknown) => {
    if (error instanceof ConfigError) {
      console.error(error.message);
    } else {
      console.error(error);
    }
    process.exit(1);
  });
}
