// parseListQuery / parseSearchRequest (server/scim/list-query.ts): query parameters of a GET list
// and the body of POST /.search (RFC 7644 §3.4.2, §3.4.3), index paging clamped per
// RFC 7644 §3.4.2.4, cursor paging per RFC 9865 §2.
import { ListQuery, PagingLimits, parseListQuery, parseSearchRequest } from '../../server/scim/list-query';
import { ScimType } from '../../server/errors';
import { expectScimError } from './helpers';

const LIMITS: PagingLimits = { defaultPageSize: 100, maxPageSize: 1000 };
const SEARCH = 'urn:ietf:params:scim:api:messages:2.0:SearchRequest';
const q = (query: Record<string, unknown>) => parseListQuery(query, LIMITS);

describe('defaults', () => {
  it('an empty query: first page of the default size, ascending', () => {
    expect(q({})).toEqual({
      filter: undefined,
      sortBy: undefined,
      sortOrder: 'ascending',
      startIndex: 1,
      count: 100,
      attributes: undefined,
      excludedAttributes: undefined,
    });
  });
});

describe('index paging clamps per RFC 7644 §3.4.2.4', () => {
  it.each<[string, Record<string, unknown>, Pick<ListQuery, 'startIndex' | 'count'>]>([
    ['Okta test connection: startIndex=1&count=2', { startIndex: '1', count: '2' }, { startIndex: 1, count: 2 }],
    ['startIndex 0 is 1 ("less than 1 SHALL be interpreted as 1")', { startIndex: '0' }, { startIndex: 1, count: 100 }],
    ['negative startIndex is 1', { startIndex: '-7' }, { startIndex: 1, count: 100 }],
    ['count 0: no resources, only totalResults', { count: '0' }, { startIndex: 1, count: 0 }],
    ['negative count is 0 ("negative value SHALL be interpreted as 0")', { count: '-5' }, { startIndex: 1, count: 0 }],
    ['count above the maximum is the maximum', { count: '5000' }, { startIndex: 1, count: 1000 }],
    ['count at the maximum', { count: '1000' }, { startIndex: 1, count: 1000 }],
    ['surrounding spaces are tolerated', { startIndex: ' 3 ', count: ' 4 ' }, { startIndex: 3, count: 4 }],
    ['empty values mean absent', { startIndex: '', count: '' }, { startIndex: 1, count: 100 }],
    ['a startIndex beyond any database offset is capped, not a database error', { startIndex: '99999999999999999999999' }, { startIndex: Number.MAX_SAFE_INTEGER, count: 100 }],
    ['a huge count is the maximum', { count: '99999999999999999999999' }, { startIndex: 1, count: 1000 }],
  ])('%s', (_note, query, expected) => {
    expect(q(query)).toMatchObject(expected);
    expect(q(query).cursor).toBeUndefined();
  });

  it.each<[string, Record<string, unknown>]>([
    ['decimal count', { count: '1.5' }],
    ['word count', { count: 'ten' }],
    ['decimal startIndex', { startIndex: '2.0' }],
    ['hex startIndex', { startIndex: '0x10' }],
    ['count given twice', { count: ['1', '2'] }],
    ['count as an object (qs nesting)', { count: { a: '1' } }],
  ])('non-integers are 400 invalidValue: %s', (_note, query) => {
    expectScimError(() => q(query), 400, 'invalidValue');
  });
});

describe('parameter names are case-insensitive (RFC 7644 §3.4.2; Entra and Okta differ in case)', () => {
  it('all parameters in odd case', () => {
    expect(
      q({ FILTER: 'userName eq "a"', SortBy: 'userName', SORTORDER: 'Descending', STARTINDEX: '2', Count: '3', ATTRIBUTES: 'userName,emails' }),
    ).toEqual({
      filter: 'userName eq "a"',
      sortBy: 'userName',
      sortOrder: 'descending',
      startIndex: 2,
      count: 3,
      attributes: ['userName', 'emails'],
      excludedAttributes: undefined,
    });
  });

  it('excludedattributes in lower case (Entra: excludedAttributes=members)', () => {
    expect(q({ excludedattributes: 'members' }).excludedAttributes).toEqual(['members']);
  });
});

