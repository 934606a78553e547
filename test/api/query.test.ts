// Querying resources on a real server and database: filters (RFC 7644 §3.4.2.2), sorting
// (§3.4.2.3), index paging (§3.4.2.4), cursor paging (RFC 9865), attribute projection
// (§3.4.2.5) and POST /.search (§3.4.3). The fixture users are below; the tenant's primary admin
// (root@acme.test) is always there too. The clock is fixed so meta.created is known.
import { encodeCursor, queryDigest } from '../../server/scim/cursor';
import { createTenant, ENTERPRISE, expectScimError, GROUP, Harness, PROVISIO_USER, scim, startHarness, TestTenant, USER } from '../support/harness';

const SEARCH = 'urn:ietf:params:scim:api:messages:2.0:SearchRequest';
const LIST = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
const T0 = Date.parse('2030-01-01T00:00:00Z');
const minute = (n: number) => new Date(T0 + n * 60_000).toISOString();

let now = T0;
let h: Harness;
let t: TestTenant;
let api: ReturnType<typeof scim>;
const id: Record<string, string> = {};

// userName of each fixture user, by short name; `root` is the primary admin.
const U = {
  root: 'root@acme.test',
  alice: 'Alice@Example.com',
  bob: 'bob@example.com',
  carol: 'carol@example.org',
  dave: 'dave@example.com',
  erin: 'erin_50%@example.net',
};
type Who = keyof typeof U;
const ALL: Who[] = ['root', 'alice', 'bob', 'carol', 'dave', 'erin'];

beforeAll(async () => {
  h = await startHarness({ clock: () => new Date(now) });
  t = await createTenant(h, 'Query', U.root); // created at T0
  api = scim(h, t);
  const users: [Who, Record<string, unknown>][] = [
    [
      'alice',
      {
        externalId: 'EXT-Alice',
        name: { givenName: 'Alice', familyName: 'Liddell' },
        displayName: 'Alice L',
        title: 'Engineer',
        // The primary email is second: sorting by emails must use the primary one (RFC 7644 §3.4.2.3).
        emails: [
          { value: 'zz-alice@home.test', type: 'home' },
          { value: 'Alice@X.test', type: 'work', primary: true },
        ],
        [ENTERPRISE]: { employeeNumber: '100', department: 'R&D' },
      },
    ],
    [
      'bob',
      {
        externalId: 'ext-bob',
        name: { givenName: 'Bob', familyName: 'Builder' },
        title: 'Engineer',
        active: false,
        emails: [{ value: 'bob@y.test', type: 'work' }],
        [ENTERPRISE]: { employeeNumber: '200' },
      },
    ],
    ['carol', { name: { givenName: 'Carol', familyName: 'Adams' }, title: 'Manager', emails: [{ value: 'carol@x.test', type: 'home' }], [ENTERPRISE]: { employeeNumber: '300' } }],
    ['dave', { displayName: 'Dave' }],
    ['erin', { name: { familyName: 'Zeta' } }],
  ];
  id.root = t.primaryAdminId;
  for (const [i, [who, body]] of users.entries()) {
    now = T0 + (i + 1) * 60_000; // alice at 00:01, bob 00:02, … erin 00:05
    const res = await api.post('/Users', { schemas: [USER, ENTERPRISE], userName: U[who], ...body });
    if (res.status !== 201) throw new Error(`fixture ${who}: ${res.status} ${JSON.stringify(res.body)}`);
    id[who] = res.body.id;
  }
  // Bob and Carol report to Alice (Entra sends the manager as a bare id).
  for (const who of ['bob', 'carol'] as const) {
    const cur = (await api.get(`/Users/${id[who]}`)).body;
    await api.put(`/Users/${id[who]}`, { ...cur, [ENTERPRISE]: { ...cur[ENTERPRISE], manager: id.alice } }).expect(200);
  }
  now = T0 + 10 * 60_000;
});
afterAll(() => h.close());

const whoOf = (userName: string): string => (Object.entries(U).find(([, u]) => u === userName)?.[0] ?? `?${userName}`);
const sorted = (xs: string[]) => [...xs].sort();

/** The short names of the users a filter returns (asserting a well-formed 200 ListResponse). */
async function matching(filter: string): Promise<string[]> {
  const res = await api.get('/Users').query({ filter });
  if (res.status !== 200) throw new Error(`${filter}: ${res.status} ${JSON.stringify(res.body)}`);
  expect(res.body.schemas).toEqual([LIST]);
  expect(res.body.totalResults).toBe((res.body.Resources ?? []).length);
  return sorted((res.body.Resources ?? []).map((r: { userName: string }) => whoOf(r.userName)));
}

