// Entry point: loadConfig → createDeps → createApp(deps).listen; SIGTERM/SIGINT drain in-flight
// requests, close the pool and exit 0 (docs/operations.md).
import type { Server } from 'node:http';
import { createApp } from './app';
import { ConfigError, loadConfig } from './config';
import { createDeps, Deps } from './deps';
import { createLogger } from './logger';
import { collectDefaultMetrics } from 'prom-client';
import { createMetricsApp } from './operator/metrics-router';

export interface Running {
  server: Server;
  /** The separate metrics listener, when METRICS_PORT is set. */
  metricsServer?: Server;
  deps: Deps;
  stop(): Promise<void>;
}

const OUTBOX_KEEP_MS = 30 * 86_400_000;

export async function start(): Promise<Running> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const deps = await createDeps(config, logger);
  const app = createApp(deps);
  const server = app.listen(config.port);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  logger.info({ port, publicUrl: config.publicUrl, database: deps.db.kind, operatorApi: !!config.operatorToken }, 'provisio listening');
  // Process metrics (CPU, memory, event loop, GC) on this instance's own registry.
  collectDefaultMetrics({ register: deps.metrics.registry, prefix: 'provisio_' });
  // METRICS_PORT: /metrics on its own listener without a token, bound to METRICS_HOST (127.0.0.1
  // unless the operator chooses), so it is reachable by the scraper's network only.
  let metricsServer: Server | undefined;
  if (config.metricsPort !== undefined) {
    const m = createMetricsApp({ metrics: deps.metrics, logger }).listen(config.metricsPort, config.metricsHost);
    await new Promise<void>((resolve, reject) => {
      m.once('listening', resolve);
      m.once('error', reject);
    });
    metricsServer = m;
    const a = m.address();
    logger.info({ host: config.metricsHost, port: typeof a === 'object' && a ? a.port : config.metricsPort }, 'metrics listening');
  }

  // Scheduled work: the sub-account purge, hourly (and once shortly after start). Several
  // instances may run it at once: each purge re-checks its row under a lock, so none is done twice.
  // Expired sessions go in the same hourly round (DbSessionStore.purgeExpired).
  const runPurge = () =>
    Promise.all([
      deps.jobs.purgeSubAccounts().catch((err) => logger.error({ err: { message: err?.message } }, 'sub-account purge failed')),
      deps.frontDoor.sessions.purgeExpired().catch((err) => logger.error({ err: { message: err?.message } }, 'session purge failed')),
      // Sent and failed mail is kept 30 days for operators, then deleted (docs/emails.md).
      deps.mail.outbox.purgeOld(deps.db.knex, new Date(Date.now() - OUTBOX_KEEP_MS)).catch((err) => logger.error({ err: { message: err?.message } }, 'outbox purge failed')),
      // The OAuth signing key is replaced once OAUTH_KEY_ROTATION_DAYS old; keys no longer published are forgotten.
      deps.jobs.maintainSigningKeys().catch((err) => logger.error({ err: { message: err?.message } }, 'signing key maintenance failed')),
    ]);
  const purgeTimer = setInterval(runPurge, 60 * 60 * 1000);
  purgeTimer.unref();
  setTimeout(runPurge, 30_000).unref();
  // The mail worker (docs/emails.md): polls the outbox; several instances share it safely.
  deps.mail.worker.start(config.mailPollMs);
  // The SCIM events push worker (docs/events.md): several instances share it safely too.
  deps.events.push.start(config.eventsPushPollMs);

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      logger.info('shutting down: no new connections, finishing in-flight requests');
      clearInterval(purgeTimer);
      // Stops polling now; a send in progress finishes (awaited below) before the pool closes.
      const mailStopped = Promise.all([deps.mail.worker.stop(), deps.events.push.stop()]);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      metricsServer?.close();
      metricsServer?.closeAllConnections();
      server.closeIdleConnections();
      const grace = new Promise<void>((resolve) => setTimeout(resolve, config.shutdownGraceMs).unref());
      await Promise.race([closed, grace]);
      server.closeAllConnections();
      await mailStopped;
      await deps.close();
      logger.info('stopped');
    })());
  return { server, metricsServer, deps, stop };
}

if (require.main === module) {
  start()
    .then((running) => {
      const onSignal = (signal: string) => {
        running.deps.logger.info({ signal }, 'signal received');
        running.stop().then(
          () => process.exit(0),
          (err) => {
            running.deps.logger.error({ err }, 'error during shutdown');
            process.exit(1);
          },
        );
      };
      process.once('SIGTERM', () => onSignal('SIGTERM'));
      process.once('SIGINT', () => onSignal('SIGINT'));
      // A stray rejection (e.g. a dropped database connection) is logged, never fatal.
      process.on('unhandledRejection', (reason) => running.deps.logger.error({ err: reason }, 'unhandled rejection'));
    })
    .catch((err) => {
      if (err instanceof ConfigError) {
        process.stderr.write(`provisio: configuration error: ${err.message}\n`);
        process.exit(2);
      }
      process.stderr.write(`provisio: failed to start: ${err?.stack ?? err}\n`);
      process.exit(1);
    });
}
