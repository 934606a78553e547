// SCIM events (issue 13; RFC 9967 events, RFC 8417 SETs, RFC 8935 push, RFC 8936 poll) on a real
// server and database: streams through the admin API (tenant-wide, audited, outbound rules), events
// produced in the transaction of every change (SCIM, Bulk, the admin API, the purge) and never by
// a failed request, SETs verified against the server's published JWKS, polling with ack and
// setErrs, push to a receiver of our own on 127.0.0.1 — in order per resource, retried with
// backoff, a failing stream paused and resumed — and every event delivered once per change across
// a second instance on the same database. No request leaves 127.0.0.1.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { createLocalJWKSet, decodeJwt, jwtVerify, JWTPayload } from 'jose';
import { createApp } from '../../server/app';
import { createDeps, Deps } from '../../server/deps';
import { activatedBrowser } from '../support/console';
import { adminApi, createTenant, OPERATOR_TOKEN, expectJsonError, expectScimError, GROUP, Harness, LOOPBACK_IDP_ENV, PROVISIO_GROUP, PROVISIO_USER, scim, startHarness, TestTenant, USER } from '../support/harness';

const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const BULK = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';
const PROV = 'urn:ietf:params:scim:event:prov';
const ISSUER = 'http://provisio.test';
const ALL = ['create', 'put', 'patch', 'delete', 'activate', 'deactivate'];

let now = new Date('2026-06-01T00:00:00Z');
const clock = () => now;
let h: Harness;
let t: TestTenant;
let other: TestTenant;
let eventsToken: string;
let receiver: Awaited<ReturnType<typeof startReceiver>>;