const EMP = `${ENTERPRISE}:employeeNumber`;

describe('filters', () => {
  const cases: [string, Who[]][] = [
    // every comparison operator on userName (caseExact false: compared case-insensitively)
    ['userName eq "alice@example.com"', ['alice']],
    ['USERNAME EQ "ALICE@EXAMPLE.COM"', ['alice']],
    ['userName ne "ALICE@example.com"', ['root', 'bob', 'carol', 'dave', 'erin']],
    ['userName co "EXAMPLE"', ['alice', 'bob', 'carol', 'dave', 'erin']],
    ['userName sw "CA"', ['carol']],
    ['userName ew ".ORG"', ['carol']],
    ['userName gt "d"', ['dave', 'erin', 'root']],
    ['userName ge "DAVE@example.com"', ['dave', 'erin', 'root']],
    ['userName lt "bob@example.com"', ['alice']],
    ['userName le "BOB@example.com"', ['alice', 'bob']],
    // LIKE wildcards in the value are characters, not patterns
    ['userName co "50%"', ['erin']],
    ['userName co "_"', ['erin']],
    // pr, not, and, or, precedence and parentheses
    ['title pr', ['alice', 'bob', 'carol']],
    ['name.familyName pr', ['alice', 'bob', 'carol', 'erin']],
    ['not (title pr)', ['root', 'dave', 'erin']],
    ['title eq "engineer"', ['alice', 'bob']],
    ['title eq "Engineer" and active eq true', ['alice']],
    ['title eq "Manager" or userName sw "dave"', ['carol', 'dave']],
    ['title eq "Manager" or title eq "Engineer" and active eq false', ['bob', 'carol']],
    ['(title eq "Manager" or title eq "Engineer") and not (active eq false)', ['alice', 'carol']],
    ['not (userName sw "a" or userName sw "b") and title pr', ['carol']],
    // sub-attributes
    ['name.givenName eq "ALICE"', ['alice']],
    ['name.familyName sw "b"', ['bob']],
    ['name.familyName gt "L"', ['alice', 'erin']],
    ['name.familyName le "builder"', ['bob', 'carol']],
    ['name.givenName ne "Alice"', ['root', 'bob', 'carol', 'dave', 'erin']],
    // multi-valued: any element matches; a complex attribute alone compares its value
    ['emails.value eq "alice@x.TEST"', ['alice']],
    ['emails co "@x.test"', ['alice', 'carol']],
    ['emails.type eq "home"', ['alice', 'carol']],
    ['emails pr', ['root', 'alice', 'bob', 'carol']],
    ['emails.value ew ".test"', ['root', 'alice', 'bob', 'carol']],
    // value paths: one element must satisfy the whole bracket
    ['emails[type eq "work" and value co "@x"]', ['alice']],
    ['emails[type eq "home" and value co "@y"]', []],
    ['emails[type eq "work" or value sw "carol"]', ['root', 'alice', 'bob', 'carol']],
    ['emails[type eq "home"]', ['alice', 'carol']],
    ['emails[not (type eq "work")]', ['alice', 'carol']],
    ['emails[value sw "zz" and primary eq true]', []],
    ['emails[primary eq "True"]', ['root', 'alice']],
    // Entra's matching filter
    ['emails[type eq "work"].value eq "BOB@y.test"', ['bob']],
    ['emails[type eq "home"].value eq "bob@y.test"', []],
    ['userName eq "bob@example.com" and emails[type eq "work"].value eq "bob@y.test"', ['bob']],
    // externalId is caseExact (RFC 7643 §3.1)
    ['externalId eq "EXT-Alice"', ['alice']],
    ['externalId eq "ext-alice"', []],
    ['externalId sw "EXT"', ['alice']],
    ['externalId pr', ['alice', 'bob']],
    // URN-qualified extension attributes
    [`${EMP} eq "200"`, ['bob']],
    [`${EMP} gt "150"`, ['bob', 'carol']],
    [`${ENTERPRISE.toUpperCase()}:EMPLOYEENUMBER eq "100"`, ['alice']],
    [`${ENTERPRISE}:department eq "r&d"`, ['alice']],
    [`${ENTERPRISE}:manager pr`, ['bob', 'carol']],
    // the core schema URN may prefix core attributes too
    [`${USER}:userName eq "dave@example.com"`, ['dave']],
    [`${USER}:name.familyName eq "adams"`, ['carol']],
    // active, also as Entra's string form
    ['active eq false', ['bob']],
    ['active eq true', ['root', 'alice', 'carol', 'dave', 'erin']],
    ['active eq "False"', ['bob']],
    ['active ne true', ['bob']],
    // meta dates (alice was created at 00:01, … erin at 00:05; root at 00:00)
    [`meta.created gt "${minute(2.5)}"`, ['carol', 'dave', 'erin']],
    [`meta.created lt "${minute(1.5)}"`, ['root', 'alice']],
    [`meta.created ge "${minute(2)}" and meta.created le "${minute(3)}"`, ['bob', 'carol']],
    [`meta.created eq "${minute(4)}"`, ['dave']],
    [`meta.lastModified gt "${minute(5.5)}"`, []],
    [`meta.lastModified lt "${minute(2.5)}"`, ['root', 'alice']],
    // presence through null comparisons
    ['title eq null', ['root', 'dave', 'erin']],
    // attributes the server computes: meta.resourceType, schemas, the Provisio extension's readOnly values
    ['meta.resourceType eq "User"', ALL],
    ['meta.resourceType eq "Group"', []],
    ['meta pr', ALL],
    [`schemas eq "${ENTERPRISE}"`, ['alice', 'bob', 'carol']],
    [`schemas eq "${PROVISIO_USER.toUpperCase()}"`, ALL],
    [`${PROVISIO_USER}:primaryAdmin eq true`, ['root']],
    [`${PROVISIO_USER}:activationState eq "pending" and ${PROVISIO_USER}:primaryAdmin eq false`, ['alice', 'bob', 'carol', 'dave', 'erin']],
  ];
  it.each(cases)('%s', async (filter, expected) => {
    expect(await matching(filter)).toEqual(sorted(expected));
  });

  it('the manager sub-attribute matches the manager id', async () => {
    expect(await matching(`${ENTERPRISE}:manager.value eq "${id.alice}"`)).toEqual(['bob', 'carol']);
    expect(await matching(`${ENTERPRISE}:manager.value eq "${id.bob}"`)).toEqual([]);
  });

  it('ids compare by value, in any case', async () => {
    expect(await matching(`id eq "${id.carol.toUpperCase()}"`)).toEqual(['carol']);
    expect(await matching(`id eq "${id.carol}" or id eq "${id.dave}"`)).toEqual(['carol', 'dave']);
  });

  it('a filter with no match is 200 with totalResults 0 (Entra’s random-GUID test)', async () => {
    const guid = '5e3a7c1b-1f0e-4c6b-9a5e-3f1d2c4b5a69';
    for (const filter of [`userName eq "${guid}"`, `externalId eq "${guid}"`, `id eq "${guid}"`, 'id eq "not-a-guid"']) {
      const res = await api.get('/Users').query({ filter, startIndex: 1, count: 100 });
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/scim\+json/);
      expect(res.body).toMatchObject({ schemas: [LIST], totalResults: 0 });
      expect(res.body.Resources ?? []).toEqual([]);
    }
  });

  it.each([
    'foo eq "x"',
    'name.nickName eq "x"',
    'emails.label eq "x"',
    'urn:example:unknown:1.0:User:foo eq "x"',
    `${ENTERPRISE}:shoeSize eq "x"`,
    'emails[label eq "x"]',
    'password eq "secret"',
    'userName eq',
    'userName zz "x"',
    'userName eq "x" and',
    '(userName eq "x"',
    'userName eq "x")',
    'emails[type eq "work"',
    'emails[type eq "work"]]',
    'userName eq "unterminated',
    'userName eq x',
    'and',
    'userName eq "a" or or userName eq "b"',
    'meta.created gt "yesterday"',
    'active eq "maybe"',
    'active gt true',
  ])('%s is 400 invalidFilter, never all rows', async (filter) => {
    const res = await api.get('/Users').query({ filter });
    expectScimError(res, 400, 'invalidFilter');
    expect(res.body.Resources).toBeUndefined();
  });

  it('an empty filter is no filter', async () => {
    const res = await api.get('/Users').query({ filter: '' });
    expect(res.body.totalResults).toBe(ALL.length);
  });
});