describe('filter, sortBy, sortOrder, attributes', () => {
  it.each<[string, Record<string, unknown>, Partial<ListQuery>]>([
    ['filter kept verbatim (parsed later)', { filter: 'userName eq "Bob"' }, { filter: 'userName eq "Bob"' }],
    ['empty filter is no filter', { filter: '' }, { filter: undefined }],
    ['empty sortBy is no sort', { sortBy: '' }, { sortBy: undefined }],
    ['sortOrder defaults to ascending (RFC 7644 §3.4.2.3)', { sortBy: 'userName' }, { sortOrder: 'ascending' }],
    ['sortOrder in any case', { sortOrder: 'DESCENDING' }, { sortOrder: 'descending' }],
    ['empty sortOrder is ascending', { sortOrder: '' }, { sortOrder: 'ascending' }],
    ['attributes split on commas', { attributes: 'userName, name.givenName' }, { attributes: ['userName', 'name.givenName'] }],
  ])('%s', (_note, query, expected) => {
    expect(q(query)).toMatchObject(expected);
  });

  it.each<[string, Record<string, unknown>]>([
    ['unknown sortOrder', { sortOrder: 'up' }],
    ['both attributes and excludedAttributes', { attributes: 'userName', excludedAttributes: 'emails' }],
    ['filter given twice', { filter: ['a pr', 'b pr'] }],
  ])('400 invalidValue: %s', (_note, query) => {
    expectScimError(() => q(query), 400, 'invalidValue');
  });
});

describe('cursor paging (RFC 9865 §2)', () => {
  it.each<[string, Record<string, unknown>, Partial<ListQuery>]>([
    ['empty cursor asks for the first page', { cursor: '' }, { cursor: '', count: 100 }],
    ['cursor value kept', { cursor: 'abc_-1', count: '10' }, { cursor: 'abc_-1', count: 10 }],
    ['parameter name in any case', { Cursor: 'abc', COUNT: '5' }, { cursor: 'abc', count: 5 }],
    ['count above maxPageSize returns at most maxPageSize', { cursor: '', count: '5000' }, { cursor: '', count: 1000 }],
  ])('%s', (_note, query, expected) => {
    const r = q(query);
    expect(r).toMatchObject(expected);
    expect(r.startIndex).toBeUndefined();
  });

  it.each<[string, Record<string, unknown>, number, ScimType]>([
    ['count 0 is invalidCount (RFC 9865 §2.1: a positive integer)', { cursor: '', count: '0' }, 400, 'invalidCount'],
    ['negative count is invalidCount', { cursor: '', count: '-1' }, 400, 'invalidCount'],
    ['non-integer count is invalidCount', { cursor: '', count: 'many' }, 400, 'invalidCount'],
    ['cursor with startIndex is 400', { cursor: '', startIndex: '1' }, 400, 'invalidValue'],
    ['cursor given twice', { cursor: ['a', 'b'] }, 400, 'invalidValue'],
  ])('%s', (_note, query, status, scimType) => {
    expectScimError(() => q(query), status, scimType);
  });
});

describe('POST /.search body (RFC 7644 §3.4.3)', () => {
  const s = (body: unknown) => parseSearchRequest(body, LIMITS);

  it('the RFC 7644 §3.4.3 example body', () => {
    expect(
      s({
        schemas: [SEARCH],
        attributes: ['displayName', 'userName'],
        filter: 'displayName sw "smith"',
        startIndex: 1,
        count: 10,
      }),
    ).toEqual({
      filter: 'displayName sw "smith"',
      sortBy: undefined,
      sortOrder: 'ascending',
      startIndex: 1,
      count: 10,
      attributes: ['displayName', 'userName'],
      excludedAttributes: undefined,
    });
  });

  it.each<[string, unknown, Partial<ListQuery>]>([
    ['JSON numbers are clamped like query strings', { startIndex: 0, count: -3 }, { startIndex: 1, count: 0 }],
    ['schemas may be omitted', { count: 5 }, { count: 5 }],
    ['schemas URN and member names in any case', { Schemas: [SEARCH.toUpperCase()], COUNT: 7, SortBy: 'userName' }, { count: 7, sortBy: 'userName' }],
    ['cursor in the body', { schemas: [SEARCH], cursor: '', count: 2 }, { cursor: '', count: 2 }],
    ['excludedAttributes as an array', { excludedAttributes: ['members'] }, { excludedAttributes: ['members'] }],
  ])('%s', (_note, body, expected) => {
    expect(s(body)).toMatchObject(expected);
  });

  it.each<[string, unknown, ScimType]>([
    ['not an object', ['filter'], 'invalidSyntax'],
    ['null body', null, 'invalidSyntax'],
    ['wrong schemas', { schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'] }, 'invalidSyntax'],
    ['schemas not an array', { schemas: SEARCH }, 'invalidSyntax'],
    ['decimal count', { count: 2.5 }, 'invalidValue'],
    ['boolean count', { count: true }, 'invalidValue'],
    ['object filter', { filter: { op: 'eq' } }, 'invalidValue'],
  ])('400 %s', (_note, body, scimType) => {
    expectScimError(() => s(body), 400, scimType);
  });
});
