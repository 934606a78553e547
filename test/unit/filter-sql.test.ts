// FilterCompiler (server/store/filter-sql.ts) over the real schemas and table maps of
// resources/kinds.ts: the SQL and bindings a parsed filter or sortBy becomes (RFC 7644 §3.4.2.2,
// §3.4.2.3). Pure strings, no database; the API suite runs them against PGlite and PostgreSQL.
import { parseFilter } from '../../server/scim/filter';
import { FilterCompiler, likeEscape, Sql } from '../../server/store/filter-sql';
import { catalog, ENTERPRISE, expectScimError, PROVISIO_GROUP, PROVISIO_USER, USER_URN } from './helpers';

const TENANT = '11111111-2222-3333-4444-555555555555';
const GID = 'AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE';
const gid = GID.toLowerCase();

const users = catalog.users.repo.compiler;
const groups = catalog.groups.repo.compiler;
const user = (filter: string): Sql => users.compile(parseFilter(filter), TENANT);
const group = (filter: string): Sql => groups.compile(parseFilter(filter), TENANT);
/** The JSON document of a `folded @> ?::jsonb` containment. */
const doc = (s: Sql) => JSON.parse(s.bindings[0] as string);
const CONTAINS = '(u.folded @> ?::jsonb)';

describe('hot attributes use their indexed columns (RFC 7643 §4.1.1 caseExact)', () => {
  it.each<[string, string, string, unknown[]]>([
    // userName is caseExact=false: lower(col) matches the unique index users_user_name_ci.
    ['userName eq: folded column = lower-cased value (Okta pre-create lookup)', 'userName eq "Alice@Example.COM"', '(u.user_name_ci = ?)', ['alice@example.com']],
    ['URN-qualified core attribute is the same column', `${USER_URN}:userName eq "Bob"`, '(u.user_name_ci = ?)', ['bob']],
    ['attribute name in any case (RFC 7643 §2.1)', 'USERNAME eq "Bob"', '(u.user_name_ci = ?)', ['bob']],
    ['externalId is caseExact: value kept (Entra matching filter)', 'externalId eq "AbC-123"', '(u.external_id = ?)', ['AbC-123']],
    ['id eq: uuid column, lower-cased', `id eq "${GID}"`, '(u.id = ?)', [gid]],
    ['id eq a non-uuid (Entra test connection): no row, no cast error', 'id eq "not-a-uuid"', 'FALSE', []],
    ['id ne a non-uuid: every row', 'id ne "not-a-uuid"', 'TRUE', []],
    ['active eq "False": Entra sends booleans as strings', 'active eq "False"', 'COALESCE(u.active = ?, FALSE)', [false]],
    ['active eq true', 'active eq true', 'COALESCE(u.active = ?, FALSE)', [true]],
    ['meta.lastModified gt: timestamptz column, value normalized to UTC (RFC 7644 §3.4.2.2 example)', 'meta.lastModified gt "2011-05-13T04:42:34+02:00"', 'COALESCE((u.updated_at) > ?::timestamptz, FALSE)', ['2011-05-13T02:42:34.000Z']],
    ['meta.created le', 'meta.created le "2024-01-31T00:00:00Z"', 'COALESCE((u.created_at) <= ?::timestamptz, FALSE)', ['2024-01-31T00:00:00.000Z']],
    ['userName gt compares by code point (COLLATE "C")', 'userName gt "M"', 'COALESCE((u.user_name_ci) COLLATE "C" > ? COLLATE "C", FALSE)', ['m']],
    ['externalId eq null: has no value', 'externalId eq null', '(NOT (u.external_id IS NOT NULL))', []],
    ['externalId pr', 'externalId pr', '(u.external_id IS NOT NULL)', []],
  ])('%s', (_note, filter, sql, bindings) => {
    expect(user(filter)).toEqual({ sql, bindings });
  });

  it('groups: displayName eq is lower(display_name) (Entra: groups by displayName eq)', () => {
    expect(group('displayName eq "Sales Team"')).toEqual({ sql: '(g.display_name_ci = ?)', bindings: ['sales team'] });
  });
});