describe('sorting', () => {
  async function order(query: Record<string, string | number>): Promise<string[]> {
    const res = await api.get('/Users').query(query);
    expect(res.status).toBe(200);
    return res.body.Resources.map((r: { userName: string }) => whoOf(r.userName));
  }

  it('sortBy=userName, case-insensitively, ascending by default and descending', async () => {
    const asc = ['alice', 'bob', 'carol', 'dave', 'erin', 'root'];
    expect(await order({ sortBy: 'userName' })).toEqual(asc);
    expect(await order({ sortBy: 'UserName', sortOrder: 'ascending' })).toEqual(asc);
    expect(await order({ sortBy: 'userName', sortOrder: 'descending' })).toEqual([...asc].reverse());
  });

  it('sortBy a sub-attribute puts resources without a value last (first when descending)', async () => {
    const asc = await order({ sortBy: 'name.familyName' });
    expect(asc.slice(0, 4)).toEqual(['carol', 'bob', 'alice', 'erin']);
    expect(sorted(asc.slice(4))).toEqual(['dave', 'root']);
    expect(await order({ sortBy: 'name.familyName', sortOrder: 'descending' })).toEqual([...asc].reverse());
  });

  it('sortBy=meta.created', async () => {
    expect(await order({ sortBy: 'meta.created' })).toEqual(ALL);
    expect(await order({ sortBy: 'meta.created', sortOrder: 'descending' })).toEqual([...ALL].reverse());
  });

  it('sortBy a multi-valued attribute uses the primary value, else the first (RFC 7644 §3.4.2.3)', async () => {
    // alice@x (alice's primary, not her first), bob@y, carol@x, root@acme; dave and erin have none.
    const asc = await order({ sortBy: 'emails' });
    expect(asc.slice(0, 4)).toEqual(['alice', 'bob', 'carol', 'root']);
    expect(await order({ sortBy: 'emails.value' })).toEqual(asc);
  });

  it('sortBy with a filter, and a tie broken the same way every time', async () => {
    const a = await order({ sortBy: 'title', filter: 'title pr' });
    expect(a.slice(2)).toEqual(['carol']);
    expect(sorted(a.slice(0, 2))).toEqual(['alice', 'bob']);
    for (let i = 0; i < 3; i++) expect(await order({ sortBy: 'title', filter: 'title pr' })).toEqual(a);
  });

  it('an unknown sortBy or sortOrder is 400', async () => {
    expectScimError(await api.get('/Users').query({ sortBy: 'shoeSize' }), 400, 'invalidFilter');
    expectScimError(await api.get('/Users').query({ sortBy: 'password' }), 400);
    expectScimError(await api.get('/Users').query({ sortBy: 'userName', sortOrder: 'sideways' }), 400, 'invalidValue');
  });
});

