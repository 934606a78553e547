// The one error handler: every error thrown on any route ends here and becomes a SCIM error
// body (RFC 7644 §3.12) or, for non-SCIM routes, the same shape in plain JSON. Input problems
// are 4xx with a readable detail; a lost database is 503; anything else is 500 with no internals.
import type { ErrorRequestHandler } from 'express';
import type { Logger } from 'pino';
import { badRequest, clientError, internalError, invalidSyntax, invalidValue, payloadTooLarge, ScimError, unavailable, unsupportedMediaType } from '../errors';
import { isConnectionError } from '../store/db';
import { errorBody, sendScimError } from './respond';

/** Converts anything thrown into a ScimError (body-parser, database, programming errors). */
export function toScimError(err: unknown, logger: Logger): ScimError {
  if (err instanceof ScimError) return err;
  const e = err as { type?: string; status?: number; statusCode?: number; message?: string; limit?: number };
  if (e?.type === 'entity.too.large') return payloadTooLarge(`The request body is larger than the limit of ${e.limit} bytes`);
  if (e?.type === 'entity.parse.failed') return invalidSyntax('The request body is not valid JSON');
  if (e?.type === 'encoding.unsupported' || e?.type === 'charset.unsupported') {
    return unsupportedMediaType('Unsupported content encoding or charset; send UTF-8 JSON');
  }
  if (e?.type === 'request.aborted') return badRequest('The request was aborted by the client');
  // PostgreSQL class 22 (data exception): a value PostgreSQL cannot store, such as a NUL character
  // in text or a number out of range. The client's input, so 400 — never a 500.
  if (typeof (err as { code?: unknown })?.code === 'string' && /^22/.test((err as { code: string }).code)) {
    return invalidValue('A value in the request cannot be stored (for example a NUL character or a number out of range)');
  }
  if (isConnectionError(err)) {
    logger.warn({ err: { message: e?.message } }, 'database unavailable');
    return unavailable();
  }
  const status = e?.status ?? e?.statusCode;
  // Another library's 4xx (body-parser, express): its status stands, with its message.
  if (status && status >= 400 && status < 500) return clientError(status, e?.message || 'Bad request');
  logger.error({ err }, 'unexpected error');
  return internalError();
}

export function scimErrorHandler(logger: Logger): ErrorRequestHandler {
  return (err, _req, res, next) => {
    if (res.headersSent) return next(err);
    sendScimError(res, toScimError(err, logger));
  };
}

/** The same error shape for the operator API and other JSON routes, as application/json. */
export function jsonErrorHandler(logger: Logger): ErrorRequestHandler {
  return (err, _req, res, next) => {
    if (res.headersSent) return next(err);
    const e = toScimError(err, logger);
    for (const [k, v] of Object.entries(e.headers)) res.setHeader(k, v);
    res.status(e.status).json(errorBody(e));
  };
}