describe('co / sw / ew escape LIKE wildcards (RFC 7644 §3.4.2.2: the characters, not a pattern)', () => {
  it.each<[string, string, string]>([
    ['co', 'userName co "50%_off"', '%50\\%\\_off%'],
    ['sw', 'userName sw "a_b"', 'a\\_b%'],
    ['ew', 'userName ew "100%"', '%100\\%'],
    ['backslash is escaped too', 'userName co "a\\\\b"', '%a\\\\b%'],
    ['lower-cased for a caseExact=false attribute', 'userName sw "ALICE"', 'alice%'],
  ])('%s', (_note, filter, pattern) => {
    const s = user(filter);
    expect(s.sql).toBe("COALESCE(u.user_name_ci LIKE ? ESCAPE '\\', FALSE)");
    expect(s.bindings).toEqual([pattern]);
  });

  it('externalId co keeps the case (caseExact)', () => {
    expect(user('externalId co "Ab%"')).toEqual({ sql: "COALESCE(u.external_id LIKE ? ESCAPE '\\', FALSE)", bindings: ['%Ab\\%%'] });
  });

  it('likeEscape escapes exactly \\, % and _', () => {
    expect(likeEscape('a%b_c\\d.e*f')).toBe('a\\%b\\_c\\\\d.e*f');
  });
});

describe('users’ emails: eq is one probe of the user_emails side table (indexed under row-level security)', () => {
  const SIDE = '(u.id IN (SELECT ue.user_id FROM user_emails ue WHERE ue.tenant_id = ? AND ue.value_ci = ?))';
  const SIDE_TYPED = '(u.id IN (SELECT ue.user_id FROM user_emails ue WHERE ue.tenant_id = ? AND ue.value_ci = ? AND ue.type_ci = ?))';
  it.each<[string, string, string, unknown[]]>([
    ['Okta: emails eq, lower-cased (value is caseExact=false)', 'emails eq "B@X.com"', SIDE, [TENANT, 'b@x.com']],
    ['emails.value eq', 'emails.value eq "B@X.com"', SIDE, [TENANT, 'b@x.com']],
    ['Entra: emails[type eq "work"].value eq, both lower-cased', 'emails[type eq "Work"].value eq "Bjensen@Example.com"', SIDE_TYPED, [TENANT, 'bjensen@example.com', 'work']],
    ['a value path of value and type in either order', 'emails[value eq "A@x.com" and type eq "home"]', SIDE_TYPED, [TENANT, 'a@x.com', 'home']],
  ])('%s', (_note, filter, sql, bindings) => {
    expect(user(filter)).toEqual({ sql, bindings });
  });

  it('other comparisons and sub-attributes stay on the JSON', () => {
    expect(user('emails.value co "@x.com"').sql).toMatch(/jsonb_array_elements/);
    expect(user('emails[primary eq true]').sql).toBe(CONTAINS);
    expect(user('emails[type eq "work" and primary eq true]').sql).toBe(CONTAINS);
  });
});

