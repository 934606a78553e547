// Structured JSON logging (pino): one line per request with tenant, method, path, status and
// duration. Request and response headers are never logged, so Authorization, cookies and tokens
// cannot leak; query strings are dropped too (test/api/logging.test.ts proves it).
import pino, { Logger } from 'pino';
import pinoHttp from 'pino-http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LogLevel } from './config';

export function createLogger(level: LogLevel, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'provisio' },
      timestamp: pino.stdTimeFunctions.isoTime,
      // Belt and braces: should any caller log an object with these keys, they are censored.
      redact: {
        paths: ['authorization', 'password', 'token', '*.authorization', '*.password', '*.token', 'req.headers', 'res.headers'],
        censor: '[redacted]',
      },
    },
    destination,
  );
}

/** Request tenant, set by the SCIM router once the path names one. */
export interface Tagged {
  tenantId?: string;
}

export function requestLogger(logger: Logger) {
  return pinoHttp({
    logger,
    quietReqLogger: true,
    genReqId: (req) => (req.headers['x-request-id'] as string | undefined)?.slice(0, 100) || crypto.randomUUID(),
    customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'info' : 'info'),
    customSuccessMessage: () => 'request',
    customErrorMessage: () => 'request failed',
    customAttributeKeys: { responseTime: 'durationMs' },
    serializers: {
      req: (req: { method: string; url: string; id: string }) => ({ id: req.id, method: req.method, path: req.url.split('?')[0] }),
      res: (res: { statusCode: number }) => ({ status: res.statusCode }),
      err: (err: { message?: string; type?: string }) => ({ type: err.type, message: err.message }),
    },
    customProps: (req: IncomingMessage, _res: ServerResponse) => {
      const tenant = (req as IncomingMessage & Tagged).tenantId;
      return tenant ? { tenant } : {};
    },
  });
}
