// The one error family of the server: ScimError carries an HTTP status and, where RFC 7644 §3.12
// (Table 9) and RFC 9865 §2.1 define one, a scimType keyword. Errors are made only by the
// factories below, one per (status, keyword) pair the server uses, and a pair the RFCs do not
// define is refused when the error is built (test/unit/errors.test.ts). http/error-handler.ts
// renders every one of them.

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

/** The status each keyword goes with: RFC 7644 §3.12 Table 9, and RFC 9865 §2.1 for the cursor ones. */
export const SCIM_TYPE_STATUS: Record<ScimType, number> = {
  invalidFilter: 400,
  tooMany: 400,
  uniqueness: 409,
  mutability: 400,
  invalidSyntax: 400,
  invalidPath: 400,
  noTarget: 400,
  invalidValue: 400,
  invalidVers: 400,
  sensitive: 403,
  invalidCursor: 400,
  expiredCursor: 400,
  invalidCount: 400,
};

/**
 * One field of a request body and what is wrong with it (docs/admin-api.md, "Field errors"):
 * `field` the top-level member a form names, `path` a JSON Pointer into the body (RFC 6901), `code`
 * a stable machine code (openapi/describe.ts for the schema's; handlers add their own, such as
 * `taken`), `detail` in English; `params` what a translated message interpolates (a length's
 * `limit`, an enumeration's `allowed`).
 */
export interface FieldError {
  field: string;
  detail: string;
  path?: string;
  code?: string;
  params?: Record<string, unknown>;
}

export class ScimError extends Error {
  readonly status: number;
  readonly scimType?: ScimType;
  /** Extra response headers (e.g. WWW-Authenticate on 401, Allow on 405, Retry-After on 429). */
  readonly headers: Record<string, string>;
  /** Per-field errors, rendered as `errors` beside `detail`, so a form can show each next to its field. */
  readonly fields?: FieldError[];

  constructor(status: number, detail: string, scimType?: ScimType, headers: Record<string, string> = {}, fields?: FieldError[]) {
    super(detail);
    if (!Number.isInteger(status) || status < 400 || status > 599) throw new Error(`ScimError status must be 4xx or 5xx, got ${status}`);
    if (scimType !== undefined && SCIM_TYPE_STATUS[scimType] !== status) throw new Error(`scimType "${scimType}" goes with ${SCIM_TYPE_STATUS[scimType]}, not ${status} (RFC 7644 §3.12)`);
    this.name = 'ScimError';
    this.status = status;
    this.scimType = scimType;
    this.headers = headers;
    if (fields?.length) this.fields = fields;
  }
}

const keyword = (scimType: ScimType) => (detail: string) => new ScimError(SCIM_TYPE_STATUS[scimType], detail, scimType);

export const invalidFilter = keyword('invalidFilter');
export const invalidSyntax = keyword('invalidSyntax');
export const invalidValue = keyword('invalidValue');
export const invalidPath = keyword('invalidPath');
export const noTarget = keyword('noTarget');
export const mutability = keyword('mutability');
export const tooMany = keyword('tooMany');
export const invalidCursor = keyword('invalidCursor');
export const expiredCursor = keyword('expiredCursor');
export const invalidCount = keyword('invalidCount');
export const uniqueness = keyword('uniqueness');

/** What the top-level `detail` says of one fault: a sentence ("name is required"), or the detail itself when it is one. */
function sentence(f: FieldError): string {
  if (/^[A-Z]/.test(f.detail) || f.detail.startsWith(`${f.field} `)) return f.detail;
  const subject = f.field === '(body)' ? 'The body' : f.path && f.path.split('/').length > 2 ? f.path.slice(1) : f.field;
  return `${subject} ${f.detail}`;
}

/** 400 invalidValue naming each field at fault (docs/admin-api.md, "Field errors"). */
export const invalidFields = (fields: FieldError[]) =>
  new ScimError(400, fields.length === 1 ? sentence(fields[0]) : `${fields.length} fields are not right: ${[...new Set(fields.map((f) => f.field))].join(', ')}`, 'invalidValue', {}, fields);
/** The same error, its status and keyword kept, pinned to one field of a form, with the code of the rule it broke. */
export const onField = (err: ScimError, field: string, code = err.status === 409 ? 'taken' : 'invalid') =>
  new ScimError(err.status, err.message, err.scimType, err.headers, [{ field, path: `/${field}`, code, detail: err.message }]);