describe('JSON attributes: eq is one GIN-served containment on the folded copy', () => {
  it.each<[string, string, unknown]>([
    ['singular string, lower-cased (caseExact=false)', 'title eq "Tour Guide"', { title: 'tour guide' }],
    ['sub-attribute', 'name.familyName eq "Jensen"', { name: { familyName: 'jensen' } }],
    ['multi-valued sub-attribute without a side table: any element', 'phoneNumbers.value eq "555-1"', { phoneNumbers: [{ value: '555-1' }] }],
    ['complex multi-valued without sub-attribute compares value (RFC 7644 §3.4.2.2)', 'phoneNumbers eq "555-1"', { phoneNumbers: [{ value: '555-1' }] }],
    ['boolean sub-attribute from the string "True" (Entra role filter)', 'roles.primary eq "True"', { roles: [{ primary: true }] }],
    ['value path of eq conjunctions', 'addresses[type eq "work" and postalCode eq "91608"]', { addresses: [{ type: 'work', postalCode: '91608' }] }],
    ['enterprise extension attribute by URN, lower-cased', `${ENTERPRISE}:employeeNumber eq "E-7"`, { [ENTERPRISE]: { employeeNumber: 'e-7' } }],
    ['enterprise manager without sub-attribute compares manager.value', `${ENTERPRISE}:manager eq "M1"`, { [ENTERPRISE]: { manager: { value: 'm1' } } }],
    ['singular complex value path', `${ENTERPRISE}:manager[value eq "M1"]`, { [ENTERPRISE]: { manager: { value: 'm1' } } }],
    ['caseExact extension attribute keeps its case', `${PROVISIO_USER}:priceList eq "PL-A"`, { [PROVISIO_USER]: { priceList: 'PL-A' } }],
    ['extension boolean from "true"', `${PROVISIO_USER}:canManageLicences eq "true"`, { [PROVISIO_USER]: { canManageLicences: true } }],
  ])('%s', (_note, filter, document) => {
    const s = user(filter);
    expect(s.sql).toBe(CONTAINS);
    expect(s.bindings).toHaveLength(1);
    expect(doc(s)).toEqual(document);
  });

  it('group extension attribute (caseExact kind)', () => {
    const s = group(`${PROVISIO_GROUP}:kind eq "subAccount"`);
    expect(s.sql).toBe('(g.folded @> ?::jsonb)');
    expect(doc(s)).toEqual({ [PROVISIO_GROUP]: { kind: 'subAccount' } });
  });

  it('a value path that is not a conjunction of eq is one EXISTS over the elements (RFC 7644 §3.4.2.2 example)', () => {
    expect(user('emails[type eq "Work" and value co "@Example.com"]')).toEqual({
      sql: `EXISTS (SELECT 1 FROM jsonb_array_elements(COALESCE(u.folded #> '{"emails"}', '[]'::jsonb)) AS e WHERE ((e ->> 'type' = ?) AND COALESCE(e ->> 'value' LIKE ? ESCAPE '\\', FALSE)))`,
      bindings: ['work', '%@example.com%'],
    });
  });

  it('co on a multi-valued attribute tests each element (RFC 7644 §3.4.2.2 "emails co")', () => {
    expect(user('emails co "Example.COM"')).toEqual({
      sql: `EXISTS (SELECT 1 FROM jsonb_array_elements(COALESCE(u.folded #> '{"emails"}', '[]'::jsonb)) AS e WHERE COALESCE(e ->> 'value' LIKE ? ESCAPE '\\', FALSE))`,
      bindings: ['%example.com%'],
    });
  });

  it('sw on a singular JSON attribute reads the folded text', () => {
    expect(user('name.givenName sw "Bar"')).toEqual({
      sql: `COALESCE(u.folded #>> '{"name","givenName"}' LIKE ? ESCAPE '\\', FALSE)`,
      bindings: ['bar%'],
    });
  });


  it.each<[string, string, Sql]>([
    ['pr on a singular attribute', 'title pr', { sql: '(u.folded #> ? IS NOT NULL)', bindings: ['{"title"}'] }],
    ['pr on a multi-valued attribute', 'emails pr', { sql: '(u.folded #> ? IS NOT NULL)', bindings: ['{"emails"}'] }],
    [
      'pr on a sub-attribute of a multi-valued attribute: any element has it',
      'emails.display pr',
      { sql: `EXISTS (SELECT 1 FROM jsonb_array_elements(COALESCE(u.folded #> ?, '[]'::jsonb)) AS e WHERE e ->> ? IS NOT NULL)`, bindings: ['{"emails"}', 'display'] },
    ],
    ['pr on an extension attribute', `${ENTERPRISE}:department pr`, { sql: '(u.folded #> ? IS NOT NULL)', bindings: [`{"${ENTERPRISE}","department"}`] }],
  ])('%s', (_note, filter, expected) => {
    expect(user(filter)).toEqual(expected);
  });
});

