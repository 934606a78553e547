// GET /metrics (issue 13, "Operators"; docs/operations.md, "Metrics"): the Prometheus text of
// this instance's registry (metrics/metrics.ts). On the main port it needs the operator token
// (Authorization: Bearer <OPERATOR_TOKEN>), like the operator API, and is absent without one.
// With METRICS_PORT set it is served instead on that separate listener without a token
// (main.ts binds it to METRICS_HOST, 127.0.0.1 unless the operator chooses), and the main port
// does not serve it. test/api/metrics.test.ts.
import express, { Router } from 'express';
import type { Logger } from 'pino';
import { notFound } from '../errors';
import { jsonErrorHandler } from '../http/error-handler';
import { handle } from '../http/handle';
import type { Metrics } from '../metrics/metrics';
import { operatorTokenCheck } from './operator-router';

export function createMetricsRouter(deps: { metrics: Metrics; logger: Logger; operatorToken?: string }): Router {
  const router = express.Router();
  if (deps.operatorToken) router.use('/metrics', operatorTokenCheck(deps.operatorToken));
  router.get(
    '/metrics',
    handle(async (_req, res) => {
      const { contentType, body } = await deps.metrics.render();
      res.set('Cache-Control', 'no-store').type(contentType).send(body);
    }),
  );
  router.use('/metrics', (req, _res, next) => next(notFound(`Nothing at ${req.method} ${req.originalUrl}`)));
  router.use('/metrics', jsonErrorHandler(deps.logger));
  return router;
}

/** The separate metrics listener's app (METRICS_PORT): /metrics only, no token. */
export function createMetricsApp(deps: { metrics: Metrics; logger: Logger }): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(createMetricsRouter(deps));
  app.use((req, res) => void res.status(404).type('text/plain').send(`Nothing at ${req.path}; this port serves /metrics only\n`));
  return app;
}
