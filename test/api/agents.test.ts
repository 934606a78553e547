// AI agents as identities (draft-abbey-scim-agent-extension-00): /Agents and /AgenticApplications
// served by the one resource engine (resources/kinds.ts documentKind, resources/references.ts) —
// discovery, CRUD, filters, PATCH, ETags, cursor paging, Bulk, events, tenant isolation and the
// authority rule (resources/authority.ts point 5). On both databases.
import { decodeJwt } from 'jose';
import { parseFilter } from '../../server/scim/filter';
import { inTenant } from '../../server/store/scope';
import { adminApi, createTenant, expectScimError, Harness, PROVISIO_GROUP, scim, startHarness, TestTenant } from '../support/harness';

const AGENT = 'urn:ietf:params:scim:schemas:core:2.0:Agent';
const APP = 'urn:ietf:params:scim:schemas:core:2.0:AgenticApplication';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const BULK = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';

let h: Harness;
let t: TestTenant;
let other: TestTenant;
let api: ReturnType<typeof scim>;

beforeAll(async () => {
  h = await startHarness();
  t = await createTenant(h, 'Acme');
  other = await createTenant(h, 'Other');
  api = scim(h, t);
});
afterAll(() => h.close());

const agent = (name: string, extra: Record<string, unknown> = {}) => api.post('/Agents', { schemas: [AGENT], name, ...extra });
const app = (name: string, extra: Record<string, unknown> = {}) => api.post('/AgenticApplications', { schemas: [APP], name, ...extra });
const patch = (path: string, Operations: unknown[], client = api) => client.patch(path, { schemas: [PATCH], Operations });
const names = (res: { body: { Resources: { name: string }[] } }) => res.body.Resources.map((r) => r.name).sort();

describe('discovery', () => {
  it('shows both resource types, their schemas and the agentExtension of ServiceProviderConfig', async () => {
    const types = (await api.get('/ResourceTypes').expect(200)).body.Resources;
    expect(types.find((r: { id: string }) => r.id === 'Agent')).toMatchObject({ name: 'Agent', endpoint: '/Agents', schema: AGENT, schemaExtensions: [] });
    expect(types.find((r: { id: string }) => r.id === 'AgenticApplication')).toMatchObject({ endpoint: '/AgenticApplications', schema: APP });
    const agentSchema = (await api.get(`/Schemas/${AGENT}`).expect(200)).body;
    const attr = (s: { attributes: { name: string }[] }, n: string) => s.attributes.find((a) => a.name === n) as Record<string, unknown>;
    expect(attr(agentSchema, 'name')).toMatchObject({ required: true, uniqueness: 'server', caseExact: false });
    expect(attr(agentSchema, 'applications')).toMatchObject({ mutability: 'readOnly', multiValued: true });
    const appSchema = (await api.get(`/Schemas/${APP}`).expect(200)).body;
    expect(attr(appSchema, 'agents')).toMatchObject({ mutability: 'readWrite', multiValued: true });
    expect(attr(appSchema, 'lastAccessed')).toMatchObject({ mutability: 'readOnly', type: 'dateTime' });
    const spc = await api.get('/ServiceProviderConfig').expect(200);
    expect(spc.headers['content-type']).toMatch(/application\/scim\+json/);
    expect(spc.body.agentExtension).toEqual({ supported: true, agentsSupported: true, agenticApplicationsSupported: true });
  });
});

