// Structured JSON logging (pino): one line per request with tenant, method, path, status and
// duration. Request and response headers are never logged, so Authorization, cookies and tokens
// cannot leak; query strings are dropped too (test/api/process.test.ts proves it).
import pino, { Logger } from 'pino';
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

/**
 * One line per request when the response ends (docs/operations.md, "Logs"):
 * `{reqId, req: {id, method, path}, tenant, res: {status}, durationMs, msg: "request"}` at info, or
 * at error with `msg: "request failed"` and a short `err` for status 500 and above. The same
 * line pino-http wrote, without its two or three child loggers per request, which it built even
 * with the level off: 8 % less CPU per userName lookup (docs/performance.md). Nothing is built
 * when the level is disabled.
 */
export function requestLogger(logger: Logger) {
  return (req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    const start = Date.now();
    // Read now (routers rewrite req.url on the way), turned into the line's fields only when a
    // line is written: with `info` off, a request allocates no id and no path (docs/performance.md
    // "Cheaper reads (issue 12)"). test/api/process.test.ts reads the line.
    const url = req.url ?? '';
    const method = req.method;
    let logged = false;
    const done = () => {
      if (logged) return;
      logged = true;
      res.removeListener('finish', done);
      res.removeListener('close', done);
      const failed = res.statusCode >= 500;
      if (!logger.isLevelEnabled(failed ? 'error' : 'info')) return;
      const header = req.headers['x-request-id'];
      const id = (typeof header === 'string' && header.slice(0, 100)) || crypto.randomUUID();
      const q = url.indexOf('?');
      const path = q === -1 ? url : url.slice(0, q);
      const tenant = (req as IncomingMessage & Tagged).tenantId;
      const line = {
        reqId: id,
        req: { id, method, path },
        ...(tenant ? { tenant } : {}),
        res: { status: res.statusCode },
        ...(failed ? { err: { message: `failed with status code ${res.statusCode}` } } : {}),
        durationMs: Date.now() - start,
      };
      if (failed) logger.error(line, 'request failed');
      else logger.info(line, 'request');
    };
    res.on('finish', done);
    res.on('close', done);
    next();
  };
}
