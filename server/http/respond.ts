// SCIM responses: application/scim+json bodies (RFC 7644 §3.1, §8.1) and the one renderer of
// error bodies (RFC 7644 §3.12: Error URN, status as a string, detail, scimType where defined).
import type { Response } from 'express';
import { ScimError } from '../errors';
import { ERROR_URN } from '../scim/urns';

export const SCIM_CONTENT_TYPE = 'application/scim+json; charset=utf-8';

export function sendScim(res: Response, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.status(status);
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  res.setHeader('Content-Type', SCIM_CONTENT_TYPE);
  res.send(JSON.stringify(body));
}

export function errorBody(err: ScimError): Record<string, unknown> {
  return {
    schemas: [ERROR_URN],
    status: String(err.status),
    ...(err.scimType ? { scimType: err.scimType } : {}),
    detail: err.message || 'Error',
    ...(err.fields ? { errors: err.fields } : {}),
  };
}

export function sendScimError(res: Response, err: ScimError): void {
  sendScim(res, err.status, errorBody(err), err.headers);
}