/** A push receiver on 127.0.0.1: keeps every body it is sent; answers `status` (202 unless told). */
async function startReceiver() {
  const got: { contentType: string | undefined; body: string }[] = [];
  let status = 202;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (status === 202) got.push({ contentType: req.headers['content-type'], body: Buffer.concat(chunks).toString('utf8') });
      if (status === 202) return void res.writeHead(202).end();
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ err: 'invalid_request', description: 'not today' }));
    });
  });
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`,
    got,
    setStatus: (s: number) => (status = s),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Verifies a SET against the JWKS the server publishes (RFC 8417: typ secevent+jwt). */
async function verify(set: string, audience: string): Promise<JWTPayload & Record<string, unknown>> {
  const jwks = (await h.http.get('/.well-known/jwks.json').expect(200)).body;
  const { payload, protectedHeader } = await jwtVerify(set, createLocalJWKSet(jwks), { issuer: ISSUER, audience, typ: 'secevent+jwt' });
  expect(protectedHeader.alg).toBe('RS256');
  return payload as JWTPayload & Record<string, unknown>;
}

const eventUri = (p: Record<string, unknown>) => Object.keys(p.events as object)[0];
const payloadOf = (p: Record<string, unknown>) => Object.values(p.events as object)[0] as Record<string, unknown>;

async function newStream(body: Record<string, unknown>, tenant = t) {
  const res = await adminApi(h, tenant).post('/event-streams', body);
  expect(res.status).toBe(201);
  return res.body as { id: string; audience: string; pollUrl?: string; endpointUrl?: string };
}

/** One poll of a stream (returnImmediately unless told otherwise). */
function poll(stream: { id: string }, body: Record<string, unknown> = {}, token = eventsToken, tenant = t) {
  return h.http
    .post(`/events/v1/${tenant.id}/streams/${stream.id}/poll`)
    .set('Authorization', `Bearer ${token}`)
    .send({ returnImmediately: true, ...body });
}

/** Polls and acknowledges until the stream is empty; returns every SET's verified claims. */
async function drain(stream: { id: string; audience: string }): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  let ack: string[] = [];
  for (;;) {
    const res = await poll(stream, { ack, maxEvents: 50 }).expect(200);
    ack = Object.keys(res.body.sets);
    for (const [jti, set] of Object.entries(res.body.sets as Record<string, string>)) {
      const claims = await verify(set, stream.audience);
      expect(claims.jti).toBe(jti);
      out.push(claims);
    }
    if (!ack.length) return out;
  }
}

const outboxCount = async () => Number((await h.owner((db) => db.raw('SELECT count(*)::int AS n FROM event_outbox'))).rows[0].n);

beforeAll(async () => {
  h = await startHarness({ clock, env: { ...LOOPBACK_IDP_ENV, EVENTS_PAUSE_AFTER_FAILURES: '3', EVENTS_LONG_POLL_SECONDS: '1' } });
  t = await createTenant(h, 'Acme');
  other = await createTenant(h, 'Other');
  eventsToken = (await adminApi(h, t).post('/tokens', { name: 'Receiver', scopes: ['events'] }).expect(201)).body.token;
  receiver = await startReceiver();
});

afterAll(async () => {
  await receiver?.close();
  await h?.close();
});

describe('event streams in the admin API', () => {
  it('creates, lists, reads and deletes streams, audited; checks every field', async () => {
    const api = adminApi(h, t);
    const polled = await newStream({ name: 'Polled', delivery: 'poll', events: ['create', 'delete'], form: 'notice' });
    expect(polled).toMatchObject({ delivery: 'poll', events: ['create', 'delete'], form: 'notice', state: 'enabled', failures: 0, pending: 0 });
    expect(polled.pollUrl).toBe(`${ISSUER}/events/v1/${t.id}/streams/${polled.id}/poll`);
    expect(polled.audience).toBe(polled.pollUrl);
    const pushed = await newStream({ name: 'Pushed', delivery: 'push', endpointUrl: receiver.url, audience: 'urn:example:receiver', events: ['deactivate', 'create'], form: 'full' });
    expect(pushed).toMatchObject({ endpointUrl: receiver.url, audience: 'urn:example:receiver', events: ['create', 'deactivate'] });
    const listed = (await api.get('/event-streams').expect(200)).body.eventStreams.map((s: { id: string }) => s.id);
    expect(listed).toEqual([polled.id, pushed.id]);
    expect((await api.get(`/event-streams/${pushed.id}`).expect(200)).body.name).toBe('Pushed');

    for (const [body, detail] of [
      [{ name: 'x', delivery: 'mail', events: ['create'], form: 'full' }, /delivery/],
      [{ name: 'x', delivery: 'poll', events: ['create', 'rename'], form: 'full' }, /events\/1 must be one of "create", "put"/],
      [{ name: 'x', delivery: 'poll', events: [], form: 'full' }, /events must hold at least 1 item/],
      [{ name: 'x', delivery: 'poll', events: ['create'], form: 'short' }, /form/],
      [{ name: 'x', delivery: 'push', events: ['create'], form: 'full' }, /endpointUrl is required/],
      [{ name: 'x', delivery: 'poll', endpointUrl: receiver.url, events: ['create'], form: 'full' }, /endpointUrl is not allowed here/],
      [{ name: 'x', delivery: 'push', endpointUrl: 'not a url', events: ['create'], form: 'full' }, /absolute URL/],
      // Plain http is for loopback only; a name the (loopback, closed) resolver cannot answer is refused too.
      [{ name: 'x', delivery: 'push', endpointUrl: 'http://receiver.example/events', events: ['create'], form: 'full' }, /not a URL this server may send to/],
      [{ name: 'x', delivery: 'push', endpointUrl: 'https://receiver.example/events', events: ['create'], form: 'full' }, /not a URL this server may send to/],
      [{ name: 'x', delivery: 'poll', events: ['create'], form: 'full', secret: 'x' }, /secret is not a field here/],
    ] as const) {
      expectJsonError(await api.post('/event-streams', body), 400, 'invalidValue', detail);
    }
    expect((await api.get('/event-streams').expect(200)).body.eventStreams).toHaveLength(2);

    // Another tenant's stream is a missing one; a sub-account-bound credential is refused.
    expectJsonError(await adminApi(h, other).get(`/event-streams/${polled.id}`), 404);
    expectJsonError(await adminApi(h, other).delete(`/event-streams/${polled.id}`), 404);
    const sub = (await scim(h, t).post('/Groups', { schemas: [GROUP], displayName: 'Dept', [PROVISIO_GROUP]: { kind: 'subAccount' } }).expect(201)).body.id;
    const bound = (await adminApi(h, t).post('/tokens', { name: 'Bound', scopes: ['admin'], subAccount: sub }).expect(201)).body.token;
    expectJsonError(await adminApi(h, t, bound).get('/event-streams'), 403);

    await api.delete(`/event-streams/${polled.id}`).expect(204);
    await api.delete(`/event-streams/${pushed.id}`).expect(204);
    expectJsonError(await api.get(`/event-streams/${polled.id}`), 404);
    const audit = (await api.get('/audit').query({ action: 'eventStream.create' }).expect(200)).body.entries;
    expect(audit.map((e: { target: { id: string } }) => e.target.id).sort()).toEqual([polled.id, pushed.id].sort());
    expect((await api.get('/audit').query({ action: 'eventStream.delete' }).expect(200)).body.entries).toHaveLength(2);
  });
});

describe('production and polling', () => {
  let notice: { id: string; audience: string };
  let full: { id: string; audience: string };

  beforeAll(async () => {
    notice = await newStream({ name: 'Notice', delivery: 'poll', events: ALL, form: 'notice' });
    full = await newStream({ name: 'Full', delivery: 'poll', events: ['create', 'patch', 'deactivate'], form: 'full' });
  });

  afterAll(async () => {
    await adminApi(h, t).delete(`/event-streams/${notice.id}`).expect(204);
    await adminApi(h, t).delete(`/event-streams/${full.id}`).expect(204);
  });

  it('each SCIM change produces its events once, as RFC 9967 SETs signed with the published keys', async () => {
    const api = scim(h, t);
    const user = (await api.post('/Users', { schemas: [USER], userName: 'ada@events.test', externalId: 'ada-1', password: 'Correct-Horse-Battery-9', name: { givenName: 'Ada', familyName: 'L' } }).expect(201)).body;
    await api.patch(`/Users/${user.id}`, { schemas: [PATCH], Operations: [{ op: 'replace', path: 'active', value: false }] }).expect(200);
    const put = await api.put(`/Users/${user.id}`, { schemas: [USER], userName: 'ada@events.test', externalId: 'ada-1', active: true, displayName: 'Ada' }).expect(200);
    await api.delete(`/Users/${user.id}`).expect(204);

    const got = await drain(notice);
    expect(got.map(eventUri)).toEqual([`${PROV}:create:notice`, `${PROV}:patch:notice`, `${PROV}:deactivate`, `${PROV}:put:notice`, `${PROV}:activate`, `${PROV}:delete`]);
    for (const c of got) {
      expect(c).toMatchObject({ iss: ISSUER, aud: notice.audience, sub_id: { format: 'scim', uri: `/Users/${user.id}`, externalId: 'ada-1' } });
      expect(typeof c.txn).toBe('string');
      expect(typeof c.iat).toBe('number');
    }
    expect(new Set(got.map((c) => c.jti)).size).toBe(got.length);
    // The SETs of one change share its txn; different changes do not.
    expect(got[1].txn).toBe(got[2].txn);
    expect(got[3].txn).toBe(got[4].txn);
    expect(got[0].txn).not.toBe(got[1].txn);
    expect(payloadOf(got[0]).attributes).toEqual(expect.arrayContaining(['id', 'userName', 'externalId', 'name']));
    expect(payloadOf(got[1])).toEqual({ attributes: ['active'], version: expect.stringMatching(/^W\/"/) });
    expect(payloadOf(got[3]).attributes).toEqual(expect.arrayContaining(['active', 'displayName', 'name']));
    expect(payloadOf(got[3]).version).toBe(put.body.meta.version);
    expect(payloadOf(got[2])).toEqual({});
    expect(payloadOf(got[5])).toEqual({});

    // The full stream asked for create, patch and deactivate only: the resource travels in `data`.
    const fullGot = await drain(full);
    expect(fullGot.map(eventUri)).toEqual([`${PROV}:create:full`, `${PROV}:patch:full`, `${PROV}:deactivate`]);
    const created = payloadOf(fullGot[0]).data as Record<string, unknown>;
    expect(created).toMatchObject({ id: user.id, userName: 'ada@events.test', externalId: 'ada-1', meta: { resourceType: 'User' } });
    expect(created).not.toHaveProperty('password');
    expect(JSON.stringify(fullGot)).not.toContain('Correct-Horse-Battery-9');
    expect((payloadOf(fullGot[1]).data as Record<string, unknown>).active).toBe(false);
  });

  it('groups, Bulk and the admin API produce events through the same path', async () => {
    const api = scim(h, t);
    const member = (await api.post('/Users', { schemas: [USER], userName: 'grace@events.test' }).expect(201)).body.id;
    const group = (await api.post('/Groups', { schemas: [GROUP], displayName: 'Team', externalId: 'team-1' }).expect(201)).body.id;
    await api.patch(`/Groups/${group}`, { schemas: [PATCH], Operations: [{ op: 'add', path: 'members', value: [{ value: member }] }] }).expect(204);
    const bulk = await api.post('/Bulk', { schemas: [BULK], Operations: [{ method: 'POST', path: '/Users', bulkId: 'b1', data: { schemas: [USER], userName: 'bulk@events.test' } }] }).expect(200);
    const bulkUser = bulk.body.Operations[0].location.split('/').pop();
    const adminMade = (await adminApi(h, t).post('/users', { givenName: 'Ann', familyName: 'Admin', email: 'ann@events.test', activation: 'later' }).expect(201)).body.user.id;
    await adminApi(h, t).delete(`/users/${adminMade}`).expect(204);

    const got = await drain(notice);
    expect(got.map((c) => [eventUri(c), (c.sub_id as { uri: string }).uri])).toEqual([
      [`${PROV}:create:notice`, `/Users/${member}`],
      [`${PROV}:create:notice`, `/Groups/${group}`],
      [`${PROV}:patch:notice`, `/Groups/${group}`],
      [`${PROV}:create:notice`, `/Users/${bulkUser}`],
      [`${PROV}:create:notice`, `/Users/${adminMade}`],
      [`${PROV}:delete`, `/Users/${adminMade}`],
    ]);
    expect(payloadOf(got[2]).attributes).toEqual(['members']);
    expect((got[1].sub_id as { externalId: string }).externalId).toBe('team-1');
    const fullGot = await drain(full);
    // A group's full form leaves its members out (docs/events.md); the notice names them.
    const groupPatch = fullGot.find((c) => eventUri(c) === `${PROV}:patch:full`)!;
    expect(payloadOf(groupPatch).data).toMatchObject({ id: group, displayName: 'Team' });
    expect(payloadOf(groupPatch).data).not.toHaveProperty('members');
  });

  it('changes made by statements of their own produce patch events: groups losing a deleted member, users losing a deleted service', async () => {
    const api = scim(h, t);
    await adminApi(h, t).post('/services', { key: 'crm', name: 'CRM' }).expect(201);
    const user = (await api.post('/Users', { schemas: [USER], userName: 'svc@events.test', entitlements: [{ type: 'service', value: 'crm' }] }).expect(201)).body.id;
    const leaving = (await api.post('/Users', { schemas: [USER], userName: 'leaving@events.test' }).expect(201)).body.id;
    const group = (await api.post('/Groups', { schemas: [GROUP], displayName: 'Club', members: [{ value: leaving }] }).expect(201)).body.id;
    await drain(notice);
    await drain(full);
    await adminApi(h, t).delete('/services/crm').expect(204);
    await api.delete(`/Users/${leaving}`).expect(204);
    const got = await drain(notice);
    expect(got.map((c) => [eventUri(c), (c.sub_id as { uri: string }).uri, payloadOf(c).attributes])).toEqual([
      [`${PROV}:patch:notice`, `/Users/${user}`, ['entitlements']],
      [`${PROV}:delete`, `/Users/${leaving}`, undefined],
      [`${PROV}:patch:notice`, `/Groups/${group}`, ['members']],
    ]);
    // The version in the event is the one a GET answers now.
    expect(payloadOf(got[2]).version).toBe((await api.get(`/Groups/${group}`).expect(200)).body.meta.version);
    const fullGot = await drain(full);
    expect(fullGot.map(eventUri)).toEqual([`${PROV}:patch:full`, `${PROV}:patch:full`]);
    expect(payloadOf(fullGot[0]).data).not.toHaveProperty('entitlements');
  });

  it('a failed request produces no event', async () => {
    const api = scim(h, t);
    const id = (await api.post('/Users', { schemas: [USER], userName: 'fail@events.test' }).expect(201)).body.id;
    await drain(notice);
    await drain(full);
    const before = await outboxCount();
    expectScimError(await api.post('/Users', { schemas: [USER], userName: 'FAIL@events.test' }), 409, 'uniqueness');
    expectScimError(await api.patch(`/Users/${id}`, { schemas: [PATCH], Operations: [{ op: 'replace', path: 'active', value: false }, { op: 'replace', path: 'noSuchAttribute', value: 'x' }] }), 400);
    expectScimError(await api.put(`/Users/${id}`, { schemas: [USER], userName: 'fail@events.test', active: false }).set('If-Match', 'W/"999"'), 412);
    // A Bulk whose second operation fails keeps the first one's event, and only that.
    await api.post('/Bulk', { schemas: [BULK], failOnErrors: 1, Operations: [
      { method: 'POST', path: '/Users', bulkId: 'ok', data: { schemas: [USER], userName: 'bulk-ok@events.test' } },
      { method: 'POST', path: '/Users', bulkId: 'dup', data: { schemas: [USER], userName: 'bulk-ok@events.test' } },
    ] }).expect(200);
    // One create, for each of the two streams.
    expect(await outboxCount()).toBe(before + 2);
    const got = await drain(notice);
    expect(got.map(eventUri)).toEqual([`${PROV}:create:notice`]);
    expect(await drain(full)).toHaveLength(1);
  });

  it('polling acknowledges per RFC 8936: unacknowledged events come back, acknowledged ones never', async () => {
    const api = scim(h, t);
    const a = (await api.post('/Users', { schemas: [USER], userName: 'p1@events.test' }).expect(201)).body.id;
    const b = (await api.post('/Users', { schemas: [USER], userName: 'p2@events.test' }).expect(201)).body.id;
    await drain(full);

    const first = await poll(notice, { maxEvents: 1 }).expect(200);
    expect(first.headers['content-type']).toMatch(/^application\/json/);
    expect(Object.keys(first.body.sets)).toHaveLength(1);
    expect(first.body.moreAvailable).toBe(true);
    const [jtiA] = Object.keys(first.body.sets);
    expect(decodeJwt(first.body.sets[jtiA]).sub_id).toMatchObject({ uri: `/Users/${a}` });
    // Not acknowledged: handed out again, the same SET id.
    const again = await poll(notice, { maxEvents: 1 }).expect(200);
    expect(Object.keys(again.body.sets)).toEqual([jtiA]);
    // Acknowledged with maxEvents 0: nothing handed out, and it is gone.
    const ackOnly = await poll(notice, { ack: [jtiA], maxEvents: 0 }).expect(200);
    expect(ackOnly.body).toEqual({ sets: {}, moreAvailable: true });
    const next = await poll(notice, { maxEvents: 10 }).expect(200);
    const jtis = Object.keys(next.body.sets);
    expect(jtis).toHaveLength(1);
    expect(jtis).not.toContain(jtiA);
    expect(decodeJwt(next.body.sets[jtis[0]]).sub_id).toMatchObject({ uri: `/Users/${b}` });
    expect(next.body.moreAvailable).toBe(false);
    // A SET the receiver could not process is reported with setErrs: not handed out again, and shown.
    const reported = await poll(notice, { setErrs: { [jtis[0]]: { err: 'invalid_request', description: 'unknown user' } } }).expect(200);
    expect(reported.body).toEqual({ sets: {}, moreAvailable: false });
    expect((await adminApi(h, t).get(`/event-streams/${notice.id}`).expect(200)).body).toMatchObject({ pending: 0, lastError: 'invalid_request: unknown user' });
    // Without returnImmediately, an empty stream answers after the long-poll wait, with nothing.
    const long = await poll(notice, { returnImmediately: false }).expect(200);
    expect(long.body).toEqual({ sets: {}, moreAvailable: false });
  });

  it('refuses bad poll requests and the wrong credentials, changing nothing', async () => {
    await scim(h, t).post('/Users', { schemas: [USER], userName: 'guarded@events.test' }).expect(201);
    const pending = await outboxCount();
    for (const body of [{ maxEvents: -1 }, { maxEvents: 'ten' }, { returnImmediately: 'yes' }, { ack: 'all' }, { setErrs: { x: 'bad' } }]) {
      expectJsonError(await poll(notice, body), 400, 'invalidValue');
    }
    expectJsonError(await h.http.post(`/events/v1/${t.id}/streams/${notice.id}/poll`).send({}), 401);
    // A token without the events scope; another tenant's events token; a sub-account-bound one.
    expectJsonError(await poll(notice, {}, t.token), 403);
    const otherEvents = (await adminApi(h, other).post('/tokens', { name: 'Theirs', scopes: ['events'] }).expect(201)).body.token;
    expectJsonError(await poll(notice, {}, otherEvents), 404);
    expectJsonError(await poll(notice, {}, otherEvents, other), 404);
    const sub = (await scim(h, t).post('/Groups', { schemas: [GROUP], displayName: 'Dept 2', [PROVISIO_GROUP]: { kind: 'subAccount' } }).expect(201)).body.id;
    const bound = (await adminApi(h, t).post('/tokens', { name: 'Bound events', scopes: ['events'], subAccount: sub }).expect(201)).body.token;
    expectJsonError(await poll(notice, {}, bound), 403);
    expectJsonError(await poll({ id: 'not-a-stream' }), 404);
    expect(await outboxCount()).toBe(pending + 2); // the sub-account group's two events only
    await drain(notice);
    await drain(full);
  });

  it('another tenant’s changes never reach this tenant’s streams', async () => {
    const theirs = await newStream({ name: 'Theirs', delivery: 'poll', events: ALL, form: 'full' }, other);
    const theirToken = (await adminApi(h, other).post('/tokens', { name: 'Their poller', scopes: ['events'] }).expect(201)).body.token;
    const made = (await scim(h, other).post('/Users', { schemas: [USER], userName: 'secret@other.test' }).expect(201)).body.id;
    expect(await drain(notice)).toEqual([]);
    expect(await drain(full)).toEqual([]);
    const res = await poll(theirs, {}, theirToken, other).expect(200);
    const sets = Object.values(res.body.sets as Record<string, string>);
    expect(sets).toHaveLength(1);
    expect(decodeJwt(sets[0]).sub_id).toMatchObject({ uri: `/Users/${made}` });
  });

  it('a person activating themselves produces a patch event of their activation state (self-activation)', async () => {
    const api = scim(h, t);
    const made = await api.post('/Users', { schemas: [USER], userName: 'self@events.test', externalId: 'self-1' }).expect(201);
    expect(made.body[PROVISIO_USER].activationState).toBe('pending');
    await drain(notice);
    await activatedBrowser(h, 'self@events.test');
    const after = await api.get(`/Users/${made.body.id}`).expect(200);
    expect(after.body[PROVISIO_USER].activationState).toBe('active');
    const got = await drain(notice);
    expect(got.map((c) => [eventUri(c), c.sub_id])).toEqual([[`${PROV}:patch:notice`, { format: 'scim', uri: `/Users/${made.body.id}`, externalId: 'self-1' }]]);
    // `active` did not move (a pending person is active in SCIM terms): no activate event.
    expect(payloadOf(got[0])).toEqual({ attributes: [`${PROVISIO_USER}:activationState`, `${PROVISIO_USER}:privacyPolicyAcceptedAt`], version: after.headers.etag });
    const fullSets = await drain(full);
    const fullPatch = fullSets.find((c) => eventUri(c) === `${PROV}:patch:full` && (c.sub_id as { uri: string }).uri === `/Users/${made.body.id}`)!;
    expect((payloadOf(fullPatch).data as Record<string, any>)[PROVISIO_USER].activationState).toBe('active');
  });

  it('the sub-account purge produces delete events for what it removes, and patch events for the groups that held it', async () => {
    const api = scim(h, t);
    now = new Date('2026-06-02T00:00:00Z');
    const lonely = (await api.post('/Users', { schemas: [USER], userName: 'lonely@events.test', externalId: 'lonely' }).expect(201)).body.id;
    const doomed = (await api.post('/Groups', { schemas: [GROUP], displayName: 'Doomed', members: [{ value: lonely }], [PROVISIO_GROUP]: { kind: 'subAccount', active: false } }).expect(201)).body.id;
    const holder = (await api.post('/Groups', { schemas: [GROUP], displayName: 'Holder', members: [{ value: doomed }] }).expect(201)).body.id;
    const holderVersion = (await api.get(`/Groups/${holder}`).expect(200)).headers.etag;
    await drain(notice);
    now = new Date('2027-06-03T00:00:00Z');
    const done = await h.deps.jobs.purgeSubAccounts();
    expect(done.find((d) => d.subAccountId === doomed)).toMatchObject({ usersDeleted: 1 });
    const got = await drain(notice);
    expect(got.map((c) => [eventUri(c), c.sub_id])).toEqual(
      expect.arrayContaining([
        [`${PROV}:delete`, { format: 'scim', uri: `/Users/${lonely}`, externalId: 'lonely' }],
        [`${PROV}:delete`, { format: 'scim', uri: `/Groups/${doomed}` }],
      ]),
    );
    // The holder lost its member in the purge's own statement: one patch event naming `members`,
    // with the holder's new version (jobs/purge.ts).
    const held = await api.get(`/Groups/${holder}`).expect(200);
    expect(held.body.members ?? []).toEqual([]);
    expect(held.headers.etag).not.toBe(holderVersion);
    const patches = got.filter((c) => eventUri(c) === `${PROV}:patch:notice`);
    expect(patches.map((c) => c.sub_id)).toEqual([{ format: 'scim', uri: `/Groups/${holder}` }]);
    expect(payloadOf(patches[0])).toEqual({ attributes: ['members'], version: held.headers.etag });
    now = new Date('2026-06-01T00:00:00Z');
  });
});

describe('push delivery', () => {
  let stream: { id: string; audience: string };
  let second: Deps | undefined;

  beforeAll(async () => {
    stream = await newStream({ name: 'Push', delivery: 'push', endpointUrl: receiver.url, events: ALL, form: 'notice' });
  });

  afterAll(async () => {
    await second?.close();
    await adminApi(h, t).delete(`/event-streams/${stream.id}`).expect(204);
  });

  const pushed = async () => {
    const out: Record<string, unknown>[] = [];
    for (const g of receiver.got) {
      expect(g.contentType).toBe('application/secevent+jwt');
      out.push(await verify(g.body, stream.audience));
    }
    return out;
  };

  it('POSTs each event once, signed, in order per resource, across two instances on one database', async () => {
    receiver.got.length = 0;
    const api = scim(h, t);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await api.post('/Users', { schemas: [USER], userName: `push${i}@events.test` }).expect(201)).body.id);
    for (const id of ids) await api.patch(`/Users/${id}`, { schemas: [PATCH], Operations: [{ op: 'replace', path: 'displayName', value: 'Renamed' }] }).expect(200);

    // A second instance (its own deps and app) on the same database; both workers run at once.
    second = await createDeps(h.deps.config, h.deps.logger, { db: h.db, skipMigrations: true, clock });
    for (let round = 0; round < 10; round++) {
      const [a, b] = await Promise.all([h.deps.events.push.runOnce(), second.events.push.runOnce()]);
      if (a.delivered + b.delivered + a.failed + b.failed === 0) break;
    }
    const got = await pushed();
    expect(got).toHaveLength(6);
    expect(new Set(got.map((c) => c.jti)).size).toBe(6);
    for (const id of ids) {
      const mine = got.filter((c) => (c.sub_id as { uri: string }).uri === `/Users/${id}`).map(eventUri);
      expect(mine).toEqual([`${PROV}:create:notice`, `${PROV}:patch:notice`]);
    }
    expect((await adminApi(h, t).get(`/event-streams/${stream.id}`).expect(200)).body).toMatchObject({ pending: 0, state: 'enabled', failures: 0 });
    // Restart: the first instance is gone; a change made and pushed by the second arrives once too.
    await api.delete(`/Users/${ids[0]}`).expect(204);
    const app2 = createApp(second);
    await request(app2).delete(`${t.path}/Users/${ids[1]}`).set('Authorization', `Bearer ${t.token}`).expect(204);
    await second.events.push.runOnce();
    await second.events.push.runOnce();
    expect(await h.deps.events.push.runOnce()).toEqual({ delivered: 0, failed: 0 });
    const after = await pushed();
    expect(after.slice(6).map((c) => [eventUri(c), (c.sub_id as { uri: string }).uri])).toEqual([
      [`${PROV}:delete`, `/Users/${ids[0]}`],
      [`${PROV}:delete`, `/Users/${ids[1]}`],
    ]);
  });

  it('an instance that dies after claiming leaves its events to another once the lease expires: delivered once', async () => {
    receiver.got.length = 0;
    const id = (await scim(h, t).post('/Users', { schemas: [USER], userName: 'lease@events.test' }).expect(201)).body.id;
    // The claim a worker makes before it sends, made here by a "worker" that then stops (never sends).
    const claimed = await h.owner((db) =>
      db.raw(`UPDATE event_outbox SET locked_until = ?, attempts = attempts + 1 WHERE tenant_id = ? AND resource_id = ? RETURNING id`, [new Date(now.getTime() + 60_000), t.id, id]),
    );
    expect(claimed.rows).toHaveLength(1);
    expect(await second!.events.push.runOnce()).toEqual({ delivered: 0, failed: 0 });
    now = new Date(now.getTime() + 61_000);
    expect(await second!.events.push.runOnce()).toEqual({ delivered: 1, failed: 0 });
    expect(await h.deps.events.push.runOnce()).toEqual({ delivered: 0, failed: 0 });
    const got = await pushed();
    expect(got.map((c) => [eventUri(c), c.jti])).toEqual([[`${PROV}:create:notice`, claimed.rows[0].id]]);
  });

  it('retries with backoff, keeps a resource’s order, pauses a failing stream and resumes it', async () => {
    receiver.got.length = 0;
    const api = scim(h, t);
    const id = (await api.post('/Users', { schemas: [USER], userName: 'flaky@events.test' }).expect(201)).body.id;
    await api.patch(`/Users/${id}`, { schemas: [PATCH], Operations: [{ op: 'replace', path: 'active', value: false }] }).expect(200);
    receiver.setStatus(500);
    // Only the oldest event of the resource is tried; the later ones wait behind it.
    expect(await h.deps.events.push.runOnce()).toEqual({ delivered: 0, failed: 1 });
    // Not due again before its backoff.
    expect(await h.deps.events.push.runOnce()).toEqual({ delivered: 0, failed: 0 });
    let s = (await adminApi(h, t).get(`/event-streams/${stream.id}`).expect(200)).body;
    expect(s).toMatchObject({ state: 'enabled', failures: 1, pending: 3, lastError: 'HTTP 500: invalid_request (not today)' });
    for (let i = 0; i < 2; i++) {
      now = new Date(now.getTime() + 2 * 60 * 60 * 1000);
      expect(await h.deps.events.push.runOnce()).toEqual({ delivered: 0, failed: 1 });
    }
    s = (await adminApi(h, t).get(`/event-streams/${stream.id}`).expect(200)).body;
    expect(s).toMatchObject({ state: 'paused', failures: 3, pending: 3, pausedAt: now.toISOString() });
    // Operators see it too: the backlog and the paused stream in the metrics.
    const metrics = (await h.http.get('/metrics').set('Authorization', `Bearer ${OPERATOR_TOKEN}`).expect(200)).text;
    expect(metrics).toMatch(/^provisio_event_streams_paused 1$/m);
    expect(Number(/^provisio_events_pending (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(3);
    expect(Number(/^provisio_events_oldest_pending_age_seconds ([\d.e+]+)$/m.exec(metrics)?.[1])).toBeGreaterThan(3600);
    // Paused: nothing is tried, even once the receiver is back, until an admin resumes the stream.
    receiver.setStatus(202);
    now = new Date(now.getTime() + 2 * 60 * 60 * 1000);
    expect(await h.deps.events.push.runOnce()).toEqual({ delivered: 0, failed: 0 });
    expectJsonError(await adminApi(h, t).patch(`/event-streams/${stream.id}`, { state: 'on' }), 400, 'invalidValue');
    expect((await adminApi(h, t).patch(`/event-streams/${stream.id}`, { state: 'enabled' }).expect(200)).body).toMatchObject({ state: 'enabled', failures: 0, pausedAt: null });
    for (let i = 0; i < 5; i++) await h.deps.events.push.runOnce();
    const got = await pushed();
    expect(got.map(eventUri)).toEqual([`${PROV}:create:notice`, `${PROV}:patch:notice`, `${PROV}:deactivate`]);
    expect((await adminApi(h, t).get(`/event-streams/${stream.id}`).expect(200)).body).toMatchObject({ pending: 0, failures: 0, lastError: null });
    expect((await adminApi(h, t).get('/audit').query({ action: 'eventStream.state' }).expect(200)).body.entries).toHaveLength(1);
  });
});