describe('index paging', () => {
  it('startIndex=1&count=2 (Okta’s test connection): paging fields are JSON integers', async () => {
    const res = await api.get('/Users').query({ startIndex: 1, count: 2 });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ schemas: [LIST], totalResults: ALL.length, itemsPerPage: 2, startIndex: 1 });
    expect(res.body.Resources).toHaveLength(2);
    expect(res.text).toMatch(new RegExp(`"totalResults":${ALL.length}[,}]`));
    expect(res.text).toMatch(/"itemsPerPage":2[,}]/);
    expect(res.text).toMatch(/"startIndex":1[,}]/);
    expect((await api.get('/Users').query({ startIndex: 1, count: 1 })).body.Resources).toHaveLength(1);
  });

  it('no paging parameters returns every row from 1', async () => {
    const res = await api.get('/Users');
    expect(res.body).toMatchObject({ totalResults: ALL.length, itemsPerPage: ALL.length, startIndex: 1 });
  });

  it('a startIndex below 1 is read as 1 (RFC 7644 §3.4.2.4)', async () => {
    const first = (await api.get('/Users').query({ count: 2 })).body.Resources.map((r: { id: string }) => r.id);
    for (const startIndex of [0, -5]) {
      const res = await api.get('/Users').query({ startIndex, count: 2 });
      expect(res.status).toBe(200);
      expect(res.body.startIndex).toBe(1);
      expect(res.body.Resources.map((r: { id: string }) => r.id)).toEqual(first);
    }
  });

  it('count=0 and a negative count return only totalResults', async () => {
    for (const count of [0, -3]) {
      const res = await api.get('/Users').query({ count });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ totalResults: ALL.length, itemsPerPage: 0 });
      expect(res.body.Resources ?? []).toEqual([]);
    }
    const f = await api.get('/Users').query({ count: 0, filter: 'title pr' });
    expect(f.body.totalResults).toBe(3);
  });

  it('a startIndex past the end is an empty page, a count above the maximum is capped', async () => {
    const past = await api.get('/Users').query({ startIndex: 50, count: 10 });
    expect(past.status).toBe(200);
    expect(past.body).toMatchObject({ totalResults: ALL.length, itemsPerPage: 0, startIndex: 50 });
    expect(past.body.Resources ?? []).toEqual([]);
    const big = await api.get('/Users').query({ count: 100000 });
    expect(big.status).toBe(200);
    expect(big.body.itemsPerPage).toBe(ALL.length);
  });

  it('non-integer paging parameters are 400 invalidValue', async () => {
    expectScimError(await api.get('/Users').query({ count: 'ten' }), 400, 'invalidValue');
    expectScimError(await api.get('/Users').query({ startIndex: '1.5' }), 400, 'invalidValue');
  });

  it.each([
    [{}, ALL.length],
    [{ sortBy: 'title' }, ALL.length],
    [{ sortBy: 'name.familyName', sortOrder: 'descending' }, ALL.length],
    [{ filter: 'userName co "example"' }, 5],
  ])('a paged walk %j sees every row once, in the same order as one page', async (query, total) => {
    const whole = (await api.get('/Users').query({ ...query, count: 100 })).body.Resources.map((r: { id: string }) => r.id);
    expect(whole).toHaveLength(total);
    const walked: string[] = [];
    for (let start = 1; start <= total; start += 2) {
      const res = await api.get('/Users').query({ ...query, startIndex: start, count: 2 });
      expect(res.body).toMatchObject({ totalResults: total, startIndex: start });
      walked.push(...res.body.Resources.map((r: { id: string }) => r.id));
    }
    expect(walked).toEqual(whole);
  });
});