/** A business rule of a handler broken by one field (a schema cannot say it): 400 invalidValue with the field, its code and detail. */
export const fieldRule = (field: string, code: string, detail: string, params?: Record<string, unknown>) =>
  invalidFields([{ field, path: field === '(body)' ? '' : `/${field}`, code, detail, ...(params ? { params } : {}) }]);

/** 400 without a keyword: the request is wrong in a way no keyword names (an aborted upload). */
export const badRequest = (detail: string) => new ScimError(400, detail);
export const unauthorized = (detail = 'A valid bearer token is required') =>
  new ScimError(401, detail, undefined, { 'WWW-Authenticate': 'Bearer realm="provisio"' });
export const forbidden = (detail: string) => new ScimError(403, detail);
export const notFound = (detail = 'Resource not found') => new ScimError(404, detail);
export const methodNotAllowed = (allow: string[]) =>
  new ScimError(405, `Method not allowed here; allowed: ${allow.join(', ')}`, undefined, { Allow: allow.join(', ') });
/** 409 without a keyword: the resource's state forbids the operation (RFC 9110 §15.5.10), not a uniqueness clash. */
export const conflict = (detail: string) => new ScimError(409, detail);
export const preconditionFailed = (detail = 'The resource has changed (If-Match does not match its current version)') =>
  new ScimError(412, detail);
export const payloadTooLarge = (detail: string) => new ScimError(413, detail);
export const unsupportedMediaType = (detail: string) => new ScimError(415, detail);
export const tooManyRequests = (detail: string, retryAfterSeconds: number) =>
  new ScimError(429, detail, undefined, { 'Retry-After': String(retryAfterSeconds) });
/** Another library's 4xx (body-parser, express): its status and message stand. */
export const clientError = (status: number, detail: string) => new ScimError(status >= 400 && status < 500 ? status : 400, detail);
/** 5xx details never carry internals: the log has them. */
export const internalError = () => new ScimError(500, 'Internal server error');
export const notImplemented = (detail: string) => new ScimError(501, detail);
export const unavailable = (detail = 'The database is unavailable; try again shortly') => new ScimError(503, detail);

/**
 * The error codes of an OAuth 2.0 token endpoint (RFC 6749 §5.2), plus temporarily_unavailable
 * (registered for the authorization endpoint, §4.1.2.1) for a client address that failed too
 * often. An OAuthError is a ScimError, so every handler converts it like any other; the token
 * endpoint (http/oauth-router.ts) renders it as RFC 6749 §5.2 JSON: {error, error_description}.
 */
export type OAuthErrorCode = 'invalid_request' | 'invalid_client' | 'invalid_grant' | 'unauthorized_client' | 'unsupported_grant_type' | 'invalid_scope' | 'temporarily_unavailable';

export class OAuthError extends ScimError {
  constructor(
    status: number,
    readonly error: OAuthErrorCode,
    description: string,
    headers: Record<string, string> = {},
  ) {
    super(status, description, undefined, headers);
    this.name = 'OAuthError';
  }
}

export const oauthInvalidRequest = (description: string) => new OAuthError(400, 'invalid_request', description);
/** RFC 6749 §5.2: 401 with WWW-Authenticate of the scheme the client may use (Basic, §2.3.1). */
export const oauthInvalidClient = (description = 'Client authentication failed') =>
  new OAuthError(401, 'invalid_client', description, { 'WWW-Authenticate': 'Basic realm="provisio", charset="UTF-8"' });
export const oauthUnsupportedGrantType = (description: string) => new OAuthError(400, 'unsupported_grant_type', description);
export const oauthInvalidScope = (description: string) => new OAuthError(400, 'invalid_scope', description);
/** RFC 6749 §5.2: a code or refresh token that is invalid, expired, revoked, used, or not this client's or this redirect URI's. */
export const oauthInvalidGrant = (description: string) => new OAuthError(400, 'invalid_grant', description);
/** RFC 6749 §5.2: the client is not registered for this grant type. */
export const oauthUnauthorizedClient = (description: string) => new OAuthError(400, 'unauthorized_client', description);
export const oauthTooManyFailures = (description: string, retryAfterSeconds: number) =>
  new OAuthError(429, 'temporarily_unavailable', description, { 'Retry-After': String(retryAfterSeconds) });
