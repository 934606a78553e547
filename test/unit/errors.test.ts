// The error family (server/errors.ts): every factory makes a (status, scimType) pair that
// RFC 7644 §3.12 Table 9 or RFC 9865 §2.1 defines, and a pair they do not define cannot be built.
import * as errors from '../../server/errors';
import { SCIM_TYPE_STATUS, ScimError } from '../../server/errors';

describe('error factories', () => {
  it.each([
    ['invalidFilter', errors.invalidFilter('x'), 400, 'invalidFilter'],
    ['invalidSyntax', errors.invalidSyntax('x'), 400, 'invalidSyntax'],
    ['invalidValue', errors.invalidValue('x'), 400, 'invalidValue'],
    ['invalidPath', errors.invalidPath('x'), 400, 'invalidPath'],
    ['noTarget', errors.noTarget('x'), 400, 'noTarget'],
    ['mutability', errors.mutability('x'), 400, 'mutability'],
    ['tooMany', errors.tooMany('x'), 400, 'tooMany'],
    ['invalidCursor (RFC 9865)', errors.invalidCursor('x'), 400, 'invalidCursor'],
    ['expiredCursor (RFC 9865)', errors.expiredCursor('x'), 400, 'expiredCursor'],
    ['invalidCount (RFC 9865)', errors.invalidCount('x'), 400, 'invalidCount'],
    ['uniqueness', errors.uniqueness('x'), 409, 'uniqueness'],
    ['bad request without a keyword', errors.badRequest('x'), 400, undefined],
    ['unauthorized', errors.unauthorized(), 401, undefined],
    ['forbidden', errors.forbidden('x'), 403, undefined],
    ['not found', errors.notFound(), 404, undefined],
    ['conflict of state', errors.conflict('x'), 409, undefined],
    ['too many requests', errors.tooManyRequests('x', 30), 429, undefined],
    ['internal', errors.internalError(), 500, undefined],
    ['unavailable', errors.unavailable(), 503, undefined],
  ])('%s', (_name, err, status, scimType) => {
    expect(err).toBeInstanceOf(ScimError);
    expect(err.status).toBe(status);
    expect(err.scimType).toBe(scimType);
    if (err.scimType) expect(SCIM_TYPE_STATUS[err.scimType]).toBe(err.status);
  });

  it('carries the headers its status needs', () => {
    expect(errors.unauthorized().headers['WWW-Authenticate']).toMatch(/^Bearer /);
    expect(errors.methodNotAllowed(['GET', 'POST']).headers.Allow).toBe('GET, POST');
    expect(errors.tooManyRequests('slow down', 42).headers['Retry-After']).toBe('42');
  });

  it.each([
    [409, 'invalidValue'],
    [400, 'uniqueness'],
    [400, 'sensitive'],
    [404, 'invalidFilter'],
  ] as const)('refuses %i with scimType %s, a pair no RFC defines', (status, scimType) => {
    expect(() => new ScimError(status, 'x', scimType)).toThrow(/RFC 7644 §3.12/);
  });

  it('refuses a status that is not an error', () => {
    expect(() => new ScimError(200, 'x')).toThrow(/4xx or 5xx/);
  });

  it('keeps another library’s 4xx and turns anything else into 400', () => {
    expect(errors.clientError(415, 'x').status).toBe(415);
    expect(errors.clientError(302, 'x').status).toBe(400);
  });
});