describe('cursor paging (RFC 9865)', () => {
  interface Page {
    ids: string[];
    next?: string;
    prev?: string;
    body: Record<string, unknown>;
  }
  async function page(query: Record<string, string | number>): Promise<Page> {
    const res = await api.get('/Users').query(query);
    if (res.status !== 200) throw new Error(`${JSON.stringify(query)}: ${res.status} ${JSON.stringify(res.body)}`);
    return { ids: (res.body.Resources ?? []).map((r: { id: string }) => r.id), next: res.body.nextCursor, prev: res.body.previousCursor, body: res.body };
  }

  /** Walks forward from `cursor=` and back again; returns the forward order. */
  async function walk(query: Record<string, string | number>, count: number): Promise<string[]> {
    const pages: Page[] = [];
    let p = await page({ ...query, cursor: '', count });
    expect(p.prev).toBeUndefined();
    pages.push(p);
    while (p.next) {
      expect(p.ids).toHaveLength(count);
      expect(p.next).toMatch(/^[A-Za-z0-9\-._~]+$/); // RFC 9865 §2: unreserved characters only
      p = await page({ ...query, cursor: p.next, count });
      pages.push(p);
      if (pages.length > 50) throw new Error('the walk does not end');
    }
    const forward = pages.flatMap((x) => x.ids);
    // Back from the last page: each previousCursor gives the page before it, exactly.
    let back = pages[pages.length - 1];
    const backward: string[][] = [back.ids];
    for (let i = pages.length - 2; i >= 0; i--) {
      expect(back.prev).toBeDefined();
      back = await page({ ...query, cursor: back.prev!, count });
      expect(back.ids).toEqual(pages[i].ids);
      backward.unshift(back.ids);
    }
    expect(back.prev).toBeUndefined();
    expect(backward.flat()).toEqual(forward);
    return forward;
  }

  it('cursor= starts; the first page carries totalResults, nextCursor and integers', async () => {
    const p = await page({ cursor: '', count: 2 });
    expect(p.body).toMatchObject({ schemas: [LIST], totalResults: ALL.length, itemsPerPage: 2 });
    expect(p.body.startIndex).toBeUndefined();
    expect(typeof p.next).toBe('string');
    expect(p.prev).toBeUndefined();
  });

  it.each([
    [{}, 2, ALL.length],
    [{}, 4, ALL.length],
    [{}, 6, ALL.length],
    [{ sortBy: 'userName' }, 2, ALL.length],
    [{ sortBy: 'userName', sortOrder: 'descending' }, 4, ALL.length],
    [{ sortBy: 'name.familyName' }, 2, ALL.length],
    [{ sortBy: 'name.familyName', sortOrder: 'descending' }, 1, ALL.length],
    [{ sortBy: 'title', sortOrder: 'descending' }, 2, ALL.length],
    [{ sortBy: 'meta.created', sortOrder: 'descending' }, 2, ALL.length],
    [{ sortBy: 'emails' }, 3, ALL.length],
    [{ sortBy: 'active' }, 2, ALL.length],
    [{ filter: 'userName co "example"' }, 2, 5],
    [{ filter: 'title pr', sortBy: 'title', sortOrder: 'descending' }, 1, 3],
  ])('%j count=%d walks every row exactly once, forward and back', async (query, count, total) => {
    const forward = await walk(query, count);
    expect(new Set(forward).size).toBe(forward.length);
    expect(forward).toHaveLength(total);
    // The same rows in the same order as one index page.
    const whole = (await api.get('/Users').query({ ...query, count: 100 })).body.Resources.map((r: { id: string }) => r.id);
    expect(forward).toEqual(whole);
  });

  it('the last page has no nextCursor; an empty result has neither cursor', async () => {
    const all = await page({ cursor: '', count: 100 });
    expect(all.ids).toHaveLength(ALL.length);
    expect(all.next).toBeUndefined();
    const none = await page({ cursor: '', filter: 'userName eq "nobody@example.com"' });
    expect(none.body.totalResults).toBe(0);
    expect(none.next).toBeUndefined();
    expect(none.prev).toBeUndefined();
  });

  it('POST .search walks with cursors too', async () => {
    const first = await api.post('/Users/.search', { schemas: [SEARCH], cursor: '', count: 4, sortBy: 'userName' }).expect(200);
    expect(first.body.Resources).toHaveLength(4);
    const second = await api.post('/Users/.search', { schemas: [SEARCH], cursor: first.body.nextCursor, count: 4, sortBy: 'userName' }).expect(200);
    expect(second.body.Resources.map((r: { userName: string }) => whoOf(r.userName))).toEqual(['erin', 'root']);
    expect(second.body.nextCursor).toBeUndefined();
  });

  it('a tampered or made-up cursor is 400 invalidCursor', async () => {
    const { next } = await page({ cursor: '', count: 2, sortBy: 'meta.created' });
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const payload = JSON.parse(Buffer.from(next!, 'base64url').toString('utf8'));
    const forged = [
      'not-a-cursor',
      'abc$%^',
      (next![0] === 'e' ? 'f' : 'e') + next!.slice(1),
      next!.slice(0, next!.length - 7),
      b64({ ...payload, key: [payload.key[0], 'not-a-uuid'] }),
      b64({ ...payload, key: ['not a date', payload.key[1]] }),
      b64({ ...payload, key: [payload.key[0]] }),
      b64({ ...payload, dir: 'sideways' }),
    ];
    for (const cursor of forged) {
      const res = await api.get('/Users').query({ cursor, count: 2, sortBy: 'meta.created' });
      expectScimError(res, 400, 'invalidCursor');
    }
    // Cursors forged with the server's own encoder (so they pass its integrity check) but carrying
    // keys the database could not cast: still 400 invalidCursor, never a 500.
    const forge = (sortBy: string, key: [string | null, string]) => encodeCursor({ dir: 'next', key }, queryDigest(['User', undefined, sortBy.toLowerCase(), 'ascending']), now);
    for (const [sortBy, key] of [
      ['active', ['maybe', id.alice]],
      ['userName', ['a\u0000b', id.alice]],
      ['userName', ['alice', 'not-a-uuid']],
      ['meta.created', ['2030-02-31 00:00:00+00', id.alice]],
      ['meta.created', ['2030-01-01T00:00:00Z; DROP TABLE users', id.alice]],
    ] as [string, [string, string]][]) {
      const res = await api.get('/Users').query({ sortBy, cursor: forge(sortBy, key), count: 2 });
      expectScimError(res, 400, 'invalidCursor');
    }
    // The same encoder with a real position works, so the cases above fail for their keys alone.
    const ok = await api.get('/Users').query({ sortBy: 'userName', cursor: forge('userName', ['alice@example.com', id.alice]), count: 2 });
    expect(ok.status).toBe(200);
    expect(ok.body.Resources.map((r: { userName: string }) => whoOf(r.userName))).toEqual(['bob', 'carol']);
    // An unchanged cursor still works.
    await api.get('/Users').query({ cursor: next!, count: 2, sortBy: 'meta.created' }).expect(200);
  });

  it('a cursor reused with a different filter, sortBy or sortOrder is 400 invalidCursor', async () => {
    const { next } = await page({ cursor: '', count: 2, filter: 'userName co "example"', sortBy: 'userName' });
    expectScimError(await api.get('/Users').query({ cursor: next!, count: 2, filter: 'userName co "example.com"', sortBy: 'userName' }), 400, 'invalidCursor');
    expectScimError(await api.get('/Users').query({ cursor: next!, count: 2, sortBy: 'userName' }), 400, 'invalidCursor');
    expectScimError(await api.get('/Users').query({ cursor: next!, count: 2, filter: 'userName co "example"', sortBy: 'title' }), 400, 'invalidCursor');
    expectScimError(
      await api.get('/Users').query({ cursor: next!, count: 2, filter: 'userName co "example"', sortBy: 'userName', sortOrder: 'descending' }),
      400,
      'invalidCursor',
    );
    // A cursor of /Users is not one of /Groups.
    expectScimError(await api.get('/Groups').query({ cursor: next!, count: 2, filter: 'userName co "example"', sortBy: 'userName' }), 400);
    // Unchanged, it still works.
    await api.get('/Users').query({ cursor: next!, count: 2, filter: 'userName co "example"', sortBy: 'userName' }).expect(200);
  });

  it('count=0 or a negative count in cursor mode is 400 invalidCount; cursor with startIndex is 400', async () => {
    expectScimError(await api.get('/Users').query({ cursor: '', count: 0 }), 400, 'invalidCount');
    expectScimError(await api.get('/Users').query({ cursor: '', count: -1 }), 400, 'invalidCount');
    expectScimError(await api.get('/Users').query({ cursor: '', startIndex: 1 }), 400);
  });

  it('a cursor older than cursorTimeout is 400 expiredCursor', async () => {
    const { next } = await page({ cursor: '', count: 2 });
    const saved = now;
    try {
      now += 3601 * 1000;
      expectScimError(await api.get('/Users').query({ cursor: next!, count: 2 }), 400, 'expiredCursor');
    } finally {
      now = saved;
    }
  });
});

