// In-memory SCIM lists (server/scim/value-list.ts), as /Roles and /Entitlements serve them: the
// filter, sort, projection and both paging modes of RFC 7644 §3.4.2 and RFC 9865 over documents.
import { JsonObject } from '../../server/scim/normalize';
import { parseListQuery } from '../../server/scim/list-query';
import { listValues } from '../../server/scim/value-list';
import { catalog, expectScimError } from './helpers';

const ENT = 'urn:ietf:params:scim:schemas:core:2.0:Entitlement';
const schema = catalog.entitlements;
const NOW = Date.parse('2026-12-03T12:00:00Z');
const ctx = { nowMs: NOW, cursorTimeoutSeconds: 600 };
const limits = { defaultPageSize: 100, maxPageSize: 1000 };

const doc = (id: string, display: string | undefined, extra: JsonObject = {}): JsonObject => ({
  schemas: [ENT],
  id,
  value: id,
  ...(display === undefined ? {} : { display }),
  type: 'service',
  supported: true,
  contains: [],
  containedBy: [],
  meta: { resourceType: 'Entitlement', location: `https://x.test/Entitlements/${id}` },
  ...extra,
});

const DOCS = [
  doc('crm', 'CRM'),
  doc('billing', 'Billing', { containedBy: ['suite'] }),
  doc('suite', 'All of it', { contains: ['crm', 'billing'] }),
  doc('zeta', undefined),
  doc('analytics', 'analytics'),
];

const list = (query: Record<string, string>, docs = DOCS) => listValues(schema, docs, parseListQuery(query, limits), ctx);
const ids = (out: JsonObject) => (out.Resources as JsonObject[]).map((r) => r.id);

describe('filter (RFC 7644 §3.4.2.2), in memory', () => {
  it.each<[string, string[]]>([
    ['value eq "CRM"', ['crm']], // value is caseExact false
    ['display co "it"', ['suite']],
    ['display sw "a"', ['analytics', 'suite']],
    ['containedBy eq "suite"', ['billing']], // a multi-valued attribute matches when any value does
    ['contains eq "crm" or value eq "zeta"', ['suite', 'zeta']],
    ['display pr', ['analytics', 'billing', 'crm', 'suite']],
    ['not (display pr)', ['zeta']],
    ['contains pr', ['suite']], // an empty array is not present
    ['type eq "service" and supported eq true', ['analytics', 'billing', 'crm', 'suite', 'zeta']],
    ['supported eq "True"', ['analytics', 'billing', 'crm', 'suite', 'zeta']], // Entra writes booleans as strings
    ['urn:ietf:params:scim:schemas:core:2.0:Entitlement:value eq "billing"', ['billing']],
    ['id eq "CRM"', []], // id is caseExact
    ['meta.resourceType eq "Entitlement" and value sw "b"', ['billing']],
  ])('%s', (filter, expected) => {
    expect(ids(list({ filter })).sort()).toEqual(expected);
  });

  it.each([['nope eq "x"'], ['meta eq "x"'], ['contains[value eq "x"]'], ['value eq']])('%s is 400 invalidFilter', (filter) => {
    expectScimError(() => list({ filter }), 400, 'invalidFilter');
  });
});

describe('sortBy and sortOrder (RFC 7644 §3.4.2.3)', () => {
  it('by id when none is given', () => {
    expect(ids(list({}))).toEqual(['analytics', 'billing', 'crm', 'suite', 'zeta']);
  });

  it('by display ignoring case (caseExact false), a missing value last ascending and first descending', () => {
    expect(ids(list({ sortBy: 'display' }))).toEqual(['suite', 'analytics', 'billing', 'crm', 'zeta']);
    expect(ids(list({ sortBy: 'display', sortOrder: 'descending' }))).toEqual(['zeta', 'crm', 'billing', 'analytics', 'suite']);
  });

  it('an unknown sortBy is 400 invalidValue', () => {
    expectScimError(() => list({ sortBy: 'colour' }), 400, 'invalidValue');
  });
});

describe('projection (RFC 7644 §3.4.2.5)', () => {
  it('attributes keeps what was asked for, and id and schemas always', () => {
    const out = list({ attributes: 'display', filter: 'value eq "crm"' });
    expect(out.Resources).toEqual([{ schemas: [ENT], id: 'crm', display: 'CRM' }]);
  });

  it('excludedAttributes drops what was named', () => {
    const [r] = list({ excludedAttributes: 'contains,containedBy,meta', filter: 'value eq "crm"' }).Resources as JsonObject[];
    expect(Object.keys(r).sort()).toEqual(['display', 'id', 'schemas', 'supported', 'type', 'value']);
  });
});

describe('index paging (RFC 7644 §3.4.2.4)', () => {
  it('startIndex and count slice the sorted list; totalResults counts every match', () => {
    const out = list({ startIndex: '2', count: '2' });
    expect(out).toMatchObject({ totalResults: 5, itemsPerPage: 2, startIndex: 2 });
    expect(ids(out)).toEqual(['billing', 'crm']);
    expect(list({ startIndex: '9' })).toMatchObject({ totalResults: 5, itemsPerPage: 0, Resources: [] });
    expect(list({ count: '0' })).toMatchObject({ totalResults: 5, itemsPerPage: 0 });
  });
});

describe('cursor paging (RFC 9865)', () => {
  it('walks forward to the end and back again, every item once', () => {
    const seen: unknown[] = [];
    let out = list({ cursor: '', count: '2', sortBy: 'display' });
    expect(out.totalResults).toBe(5);
    expect(out.previousCursor).toBeUndefined();
    seen.push(...ids(out));
    while (out.nextCursor) {
      out = list({ cursor: String(out.nextCursor), count: '2', sortBy: 'display' });
      expect(out.totalResults).toBeUndefined();
      seen.push(...ids(out));
    }
    expect(seen).toEqual(['suite', 'analytics', 'billing', 'crm', 'zeta']);
    const back = list({ cursor: String(out.previousCursor), count: '2', sortBy: 'display' });
    expect(ids(back)).toEqual(['billing', 'crm']);
    expect(back.nextCursor).toEqual(expect.any(String));
    expect(back.previousCursor).toEqual(expect.any(String));
  });

  it('a cursor stays on its place when an item is added before it', () => {
    const first = list({ cursor: '', count: '2' });
    const more = [...DOCS, doc('aaa', 'Aaa')];
    expect(ids(list({ cursor: String(first.nextCursor), count: '2' }, more))).toEqual(['crm', 'suite']);
  });

  it('a cursor of another query is 400 invalidCursor; a made-up one too', () => {
    const first = list({ cursor: '', count: '2', sortBy: 'display' });
    expectScimError(() => list({ cursor: String(first.nextCursor), count: '2' }), 400, 'invalidCursor');
    expectScimError(() => list({ cursor: 'bm90LWEtY3Vyc29y', count: '2' }), 400, 'invalidCursor');
  });

  it('an old cursor is 400 expiredCursor', () => {
    const first = list({ cursor: '', count: '2' });
    const later = { ...ctx, nowMs: NOW + 601_000 };
    expectScimError(() => listValues(schema, DOCS, parseListQuery({ cursor: String(first.nextCursor), count: '2' }, limits), later), 400, 'expiredCursor');
  });
});