describe('a conformance probe’s agent phases', () => {
  it.each([
    ['Agent', '/Agents', AGENT],
    ['AgenticApplication', '/AgenticApplications', APP],
  ])('%s: POST, GET, PUT of what was read, PATCH active, DELETE, then 404', async (type, endpoint, urn) => {
    const created = await api.post(endpoint, { schemas: [urn], name: `probe-${type}`, displayName: 'Probe', active: true }).expect(201);
    expect(created.headers['content-type']).toMatch(/application\/scim\+json/);
    expect(created.headers.location).toBe(created.body.meta.location);
    expect(created.headers.etag).toBe(created.body.meta.version);
    expect(created.body).toMatchObject({ schemas: [urn], name: `probe-${type}`, active: true, meta: { resourceType: type } });
    const id = created.body.id;
    const read = await api.get(`${endpoint}/${id}`).expect(200);
    // The probe sends back what it read, without meta, with a new displayName.
    const { meta: _meta, ...body } = read.body;
    const put = await api.put(`${endpoint}/${id}`, { ...body, displayName: 'Updated' }).expect(200);
    expect(put.body.displayName).toBe('Updated');
    expect(put.headers.etag).not.toBe(created.headers.etag);
    const patched = await patch(`${endpoint}/${id}`, [{ op: 'replace', path: 'active', value: false }]).expect(200);
    expect(patched.body.active).toBe(false);
    expect((await api.get(`${endpoint}/${id}`).expect(200)).body).toMatchObject({ active: false, displayName: 'Updated' });
    await api.delete(`${endpoint}/${id}`).expect(204);
    expectScimError(await api.get(`${endpoint}/${id}`), 404);
  });

  it('creates and deletes agents one after another (the rapid lifecycle)', async () => {
    for (let i = 0; i < 5; i++) {
      const id = (await agent(`rapid-${i}`).expect(201)).body.id;
      await api.delete(`/Agents/${id}`).expect(204);
    }
    expect((await api.get('/Agents').query({ filter: 'name sw "rapid-"' }).expect(200)).body.totalResults).toBe(0);
  });
});

describe('references between agents, applications, users and groups', () => {
  it('an application names its agents; each agent reads it back in applications; owners and parent resolve; deletes drop them', async () => {
    const owner = (await api.post('/Users', { userName: 'owner@acme.test', displayName: 'Olive Owner' }).expect(201)).body.id;
    const team = (await api.post('/Groups', { displayName: 'Bot keepers' }).expect(201)).body.id;
    const helper = (await agent('helper', { displayName: 'Helper' }).expect(201)).body;
    const bot = await agent('Helpdesk bot', {
      agentType: 'Assistant',
      owners: [{ value: owner }, { value: team.toUpperCase() }],
      parent: { value: helper.id },
      protocols: [{ type: 'A2A', specificationUrl: 'https://agents.acme.test/helpdesk/agent-card.json' }],
      subject: 'helpdesk-bot',
    }).expect(201);
    expect(bot.body.owners).toEqual([
      { value: owner, $ref: `${t.base}/Users/${owner}`, display: 'Olive Owner' },
      { value: team, $ref: `${t.base}/Groups/${team}`, display: 'Bot keepers' },
    ]);
    expect(bot.body.parent).toEqual({ value: helper.id, $ref: `${t.base}/Agents/${helper.id}`, display: 'Helper' });
    const portal = await app('Support portal', {
      applicationUrls: [{ type: 'homepage', value: 'https://support.acme.test', primary: true }],
      oAuthConfiguration: [{ clientId: '0oa-support', redirectUri: ['https://support.acme.test/cb'] }],
      agents: [{ value: bot.body.id, type: 'owned' }, { value: helper.id, type: 'authorized' }],
    }).expect(201);
    expect(portal.body.agents[0]).toEqual({ value: bot.body.id, $ref: `${t.base}/Agents/${bot.body.id}`, display: 'Helpdesk bot', type: 'owned' });
    const readBot = (await api.get(`/Agents/${bot.body.id}`).expect(200)).body;
    // A projection returns what it names, resolved, and nothing else.
    expect((await api.get(`/Agents/${bot.body.id}`).query({ attributes: 'applications.display,owners.display' }).expect(200)).body).toEqual({
      schemas: [AGENT],
      id: bot.body.id,
      owners: [{ display: 'Olive Owner' }, { display: 'Bot keepers' }],
      applications: [{ display: 'Support portal' }],
    });
    expect((await api.get(`/Agents/${bot.body.id}`).query({ excludedAttributes: 'applications,owners' }).expect(200)).body).not.toHaveProperty('applications');
    expect(readBot.applications).toEqual([{ value: portal.body.id, $ref: `${t.base}/AgenticApplications/${portal.body.id}`, display: 'Support portal', type: 'owned' }]);

    // A value that names nothing of this tenant (unknown, a user where an agent is due, another tenant's) is 400.
    const otherAgent = (await scim(h, other).post('/Agents', { name: 'theirs' }).expect(201)).body.id;
    for (const agents of [[{ value: '0190f3a2-0000-7000-8000-000000000000' }], [{ value: owner }], [{ value: otherAgent }], [{ value: 'not-an-id' }]]) {
      expectScimError(await app('Bad', { agents }), 400, 'invalidValue');
    }
    expectScimError(await patch(`/Agents/${bot.body.id}`, [{ op: 'replace', path: 'parent', value: { value: bot.body.id } }]), 400, 'invalidValue');
    // A hierarchy has no cycles: the helper cannot be placed below the bot, whose parent it is.
    expectScimError(await patch(`/Agents/${helper.id}`, [{ op: 'replace', path: 'parent', value: { value: bot.body.id } }]), 400, 'invalidValue');
    expectScimError(await patch(`/Agents/${bot.body.id}`, [{ op: 'add', path: 'owners', value: [{ value: helper.id }] }]), 400, 'invalidValue');

    // Deleting the helper drops it from the portal's agents and from the bot's parent, each a new version.
    const portalVersion = portal.headers.etag;
    await api.delete(`/Agents/${helper.id}`).expect(204);
    const after = await api.get(`/AgenticApplications/${portal.body.id}`).expect(200);
    expect(after.body.agents.map((a: { value: string }) => a.value)).toEqual([bot.body.id]);
    expect(after.headers.etag).not.toBe(portalVersion);
    expect((await api.get(`/Agents/${bot.body.id}`).expect(200)).body.parent).toBeUndefined();
    // Each is audited as a change of the application, with its cause.
    const audit = await h.http.get('/api/v1/audit').query({ action: 'agenticApplication.patch', target: portal.body.id }).set('Authorization', `Bearer ${t.token}`).expect(200);
    expect(audit.body.entries).toEqual([
      expect.objectContaining({ target: { type: 'AgenticApplication', id: portal.body.id }, changes: expect.objectContaining({ cause: { referenceDeleted: { type: 'Agent', id: helper.id } } }) }),
    ]);
    // ...and deleting the owner drops it from the bot's owners.
    await api.delete(`/Users/${owner}`).expect(204);
    expect((await api.get(`/Agents/${bot.body.id}`).expect(200)).body.owners.map((o: { value: string }) => o.value)).toEqual([team]);
    // Deleting the application empties the bot's applications.
    await api.delete(`/AgenticApplications/${portal.body.id}`).expect(204);
    expect((await api.get(`/Agents/${bot.body.id}`).expect(200)).body.applications).toBeUndefined();
  });
});