describe('attributes and excludedAttributes', () => {
  it('attributes on GET returns those plus the always-returned id', async () => {
    const res = await api.get(`/Users/${id.alice}`).query({ attributes: 'userName,name.givenName' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: id.alice, userName: U.alice, name: { givenName: 'Alice' } });
    expect(res.body.name.familyName).toBeUndefined();
    for (const k of ['emails', 'title', 'active', 'displayName', ENTERPRISE, PROVISIO_USER]) expect(res.body[k]).toBeUndefined();
    expect(res.body.schemas).toEqual([USER]);
  });

  it('attributes names a sub-attribute of a multi-valued attribute, an extension attribute, or a whole extension', async () => {
    const e = await api.get(`/Users/${id.alice}`).query({ attributes: 'emails.value' });
    expect(e.body.emails).toEqual([{ value: 'zz-alice@home.test' }, { value: 'Alice@X.test' }]);
    const x = await api.get(`/Users/${id.bob}`).query({ attributes: `${ENTERPRISE}:employeeNumber` });
    expect(x.body[ENTERPRISE]).toEqual({ employeeNumber: '200' });
    expect(x.body.schemas).toEqual([USER, ENTERPRISE]);
    expect(x.body.userName).toBeUndefined();
    const m = await api.get(`/Users/${id.bob}`).query({ attributes: `${ENTERPRISE}:manager.value` });
    expect(m.body[ENTERPRISE]).toEqual({ manager: { value: id.alice } });
    const whole = await api.get(`/Users/${id.alice}`).query({ attributes: ENTERPRISE });
    expect(whole.body[ENTERPRISE]).toEqual({ employeeNumber: '100', department: 'R&D' });
  });

  it('excludedAttributes leaves out default attributes but never id; never-returned attributes stay out', async () => {
    const res = await api.get(`/Users/${id.alice}`).query({ excludedAttributes: 'emails,name,id,' + ENTERPRISE });
    expect(res.body.id).toBe(id.alice);
    expect(res.body.userName).toBe(U.alice);
    expect(res.body.title).toBe('Engineer');
    expect(res.body.emails).toBeUndefined();
    expect(res.body.name).toBeUndefined();
    expect(res.body[ENTERPRISE]).toBeUndefined();
    expect(res.body.schemas).not.toContain(ENTERPRISE);
    const sub = await api.get(`/Users/${id.alice}`).query({ excludedAttributes: 'emails.type' });
    expect(sub.body.emails).toEqual([{ value: 'zz-alice@home.test' }, { value: 'Alice@X.test', primary: true }]);
    const pw = await api.get(`/Users/${id.alice}`).query({ attributes: 'password,userName' });
    expect(pw.body.password).toBeUndefined();
    expect(pw.body.userName).toBe(U.alice);
  });

  it('applies to every resource of a list and of a .search', async () => {
    const list = await api.get('/Users').query({ attributes: 'userName', filter: 'title pr' });
    expect(list.body.Resources).toHaveLength(3);
    for (const r of list.body.Resources) {
      expect(Object.keys(r).filter((k) => k !== 'meta').sort()).toEqual(['id', 'schemas', 'userName']);
    }
    const ex = await api.get('/Users').query({ excludedAttributes: 'emails', filter: 'emails pr' });
    expect(ex.body.Resources).toHaveLength(4);
    for (const r of ex.body.Resources) expect(r.emails).toBeUndefined();
    const s = await api.post('/Users/.search', { schemas: [SEARCH], filter: 'title pr', attributes: ['displayName'] }).expect(200);
    expect(s.body.Resources).toHaveLength(3);
    for (const r of s.body.Resources) {
      expect(Object.keys(r).filter((k) => k !== 'meta').sort()).toEqual(r.id === id.alice ? ['displayName', 'id', 'schemas'] : ['id', 'schemas']);
    }
  });

  it('unknown names select nothing; both parameters at once is 400', async () => {
    const res = await api.get(`/Users/${id.alice}`).query({ attributes: 'shoeSize' });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).filter((k) => k !== 'meta').sort()).toEqual(['id', 'schemas']);
    expectScimError(await api.get(`/Users/${id.alice}`).query({ attributes: 'userName', excludedAttributes: 'name' }), 400);
    expectScimError(await api.get('/Users').query({ attributes: 'userName', excludedAttributes: 'name' }), 400);
  });
});

