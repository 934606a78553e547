// The one error family of the server: ScimError carries an HTTP status and, where RFC 7644 §3.12
// (Table 9) and RFC 9865 §2.1 define one, a scimType keyword. http/error-handler.ts renders it.

export type ScimType =
  | 'invalidFilter'
  | 'tooMany'
  | 'uniqueness'
  | 'mutability'
  | 'invalidSyntax'
  | 'invalidPath'
  | 'noTarget'
  | 'invalidValue'
  | 'invalidVers'
  | 'sensitive'
  | 'invalidCursor'
  | 'expiredCursor'
  | 'invalidCount';

export class ScimError extends Error {
  readonly status: number;
  readonly scimType?: ScimType;
  /** Extra response headers (e.g. WWW-Authenticate on 401, Allow on 405). */
  readonly headers: Record<string, string>;

  constructor(status: number, detail: string, scimType?: ScimType, headers: Record<string, string> = {}) {
    super(detail);
    this.name = 'ScimError';
    this.status = status;
    this.scimType = scimType;
    this.headers = headers;
  }
}

export const badRequest = (scimType: ScimType, detail: string) => new ScimError(400, detail, scimType);
export const invalidFilter = (detail: string) => badRequest('invalidFilter', detail);
export const invalidSyntax = (detail: string) => badRequest('invalidSyntax', detail);
export const invalidValue = (detail: string) => badRequest('invalidValue', detail);
export const invalidPath = (detail: string) => badRequest('invalidPath', detail);
export const noTarget = (detail: string) => badRequest('noTarget', detail);
export const mutability = (detail: string) => badRequest('mutability', detail);
export const tooMany = (detail: string) => badRequest('tooMany', detail);
export const invalidCursor = (detail: string) => badRequest('invalidCursor', detail);
export const expiredCursor = (detail: string) => badRequest('expiredCursor', detail);
export const invalidCount = (detail: string) => badRequest('invalidCount', detail);
export const uniqueness = (detail: string) => new ScimError(409, detail, 'uniqueness');
export const notFound = (detail = 'Resource not found') => new ScimError(404, detail);
export const unauthorized = (detail = 'A valid bearer token is required') =>
  new ScimError(401, detail, undefined, { 'WWW-Authenticate': 'Bearer realm="provisio"' });
export const forbidden = (detail: string) => new ScimError(403, detail);
export const methodNotAllowed = (allow: string[]) =>
  new ScimError(405, `Method not allowed here; allowed: ${allow.join(', ')}`, undefined, { Allow: allow.join(', ') });
export const preconditionFailed = (detail = 'The resource has changed (If-Match does not match its current version)') =>
  new ScimError(412, detail);
export const payloadTooLarge = (detail: string) => new ScimError(413, detail);
export const unavailable = (detail = 'The database is unavailable; try again shortly') => new ScimError(503, detail);
export const notImplemented = (detail: string) => new ScimError(501, detail);