describe('not and ne treat absent values as matching (RFC 7644 §3.4.2.2: "not" is the logical negation)', () => {
  it.each<[string, string, Sql]>([
    // A NULL column makes `col = ?` unknown; NOT unknown is unknown and drops the row. IS NOT TRUE keeps it.
    ['not (externalId eq): users without externalId match', 'not (externalId eq "x")', { sql: '((u.external_id = ?) IS NOT TRUE)', bindings: ['x'] }],
    ['externalId ne: NULL is distinct', 'externalId ne "x"', { sql: '(u.external_id IS DISTINCT FROM ?)', bindings: ['x'] }],
    ['userName ne', 'userName ne "A"', { sql: '(u.user_name_ci IS DISTINCT FROM ?)', bindings: ['a'] }],
    ['meta.lastModified ne', 'meta.lastModified ne "2024-01-01T00:00:00Z"', { sql: '((u.updated_at) IS DISTINCT FROM ?::timestamptz)', bindings: ['2024-01-01T00:00:00.000Z'] }],
    ['active ne', 'active ne true', { sql: '((u.active) IS DISTINCT FROM ?)', bindings: [true] }],
    ['title ne: negated containment (absent title matches)', 'title ne "Boss"', { sql: `(NOT ${CONTAINS})`, bindings: ['{"title":"boss"}'] }],
    ['not (title eq)', 'not (title eq "Boss")', { sql: `(${CONTAINS} IS NOT TRUE)`, bindings: ['{"title":"boss"}'] }],
    ['not (title co): COALESCE keeps it two-valued', 'not (title co "b")', { sql: `(COALESCE(u.folded #>> '{"title"}' LIKE ? ESCAPE '\\', FALSE) IS NOT TRUE)`, bindings: ['%b%'] }],
    ['emails.value ne: no element equals', 'emails.value ne "A@x"', { sql: `(NOT ${CONTAINS})`, bindings: ['{"emails":[{"value":"a@x"}]}'] }],
    ['ne null: has a value', 'title ne null', { sql: `(u.folded #> '{"title"}' IS NOT NULL)`, bindings: [] }],
    [
      'not inside a value path: an element without type matches',
      'emails[not (type eq "work")]',
      { sql: `EXISTS (SELECT 1 FROM jsonb_array_elements(COALESCE(u.folded #> '{"emails"}', '[]'::jsonb)) AS e WHERE ((e ->> 'type' = ?) IS NOT TRUE))`, bindings: ['work'] },
    ],
    [
      'not of a conjunction with a nullable column',
      'not (externalId eq "x" and title pr)',
      { sql: `(((u.external_id = ?) AND (u.folded #> ? IS NOT NULL)) IS NOT TRUE)`, bindings: ['x', '{"title"}'] },
    ],
  ])('%s', (_note, filter, expected) => {
    expect(user(filter)).toEqual(expected);
  });
});

describe('and / or keep bindings in SQL order', () => {
  it('Entra matching filter: userName eq and emails[type eq "work"].value eq', () => {
    const s = user('userName eq "A" and emails[type eq "work"].value eq "B"');
    expect(s.sql).toBe('((u.user_name_ci = ?) AND (u.id IN (SELECT ue.user_id FROM user_emails ue WHERE ue.tenant_id = ? AND ue.value_ci = ? AND ue.type_ci = ?)))');
    expect(s.bindings).toEqual(['a', TENANT, 'b', 'work']);
  });

  it('or of column and JSON', () => {
    const s = user('externalId eq "X" or title eq "Y"');
    expect(s).toEqual({ sql: `((u.external_id = ?) OR ${CONTAINS})`, bindings: ['X', '{"title":"y"}'] });
  });

  it('the number of ? placeholders always equals the number of bindings', () => {
    for (const f of [
      'userName eq "a" or (title pr and not (emails[type eq "work" and value co "x"]))',
      `groups.value eq "${GID}" and emails.display pr`,
      'meta.created gt "2024-01-01T00:00:00Z" and name.givenName ew "z" or active eq false',
    ]) {
      const s = user(f);
      expect(s.sql.split('?').length - 1).toBe(s.bindings.length);
    }
  });
});