describe('POST .search', () => {
  it('POST /Users/.search takes a SearchRequest body', async () => {
    const res = await api.post('/Users/.search', {
      schemas: [SEARCH],
      filter: 'title eq "Engineer"',
      sortBy: 'userName',
      sortOrder: 'descending',
      startIndex: 1,
      count: 10,
      attributes: ['userName'],
    });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/scim\+json/);
    expect(res.body).toMatchObject({ schemas: [LIST], totalResults: 2, itemsPerPage: 2, startIndex: 1 });
    expect(res.body.Resources.map((r: { userName: string }) => r.userName)).toEqual([U.bob, U.alice]);
    expect(res.body.Resources[0].title).toBeUndefined();
  });

  it('pages, and answers 400 for a bad filter or a wrong message schema', async () => {
    const res = await api.post('/Users/.search', { schemas: [SEARCH], sortBy: 'meta.created', startIndex: 3, count: 2 }).expect(200);
    expect(res.body.Resources.map((r: { userName: string }) => whoOf(r.userName))).toEqual(['bob', 'carol']);
    expectScimError(await api.post('/Users/.search', { schemas: [SEARCH], filter: 'shoeSize eq 1' }), 400, 'invalidFilter');
    expectScimError(await api.post('/Users/.search', { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'] }), 400);
    expectScimError(await api.get('/Users/.search'), 405);
  });

  describe('with groups', () => {
    const gid: Record<string, string> = {};
    beforeAll(async () => {
      for (const name of ['Engineers', 'Managers']) {
        const res = await api.post('/Groups', { schemas: [GROUP], displayName: name, members: [{ value: id.alice }] }).expect(201);
        gid[name] = res.body.id;
      }
    });
    afterAll(async () => {
      for (const g of Object.values(gid)) await api.delete(`/Groups/${g}`).expect(204);
    });

    it('POST /Groups/.search', async () => {
      const res = await api.post('/Groups/.search', { schemas: [SEARCH], filter: 'displayName sw "eng"', excludedAttributes: ['members'] });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ totalResults: 1, Resources: [{ id: gid.Engineers, displayName: 'Engineers' }] });
      expect(res.body.Resources[0].members).toBeUndefined();
    });

    it('POST /.search at the root returns users and groups', async () => {
      const all = await api.post('/.search', { schemas: [SEARCH] });
      expect(all.status).toBe(200);
      expect(all.body.totalResults).toBe(ALL.length + 2);
      const types = all.body.Resources.map((r: { meta: { resourceType: string } }) => r.meta.resourceType);
      expect(types.filter((x: string) => x === 'User')).toHaveLength(ALL.length);
      expect(types.filter((x: string) => x === 'Group')).toHaveLength(2);
      // displayName exists on both types: alice's "Alice L", dave's "Dave", the two groups.
      const dn = await api.post('/.search', { schemas: [SEARCH], filter: 'displayName pr', attributes: ['displayName'] }).expect(200);
      expect(dn.body.totalResults).toBe(4);
      expect(dn.body.Resources.map((r: { displayName: string }) => r.displayName).sort()).toEqual(['Alice L', 'Dave', 'Engineers', 'Managers']);
      // userName exists on users only: groups simply do not match.
      const un = await api.post('/.search', { schemas: [SEARCH], filter: 'userName eq "dave@example.com"' }).expect(200);
      expect(un.body.totalResults).toBe(1);
      expect(un.body.Resources[0].id).toBe(id.dave);
    });

    it('root .search pages over the concatenation and rejects an attribute no type has', async () => {
      const whole = (await api.post('/.search', { schemas: [SEARCH] })).body.Resources.map((r: { id: string }) => r.id);
      const walked: string[] = [];
      for (let start = 1; start <= whole.length; start += 3) {
        const res = await api.post('/.search', { schemas: [SEARCH], startIndex: start, count: 3 }).expect(200);
        expect(res.body.totalResults).toBe(whole.length);
        walked.push(...res.body.Resources.map((r: { id: string }) => r.id));
      }
      expect(walked).toEqual(whole);
      expectScimError(await api.post('/.search', { schemas: [SEARCH], filter: 'shoeSize eq "x"' }), 400, 'invalidFilter');
      expectScimError(await api.get('/.search'), 405);
    });
  });
});