describe('a reference and a concurrent delete of its target', () => {
  // PGlite has one connection, so two transactions never overlap there: PostgreSQL only.
  (process.env.TEST_DB === 'postgres' ? it : it.skip)('a write naming an agent whose delete is under way waits for it, then finds it gone (400), never a dangling value', async () => {
    const doomed = (await agent('Doomed bot').expect(201)).body.id;
    const hub = (await app('Race hub').expect(201)).body.id;
    let deleted!: () => void;
    const deleting = new Promise<void>((resolve) => (deleted = resolve));
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    // A delete in flight: the row is gone in this transaction, which has not committed yet.
    const tx = inTenant(h.deps.db.knex, t.id, async (trx) => {
      await trx.raw('DELETE FROM agents WHERE tenant_id = ? AND id = ?', [t.id, doomed]);
      deleted();
      await gate;
    });
    await deleting;
    const pending = patch(`/AgenticApplications/${hub}`, [{ op: 'add', path: 'agents', value: [{ value: doomed }] }]).then((r) => r);
    // Wait until the PATCH waits on the row's lock (its check locks what it names, as a foreign key does).
    for (let i = 0; i < 400; i++) {
      const waiting = await h.owner((db) => db.raw("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"));
      if (waiting.rows[0].n > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    release();
    await tx;
    expectScimError(await pending, 400, 'invalidValue');
    expect((await api.get(`/AgenticApplications/${hub}`).expect(200)).body.agents).toBeUndefined();
  });
});

describe('the sub-account purge', () => {
  it('drops a purged user from the owners of agents, in the purge’s transaction', async () => {
    const leaver = (await api.post('/Users', { userName: 'leaver@acme.test' }).expect(201)).body.id;
    const stayer = (await api.post('/Users', { userName: 'stayer@acme.test' }).expect(201)).body.id;
    const branch = (await api.post('/Groups', { displayName: 'Closing branch', members: [{ value: leaver }], [PROVISIO_GROUP]: { kind: 'subAccount' } }).expect(201)).body.id;
    const bot = (await agent('Purge-owned bot', { owners: [{ value: leaver }, { value: stayer }] }).expect(201));
    await patch(`/Groups/${branch}`, [{ op: 'replace', path: `${PROVISIO_GROUP}:active`, value: false }]).expect(204);
    // Twelve months and a bit later (docs/tenancy.md): the branch and its only member go.
    const done = await h.deps.jobs.purgeSubAccounts(new Date(Date.now() + 400 * 86_400_000));
    expect(done).toEqual([{ tenantId: t.id, subAccountId: branch, usersDeleted: 1 }]);
    const after = await api.get(`/Agents/${bot.body.id}`).expect(200);
    expect(after.body.owners.map((o: { value: string }) => o.value)).toEqual([stayer]);
    expect(after.headers.etag).not.toBe(bot.headers.etag);
  });
});

describe('filters, sorting, paging', () => {
  beforeAll(async () => {
    await agent('Filter alpha', { agentType: 'Assistant', externalId: 'ext-a', active: true, protocols: [{ type: 'MCP-Server' }] }).expect(201);
    await agent('Filter beta', { agentType: 'Researcher', active: false, displayName: 'Beta' }).expect(201);
    await agent('Filter gamma', { agentType: 'assistant', active: true }).expect(201);
  });

  it.each([
    ['name eq "filter ALPHA"', ['Filter alpha']],
    ['externalId eq "ext-a"', ['Filter alpha']],
    ['name sw "filter " and agentType eq "assistant"', ['Filter alpha', 'Filter gamma']],
    ['name co "lter b" or protocols.type eq "MCP-Server"', ['Filter alpha', 'Filter beta']],
    ['name sw "Filter" and displayName pr', ['Filter beta']],
    ['name sw "Filter" and active eq false', ['Filter beta']],
    ['name sw "Filter" and not (active eq false)', ['Filter alpha', 'Filter gamma']],
    ['protocols[type eq "mcp-server"]', ['Filter alpha']],
  ])('%s', async (filter, expected) => {
    expect(names(await api.get('/Agents').query({ filter }).expect(200))).toEqual(expected);
  });

  it('finds the agents an application names by their read-only applications (eq, ne, pr)', async () => {
    const ids = Object.fromEntries((await api.get('/Agents').query({ filter: 'name sw "Filter"' }).expect(200)).body.Resources.map((r: { name: string; id: string }) => [r.name, r.id]));
    const hub = (await app('Filter hub', { agents: [{ value: ids['Filter alpha'] }, { value: ids['Filter gamma'], type: 'guest' }] }).expect(201)).body.id;
    const q = async (filter: string) => names(await api.get('/Agents').query({ filter: `name sw "Filter" and (${filter})` }).expect(200));
    expect(await q(`applications.value eq "${hub.toUpperCase()}"`)).toEqual(['Filter alpha', 'Filter gamma']);
    expect(await q(`applications[value eq "${hub}"]`)).toEqual(['Filter alpha', 'Filter gamma']);
    expect(await q(`applications.value ne "${hub}"`)).toEqual(['Filter beta']);
    expect(await q('applications pr')).toEqual(['Filter alpha', 'Filter gamma']);
    expect(await q('not (applications pr)')).toEqual(['Filter beta']);
    expect(await q('applications.value eq "not-an-id"')).toEqual([]);
    // The application's own filters the draft recommends: name, externalId, applicationUrls.value.
    await api.patch(`/AgenticApplications/${hub}`, { schemas: [PATCH], Operations: [{ op: 'add', path: 'applicationUrls', value: [{ type: 'api', value: 'https://HUB.acme.test/v1' }] }] }).expect(200);
    const byUrl = await api.get('/AgenticApplications').query({ filter: 'applicationUrls.value eq "https://hub.acme.test/v1"' }).expect(200);
    expect(byUrl.body.Resources.map((r: { id: string }) => r.id)).toEqual([hub]);
    await api.delete(`/AgenticApplications/${hub}`).expect(204);
  });

  // The IdP lookups before a write (draft: "name" and "externalId" equality) are index probes under
  // row-level security, as userName's are (docs/architecture.md, "The leakproof rule").
  (process.env.TEST_DB === 'postgres' ? it : it.skip)('on PostgreSQL, as the application role, name eq and externalId eq can use their indexes', async () => {
    for (const [filter, index] of [['name eq "Filter Alpha"', 'agents_name_ci'], ['externalId eq "ext-a"', 'agents_external_id']]) {
      const compiled = h.deps.catalog.agents.repo.compiler.compile(parseFilter(filter), t.id);
      const plan = await inTenant(h.deps.db.knex, t.id, async (trx) => {
        await trx.raw('SET LOCAL enable_seqscan = off');
        return trx.raw(`EXPLAIN SELECT ag.id FROM agents ag WHERE ag.tenant_id = ? AND ${compiled.sql}`, [t.id, ...compiled.bindings]);
      });
      const text = plan.rows.map((r: Record<string, string>) => r['QUERY PLAN']).join('\n');
      expect(text).toMatch(new RegExp(`Index (Only )?Scan using ${index}`));
      expect(text).not.toMatch(/Seq Scan on agents/);
    }
  });

  it('refuses what it cannot compare (400 invalidFilter), and sorts and pages by cursor', async () => {
    expectScimError(await api.get('/Agents').query({ filter: 'userName eq "x"' }), 400, 'invalidFilter');
    expectScimError(await api.get('/Agents').query({ filter: 'applications.type eq "owned"' }), 400, 'invalidFilter');
    const first = await api.get('/Agents').query({ filter: 'name sw "Filter"', sortBy: 'name', sortOrder: 'descending', cursor: '', count: 2 }).expect(200);
    expect(first.body.Resources.map((r: { name: string }) => r.name)).toEqual(['Filter gamma', 'Filter beta']);
    expect(first.body.totalResults).toBe(3);
    const second = await api.get('/Agents').query({ filter: 'name sw "Filter"', sortBy: 'name', sortOrder: 'descending', cursor: first.body.nextCursor, count: 2 }).expect(200);
    expect(second.body.Resources.map((r: { name: string }) => r.name)).toEqual(['Filter alpha']);
    expect(second.body.nextCursor).toBeUndefined();
    // The root search finds agents beside users and groups.
    const root = await api.post('/.search', { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], filter: 'name eq "Filter beta"' }).expect(200);
    expect(root.body.Resources.map((r: { meta: { resourceType: string } }) => r.meta.resourceType)).toEqual(['Agent']);
  });
});

describe('writes: uniqueness, mutability, PATCH paths, ETags', () => {
  it('a name is unique per tenant case-insensitively (409 uniqueness); another tenant may use it', async () => {
    await agent('Unique one').expect(201);
    expectScimError(await agent('UNIQUE ONE'), 409, 'uniqueness');
    await scim(h, other).post('/Agents', { name: 'Unique one' }).expect(201);
    await app('Unique one').expect(201);
    expectScimError(await app('unique one'), 409, 'uniqueness');
    expectScimError(await agent(''), 400, 'invalidValue');
    expectScimError(await api.post('/Agents', { schemas: [AGENT], displayName: 'no name' }), 400, 'invalidValue');
  });

  it('PATCH add, replace and remove, with paths and value filters; readOnly attributes are 400 mutability', async () => {
    const a = (await agent('Patchable', { roles: [{ value: 'reader' }] }).expect(201)).body;
    const p = `/Agents/${a.id}`;
    let res = await patch(p, [
      { op: 'add', path: 'protocols', value: [{ type: 'A2A', specificationUrl: 'https://x.test/card' }, { type: 'OpenAPI' }] },
      { op: 'replace', path: 'description', value: 'Reads tickets' },
      { op: 'add', path: 'roles', value: [{ value: 'writer', primary: true }] },
    ]).expect(200);
    expect(res.body.protocols).toHaveLength(2);
    expect(res.body.roles.map((r: { value: string }) => r.value)).toEqual(['reader', 'writer']);
    res = await patch(p, [
      { op: 'replace', path: 'protocols[type eq "OpenAPI"].specificationUrl', value: 'https://x.test/openapi.json' },
      { op: 'remove', path: 'roles[value eq "reader"]' },
      { op: 'remove', path: 'description' },
    ]).expect(200);
    expect(res.body.protocols[1]).toEqual({ type: 'OpenAPI', specificationUrl: 'https://x.test/openapi.json' });
    expect(res.body.roles).toEqual([{ value: 'writer', primary: true }]);
    expect(res.body.description).toBeUndefined();
    // A PATCH without a path merges into the resource.
    res = await patch(p, [{ op: 'replace', value: { agentType: 'Chat bot', active: false } }]).expect(200);
    expect(res.body).toMatchObject({ agentType: 'Chat bot', active: false, name: 'Patchable' });
    expectScimError(await patch(p, [{ op: 'add', path: 'applications', value: [{ value: a.id }] }]), 400, 'mutability');
    expectScimError(await patch(p, [{ op: 'remove', path: 'name' }]), 400);
    expectScimError(await patch(p, [{ op: 'replace', path: 'nickName', value: 'x' }]), 400, 'invalidPath');
  });

  it('ETags: If-Match with a stale version is 412, If-None-Match with the current one 304', async () => {
    const created = await app('Versioned').expect(201);
    const p = `/AgenticApplications/${created.body.id}`;
    const changed = await patch(p, [{ op: 'replace', path: 'description', value: 'v2' }]).set('If-Match', created.headers.etag).expect(200);
    expectScimError(await patch(p, [{ op: 'replace', path: 'description', value: 'v3' }]).set('If-Match', created.headers.etag), 412);
    await api.get(p).set('If-None-Match', changed.headers.etag).expect(304);
    expectScimError(await api.delete(p).set('If-Match', created.headers.etag), 412);
    await api.delete(p).set('If-Match', changed.headers.etag).expect(204);
  });
});

describe('Bulk', () => {
  it('creates an application and the agent it names in one request (bulkId), patches and deletes', async () => {
    const res = await api
      .post('/Bulk', {
        schemas: [BULK],
        Operations: [
          { method: 'POST', path: '/AgenticApplications', bulkId: 'app', data: { schemas: [APP], name: 'Bulk app', agents: [{ value: 'bulkId:bot', type: 'owned' }] } },
          { method: 'POST', path: '/Agents', bulkId: 'bot', data: { schemas: [AGENT], name: 'Bulk bot' } },
          { method: 'PATCH', path: '/Agents/bulkId:bot', data: { schemas: [PATCH], Operations: [{ op: 'replace', path: 'active', value: false }] } },
          { method: 'POST', path: '/Agents', data: { schemas: [AGENT], name: 'bulk BOT' } },
        ],
      })
      .expect(200);
    expect(res.body.Operations.map((o: { status: string }) => o.status)).toEqual(['201', '201', '204', '409']);
    const appId = res.body.Operations.find((o: { bulkId?: string }) => o.bulkId === 'app').location.split('/').pop();
    const botId = res.body.Operations.find((o: { bulkId?: string }) => o.bulkId === 'bot').location.split('/').pop();
    expect((await api.get(`/AgenticApplications/${appId}`).expect(200)).body.agents[0].value).toBe(botId);
    expect((await api.get(`/Agents/${botId}`).expect(200)).body).toMatchObject({ active: false, applications: [{ value: appId, type: 'owned' }] });
    const del = await api.post('/Bulk', { schemas: [BULK], Operations: [{ method: 'DELETE', path: `/Agents/${botId}` }] }).expect(200);
    expect(del.body.Operations[0].status).toBe('204');
    expect((await api.get(`/AgenticApplications/${appId}`).expect(200)).body.agents).toBeUndefined();
  });
});

describe('tenants and credentials', () => {
  it("another tenant's agent is 404 on every verb and never listed", async () => {
    const theirs = (await scim(h, other).post('/Agents', { name: 'Private bot' }).expect(201)).body.id;
    expectScimError(await api.get(`/Agents/${theirs}`), 404);
    expectScimError(await api.put(`/Agents/${theirs}`, { name: 'Mine now' }), 404);
    expectScimError(await patch(`/Agents/${theirs}`, [{ op: 'replace', path: 'active', value: false }]), 404);
    expectScimError(await api.delete(`/Agents/${theirs}`), 404);
    expect((await api.get('/Agents').query({ filter: 'name eq "Private bot"' }).expect(200)).body.totalResults).toBe(0);
    expect((await scim(h, other).get(`/Agents/${theirs}`).expect(200)).body.active).toBe(true);
  });

  it('a credential bound to a sub-account sees no agents and may not create one (403); tenant-wide scim tokens may', async () => {
    const sub = (await api.post('/Groups', { displayName: 'Branch', [PROVISIO_GROUP]: { kind: 'subAccount' } }).expect(201)).body.id;
    const token = (await adminApi(h, t).post('/tokens', { name: 'Branch sync', scopes: ['scim'], subAccount: sub }).expect(201)).body.token;
    const bound = scim(h, { ...t, token });
    const visible = (await agent('Tenant bot').expect(201)).body.id;
    expectScimError(await bound.post('/Agents', { name: 'Branch bot' }), 403);
    expectScimError(await bound.post('/AgenticApplications', { name: 'Branch app' }), 403);
    expectScimError(await bound.get(`/Agents/${visible}`), 404);
    expectScimError(await patch(`/Agents/${visible}`, [{ op: 'replace', path: 'active', value: false }], bound), 404);
    expectScimError(await bound.delete(`/Agents/${visible}`), 404);
    expect((await bound.get('/Agents').expect(200)).body.totalResults).toBe(0);
    const wideScim = (await adminApi(h, t).post('/tokens', { name: 'IdP', scopes: ['scim'] }).expect(201)).body.token;
    await scim(h, { ...t, token: wideScim }).post('/Agents', { name: 'IdP bot' }).expect(201);
  });
});

describe('SCIM events (RFC 9967)', () => {
  it('agent and application changes are events of the tenant’s streams, the reference a deleted agent leaves included', async () => {
    const stream = (await adminApi(h, t).post('/event-streams', { name: 'Agents', delivery: 'poll', events: ['create', 'patch', 'delete', 'deactivate'], form: 'notice' }).expect(201)).body;
    const token = (await adminApi(h, t).post('/tokens', { name: 'Receiver', scopes: ['events'] }).expect(201)).body.token;
    const bot = (await agent('Evented bot', { externalId: 'ev-1' }).expect(201)).body.id;
    const portal = (await app('Evented portal', { agents: [{ value: bot }] }).expect(201)).body.id;
    await patch(`/Agents/${bot}`, [{ op: 'replace', path: 'active', value: false }]).expect(200);
    await api.delete(`/Agents/${bot}`).expect(204);
    // Another tenant's agent changes are never in this stream.
    await scim(h, other).post('/Agents', { name: 'Evented elsewhere' }).expect(201);
    const res = await h.http.post(`/events/v1/${t.id}/streams/${stream.id}/poll`).set('Authorization', `Bearer ${token}`).send({ returnImmediately: true, maxEvents: 50 }).expect(200);
    const seen = Object.values(res.body.sets as Record<string, string>).map((set) => {
      const claims = decodeJwt(set) as { sub_id: { uri: string; externalId?: string }; events: Record<string, { attributes?: string[] }> };
      const [uri, payload] = Object.entries(claims.events)[0];
      return [uri.replace('urn:ietf:params:scim:event:prov:', ''), claims.sub_id.uri, ...(payload.attributes ? [payload.attributes.sort().join(',')] : [])];
    });
    expect(seen).toEqual([
      ['create:notice', `/Agents/${bot}`, 'active,externalId,id,name'],
      ['create:notice', `/AgenticApplications/${portal}`, 'active,agents,id,name'],
      ['patch:notice', `/Agents/${bot}`, 'active'],
      ['deactivate', `/Agents/${bot}`],
      ['delete', `/Agents/${bot}`],
      ['patch:notice', `/AgenticApplications/${portal}`, 'agents'],
    ]);
  });
});