describe('membership-backed attributes compile to subqueries scoped to the tenant', () => {
  it('groups: members.value eq <id> (Okta/Entra membership check)', () => {
    const s = group(`members.value eq "${GID}"`);
    expect(s.sql).toMatch(/EXISTS \(SELECT 1 FROM group_user_members m WHERE m\.tenant_id = \? AND m\.group_id = g\.id AND m\.user_id = \?::uuid\)/);
    expect(s.sql).toMatch(/group_group_members/);
    expect(s.bindings).toEqual([TENANT, gid, TENANT, gid]);
  });

  it('groups: members[value eq <id>] (Okta remove path as a filter) is the same', () => {
    expect(group(`members[value eq "${GID}"]`)).toEqual(group(`members.value eq "${GID}"`));
  });

  it('groups: members.value ne <id> is the negation', () => {
    const eq = group(`members.value eq "${GID}"`);
    expect(group(`members.value ne "${GID}"`)).toEqual({ sql: `(NOT ${eq.sql})`, bindings: eq.bindings });
  });

  it('groups: members pr', () => {
    const s = group('members pr');
    expect(s.sql).toMatch(/group_user_members m WHERE m\.tenant_id = \? AND m\.group_id = g\.id/);
    expect(s.bindings).toEqual([TENANT, TENANT]);
  });

  it('users: groups.value eq <id> walks nested groups (RFC 7643 §4.1.2 indirect membership)', () => {
    const s = user(`groups.value eq "${GID}"`);
    expect(s.sql).toMatch(/^\(u\.id IN \(/);
    expect(s.sql).toMatch(/WITH RECURSIVE/);
    expect(s.bindings).toEqual([gid, TENANT, TENANT]);
  });

  it('users: groups pr', () => {
    expect(user('groups pr')).toEqual({ sql: 'EXISTS (SELECT 1 FROM group_user_members m WHERE m.tenant_id = ? AND m.user_id = u.id)', bindings: [TENANT] });
  });

  it.each<[string, string, string]>([
    ['non-uuid member id matches nothing', 'members.value eq "nope"', 'FALSE'],
    ['non-uuid member id: ne matches everything', 'members.value ne "nope"', 'TRUE'],
  ])('%s', (_note, filter, sql) => {
    expect(group(filter)).toEqual({ sql, bindings: [] });
  });

  it('the tenant of one compile() does not leak into the next', () => {
    const other = '99999999-2222-3333-4444-555555555555';
    expect(groups.compile(parseFilter('members pr'), other).bindings).toEqual([other, other]);
    expect(group('members pr').bindings).toEqual([TENANT, TENANT]);
  });
});

describe('schemas and meta, which are not stored in the row (RFC 7644 §3.4.2.2 `schemas eq` example)', () => {
  it.each<[string, string, Sql]>([
    ['the core schema: every user', `schemas eq "${USER_URN}"`, { sql: 'TRUE', bindings: [] }],
    ['URNs compare case-insensitively (RFC 7643 §2.1, idp-interop.md)', `schemas eq "${USER_URN.toUpperCase()}"`, { sql: 'TRUE', bindings: [] }],
    ['an extension: users that have its data', `schemas eq "${ENTERPRISE}"`, { sql: `(u.folded #> '{"${ENTERPRISE}"}' IS NOT NULL)`, bindings: [] }],
    ['an unknown schema: no user', 'schemas eq "urn:example:other"', { sql: 'FALSE', bindings: [] }],
    ['ne an extension', `schemas ne "${ENTERPRISE}"`, { sql: `((u.folded #> '{"${ENTERPRISE}"}' IS NOT NULL) IS NOT TRUE)`, bindings: [] }],
    ['ne the core schema: no user', `schemas ne "${USER_URN}"`, { sql: 'FALSE', bindings: [] }],
    ['eq null: every resource has schemas', 'schemas eq null', { sql: 'FALSE', bindings: [] }],
    ['co matches every known schema containing the text', 'schemas co "enterprise"', { sql: `(u.folded #> '{"${ENTERPRISE}"}' IS NOT NULL)`, bindings: [] }],
    ['schemas pr', 'schemas pr', { sql: 'TRUE', bindings: [] }],
    ['meta.resourceType eq the type', 'meta.resourceType eq "User"', { sql: 'TRUE', bindings: [] }],
    ['meta.resourceType eq another type', 'meta.resourceType eq "Group"', { sql: 'FALSE', bindings: [] }],
    ['meta pr', 'meta pr', { sql: 'TRUE', bindings: [] }],
  ])('%s', (_note, filter, expected) => {
    expect(user(filter)).toEqual(expected);
  });

  it('groups: the group schema is TRUE, the user schema FALSE', () => {
    expect(group('schemas eq "urn:ietf:params:scim:schemas:core:2.0:Group"')).toEqual({ sql: 'TRUE', bindings: [] });
    expect(group(`schemas eq "${USER_URN}"`)).toEqual({ sql: 'FALSE', bindings: [] });
  });
});

describe('what cannot be translated is 400 invalidFilter, never "all rows"', () => {
  it.each<[string, string]>([
    ['unknown attribute', 'nickname2 eq "x"'],
    ['unknown sub-attribute', 'name.middle eq "x"'],
    ['unknown extension attribute', `${ENTERPRISE}:shoeSize eq "x"`],
    ['unknown URN', 'urn:example:ext:2.0:User:x eq "y"'],
    ['password is returned "never" (RFC 7643 §4.1.1)', 'password eq "secret"'],
    ['password pr', 'password pr'],
    ['boolean compared with gt', 'active gt true'],
    ['boolean in JSON compared with lt', 'emails.primary lt true'],
    ['boolean compared with a non-boolean string', 'active eq "yes"'],
    ['dateTime with co', 'meta.created co "2024"'],
    ['dateTime with sw', 'meta.lastModified sw "2024-01-01T00:00:00Z"'],
    ['dateTime compared with a non-date', 'meta.created gt "yesterday"'],
    ['dateTime compared with a number', 'meta.created gt 5'],
    ['string compared with a number', 'userName eq 5'],
    ['JSON string compared with a boolean', 'title eq true'],
    ['gt with null', 'title gt null'],
    ['binary with co', 'x509Certificates.value co "MII"'],
    ['complex without value sub-attribute', 'name eq "x"'],
    ['value path on a simple attribute', 'userName[value eq "x"]'],
    ['value path on a sub-attribute', 'name.givenName[value eq "x"]'],
    ['unknown sub-attribute in a value path', 'emails[kind eq "x"]'],
    ['users: groups.display is not a membership value', 'groups.display eq "Admins"'],
    ['users: groups.value co', `groups.value co "aaaa"`],
    ['meta.location cannot be filtered on', 'meta.location eq "https://x/Users/1"'],
    ['meta.version cannot be filtered on', 'meta.version eq "W/\\"1\\""'],
    ['value path on meta', 'meta[created gt "2024-01-01T00:00:00Z"]'],
    ['schemas compared with a number', 'schemas eq 1'],
    // readOnly values are never stored in `folded` (normalize.ts drops them): a JSON test would match nothing.
    ['readOnly sub-attribute (enterprise manager.displayName)', `${ENTERPRISE}:manager.displayName eq "Boss"`],
    ['readOnly sub-attribute in a value path', `${ENTERPRISE}:manager[displayName eq "Boss"]`],
    ['readOnly sub-attribute pr', `${ENTERPRISE}:manager.displayName pr`],
  ])('users: %s', (_note, filter) => {
    expectScimError(() => user(filter), 400, 'invalidFilter');
  });

  it.each<[string, string]>([
    ['members.display', 'members.display eq "x"'],
    ['members[type eq …]', 'members[type eq "User"]'],
    ['members.value sw', 'members.value sw "a"'],
    ['userName does not exist on groups', 'userName eq "x"'],
  ])('groups: %s', (_note, filter) => {
    expectScimError(() => group(filter), 400, 'invalidFilter');
  });
});

describe('extension attributes the server keeps in columns (TableMap "<urn>:<name>" keys)', () => {
  // The table map of kinds.ts plus the columns behind the computed readOnly extension attributes.
  const compiler = new FilterCompiler(catalog.users.schema, {
    alias: 'u',
    columns: {
      username: { column: 'user_name', type: 'text_ci' },
      [`${PROVISIO_USER}:activationState`.toLowerCase()]: { column: 'activation_state', type: 'text' },
      [`${PROVISIO_USER}:primaryAdmin`.toLowerCase()]: { column: 'is_primary_admin', type: 'boolean' },
      [`${PROVISIO_USER}:privacyPolicyAcceptedAt`.toLowerCase()]: { column: 'privacy_accepted_at', type: 'timestamptz' },
    },
    computedExtensions: [PROVISIO_USER],
  });
  const c = (f: string) => compiler.compile(parseFilter(f), TENANT);

  it.each<[string, string, Sql]>([
    ['readOnly text extension attribute', `${PROVISIO_USER}:activationState eq "active"`, { sql: '(u.activation_state = ?)', bindings: ['active'] }],
    ['URN in any case', `${PROVISIO_USER.toUpperCase()}:ACTIVATIONSTATE eq "active"`, { sql: '(u.activation_state = ?)', bindings: ['active'] }],
    ['boolean', `${PROVISIO_USER}:primaryAdmin eq true`, { sql: 'COALESCE(u.is_primary_admin = ?, FALSE)', bindings: [true] }],
    ['dateTime', `${PROVISIO_USER}:privacyPolicyAcceptedAt gt "2024-01-01T00:00:00Z"`, { sql: 'COALESCE((u.privacy_accepted_at) > ?::timestamptz, FALSE)', bindings: ['2024-01-01T00:00:00.000Z'] }],
    ['pr', `${PROVISIO_USER}:privacyPolicyAcceptedAt pr`, { sql: '(u.privacy_accepted_at IS NOT NULL)', bindings: [] }],
    ['a computed extension is always in schemas', `schemas eq "${PROVISIO_USER}"`, { sql: 'TRUE', bindings: [] }],
    [
      'schemas co "extension" ORs the stored and the computed extension',
      'schemas co "extension"',
      { sql: 'TRUE', bindings: [] },
    ],
  ])('%s', (_note, filter, expected) => {
    expect(c(filter)).toEqual(expected);
  });

  it('sortBy uses the column', () => {
    expect(compiler.sortExpression(`${PROVISIO_USER}:privacyPolicyAcceptedAt`)).toEqual({ sql: 'u.privacy_accepted_at', kind: 'timestamptz' });
  });

  it('without such a column the readOnly attribute is invalidFilter, not an empty result', () => {
    const bare = new FilterCompiler(catalog.users.schema, { alias: 'u', columns: {} });
    expectScimError(() => bare.compile(parseFilter(`${PROVISIO_USER}:activationState eq "active"`), TENANT), 400, 'invalidFilter');
    expectScimError(() => bare.compile(parseFilter(`${PROVISIO_USER}:primaryAdmin pr`), TENANT), 400, 'invalidFilter');
  });
});

describe('sortExpression (RFC 7644 §3.4.2.3)', () => {
  it.each<[string, string, { sql: string; kind: string }]>([
    ['userName sorts case-insensitively on the indexed expression', 'userName', { sql: 'u.user_name_ci', kind: 'text' }],
    ['any case', 'USERNAME', { sql: 'u.user_name_ci', kind: 'text' }],
    ['name.familyName reads the folded JSON', 'name.familyName', { sql: `(u.folded #>> '{"name","familyName"}')`, kind: 'text' }],
    [
      'emails: the primary value, else the first (RFC 7644 §3.4.2.3 multi-valued)',
      'emails',
      {
        sql: `(SELECT e ->> 'value' FROM jsonb_array_elements(COALESCE(u.folded #> '{"emails"}', '[]'::jsonb)) AS e ORDER BY (e ->> 'primary') = 'true' DESC NULLS LAST LIMIT 1)`,
        kind: 'text',
      },
    ],
    ['meta.created is the timestamptz column', 'meta.created', { sql: 'u.created_at', kind: 'timestamptz' }],
    ['meta.lastModified', 'meta.lastModified', { sql: 'u.updated_at', kind: 'timestamptz' }],
    ['externalId as text', 'externalId', { sql: 'u.external_id::text', kind: 'text' }],
    ['active is boolean', 'active', { sql: 'u.active', kind: 'boolean' }],
    ['extension attribute by URN', `${ENTERPRISE}:department`, { sql: `(u.folded #>> '{"${ENTERPRISE}","department"}')`, kind: 'text' }],
    ['extension boolean', `${PROVISIO_USER}:canManageLicences`, { sql: `((u.folded #>> '{"${PROVISIO_USER}","canManageLicences"}'))::boolean`, kind: 'boolean' }],
  ])('%s', (_note, sortBy, expected) => {
    expect(users.sortExpression(sortBy)).toEqual(expected);
  });

  it('groups: displayName', () => {
    expect(groups.sortExpression('displayName')).toEqual({ sql: 'g.display_name_ci', kind: 'text' });
  });

  it.each<[string, FilterCompiler, string]>([
    ['unknown attribute', users, 'shoeSize'],
    ['password (returned never)', users, 'password'],
    ['complex without value', users, 'name'],
    ['membership-backed groups', users, 'groups'],
    ['membership-backed members', groups, 'members.value'],
  ])('%s is invalidFilter', (_note, compiler, sortBy) => {
    expectScimError(() => compiler.sortExpression(sortBy), 400, 'invalidFilter');
  });
});
