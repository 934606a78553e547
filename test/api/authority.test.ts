// The authority rule (issue 9, points 1–4; server/resources/authority.ts, docs/tenancy.md): a
// credential bound to a sub-account changes only the people it fully administers, on SCIM /Users,
// /Groups membership, /Bulk, the admin API and the console; a link proves an address only while
// the credential that set it still has authority over the person; switching a sub-account off
// cuts what it empowered; only an admin of the account above switches a sub-account on and off.
// Runs on PGlite and PostgreSQL.
import { browser, linkToken } from '../support/browser';
import { createTenant, expectScimError, GROUP, Harness, OPERATOR_TOKEN, PROVISIO_GROUP, scim, startHarness, TestTenant, USER } from '../support/harness';

const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const GOOD = 'correct-horse-battery-staple-42';
const ops = (...operations: Record<string, unknown>[]) => ({ schemas: [PATCH], Operations: operations });

let h: Harness;
let t: TestTenant;
let wide: ReturnType<typeof scim>;
const id: Record<string, string> = {};
const tok: Record<string, string> = {};

const asToken = (token: string) => scim(h, { ...t, token });
const adminApi = (token: string) => ({
  post: (path: string, body?: unknown) => h.http.post(`/api/v1${path}`).set('Authorization', `Bearer ${token}`).send(body ?? {}),
  get: (path: string) => h.http.get(`/api/v1${path}`).set('Authorization', `Bearer ${token}`),
});

/** The newest kept email to this address (no SMTP_URL: the operator reads mail). */
async function mailTo(address: string, template: string): Promise<{ text: string } | undefined> {
  const res = await h.http.get('/operator/v1/mail').query({ to: address }).set('Authorization', `Bearer ${OPERATOR_TOKEN}`).expect(200);
  return res.body.messages.find((m: { template: string }) => m.template === template);
}

async function user(name: string, via = wide): Promise<string> {
  const res = await via.post('/Users', { schemas: [USER], userName: `${name}@authority.test` });
  expect(res.status).toBe(201);
  return (id[name] = res.body.id);
}

async function group(name: string, members: string[], ext?: Record<string, unknown>, via = wide): Promise<string> {
  const res = await via.post('/Groups', { schemas: [GROUP], displayName: name, members: members.map((value) => ({ value })), ...(ext ? { [PROVISIO_GROUP]: ext } : {}) });
  expect(res.status).toBe(201);
  return (id[name] = res.body.id);
}

async function token(name: string, scopes: string[], subAccount?: string): Promise<string> {
  const res = await adminApi(t.token).post('/tokens', { name, scopes, ...(subAccount ? { subAccount } : {}) });
  expect(res.status).toBe(201);
  return (tok[name] = res.body.token);
}

/** Activates a pending person through their emailed link; returns their browser, signed in. */
async function activate(name: string) {
  const mail = await mailTo(`${name}@authority.test`, 'activation');
  const linkSecret = linkToken(mail!.text, '/activate');
  const b = browser(h.app);
  await b.get(`/activate?token=${linkSecret}`);
  expect((await b.post('/activate', { token: linkSecret, password: GOOD, acceptPrivacy: 'yes' })).status).toBe(303);
  return b;
}

beforeAll(async () => {
  h = await startHarness();
  t = await createTenant(h, 'Authority');
  wide = scim(h, t);
  for (const u of ['parentAdmin', 'childAdmin', 'childUser', 'siblingAdmin', 'outsider']) await user(u);
  await group('P', [id.parentAdmin], { kind: 'subAccount', admins: [{ value: id.parentAdmin }] });
  // The parent's admin also belongs to the child: readable there, never changeable by it.
  await group('C', [id.childAdmin, id.childUser, id.parentAdmin, id.siblingAdmin, id.outsider], { kind: 'subAccount', parent: id.P, admins: [{ value: id.childAdmin }] });
  await group('S2', [id.siblingAdmin], { kind: 'subAccount', parent: id.P, admins: [{ value: id.siblingAdmin }] });
  await group('Outside', [id.outsider]);
  await token('child', ['scim', 'admin'], id.C);
  await token('parent', ['scim', 'admin'], id.P);
  await token('idp', ['scim']);
  await group('Team', [id.childUser], undefined, asToken(tok.child));
});
afterAll(() => h.close());

describe('point 1: a sub-account credential changes only the people it fully administers', () => {
  it('cannot change the sign-in email of its parent’s admin, so no reset link can take the account over', async () => {
    const child = asToken(tok.child);
    // Readable to it (the parent's admin is a member of the child)…
    expect((await child.get(`/Users/${id.parentAdmin}`)).status).toBe(200);
    // …but the takeover of the issue is refused: 403, nothing changes, nothing is sent.
    const res = await child.patch(`/Users/${id.parentAdmin}`, ops({ op: 'replace', path: 'userName', value: 'attacker@evil.test' }));
    expectScimError(res, 403);
    expect(res.body.detail).toMatch(/outside sub-account/);
    expect((await wide.get(`/Users/${id.parentAdmin}`)).body.userName).toBe('parentAdmin@authority.test');
    const b = browser(h.app);
    await b.get('/forgot-password');
    await b.post('/forgot-password', { email: 'attacker@evil.test' });
    await h.deps.later.idle();
    expect(await mailTo('attacker@evil.test', 'password-reset')).toBeUndefined();
  });

  it('cannot replace, deactivate or delete people who belong to or administer other accounts; an unchanged PUT is fine', async () => {
    const child = asToken(tok.child);
    const sibling = (await wide.get(`/Users/${id.siblingAdmin}`)).body;
    expectScimError(await child.patch(`/Users/${id.siblingAdmin}`, ops({ op: 'replace', value: { active: false } })), 403);
    expectScimError(await child.put(`/Users/${id.siblingAdmin}`, { ...sibling, title: 'Changed' }), 403);
    expectScimError(await child.delete(`/Users/${id.siblingAdmin}`), 403);
    // A member of a group outside the subtree (not a sub-account) is outside too.
    expectScimError(await child.patch(`/Users/${id.outsider}`, ops({ op: 'replace', path: 'title', value: 'x' })), 403);
    // The primary admin, never.
    expectScimError(await asToken(tok.parent).patch(`/Users/${t.primaryAdminId}`, ops({ op: 'replace', path: 'title', value: 'x' })), 404);
    // An IdP re-sending an unchanged profile is not a change.
    expect((await child.put(`/Users/${id.siblingAdmin}`, sibling)).status).toBe(200);
    // Someone wholly inside is the child's to change.
    expect((await child.patch(`/Users/${id.childUser}`, ops({ op: 'replace', path: 'title', value: 'Clerk' }))).status).toBe(200);
    // The account above administers the sibling's admin: S2 and C both lie under P.
    expect((await asToken(tok.parent).patch(`/Users/${id.siblingAdmin}`, ops({ op: 'replace', path: 'title', value: 'Lead' }))).status).toBe(200);
    expect((await wide.get(`/Users/${id.siblingAdmin}`)).body).toMatchObject({ active: true, title: 'Lead' });
  });

  it('is refused the same inside /Bulk, operation by operation', async () => {
    const res = await asToken(tok.child).post('/Bulk', {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
      Operations: [
        { method: 'PATCH', path: `/Users/${id.parentAdmin}`, data: ops({ op: 'replace', path: 'userName', value: 'bulk@evil.test' }) },
        { method: 'DELETE', path: `/Users/${id.outsider}` },
        { method: 'PATCH', path: `/Users/${id.childUser}`, data: ops({ op: 'replace', path: 'title', value: 'Bulk clerk' }) },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body.Operations.map((o: { status: string }) => o.status)).toEqual(['403', '403', '204']);
    expect((await wide.get(`/Users/${id.outsider}`)).status).toBe(200);
  });

  it('cannot add or remove such people through /Groups membership; people it administers are fine', async () => {
    const child = asToken(tok.child);
    expectScimError(await child.patch(`/Groups/${id.C}`, ops({ op: 'remove', path: `members[value eq "${id.parentAdmin}"]` })), 403);
    expectScimError(await child.patch(`/Groups/${id.Team}`, ops({ op: 'add', path: 'members', value: [{ value: id.parentAdmin }] })), 403);
    const team = (await wide.get(`/Groups/${id.Team}`)).body;
    expectScimError(await child.put(`/Groups/${id.C}`, { schemas: [GROUP], displayName: 'C', members: [{ value: id.childAdmin }, { value: id.childUser }] }), 403);
    expect((await child.patch(`/Groups/${id.Team}`, ops({ op: 'add', path: 'members', value: [{ value: id.childAdmin }] }))).status).toBe(204);
    // Re-sending a membership that is already there changes nobody.
    expect((await child.put(`/Groups/${id.Team}`, { ...team, members: [{ value: id.childUser }, { value: id.childAdmin }] })).status).toBe(200);
    expect((await wide.get(`/Groups/${id.C}`)).body.members.filter((m: { type: string }) => m.type === 'User')).toHaveLength(5);
  });

  it('the admin API refuses the same, all or nothing', async () => {
    const admin = adminApi(tok.child);
    expect((await admin.post(`/users/${id.parentAdmin}/force-logout`)).status).toBe(403);
    expect((await admin.post('/users/force-logout', { ids: [id.childUser, id.siblingAdmin] })).status).toBe(403);
    expect((await admin.post(`/users/${id.parentAdmin}/activation`)).status).toBe(403);
    expect((await admin.post(`/users/${id.outsider}/reset-password`)).status).toBe(403);
    expect((await admin.post(`/users/${id.childUser}/activation`)).status).toBe(202);
    expect((await admin.post('/users/force-logout', { ids: [id.childUser] })).status).toBe(200);
  });

  it('so does the console: a sub-account admin’s session, working in the sub-account', async () => {
    const b = await activate('childAdmin');
    await b.get('/account');
    expect((await b.post('/account/switch', { accountId: id.C })).status).toBe(303);
    const csrf = (await b.me()).body.csrfToken;
    const post = (path: string) => b.agent.post(`/api/v1${path}`).set('X-CSRF-Token', csrf).send({});
    expect((await post(`/users/${id.parentAdmin}/force-logout`)).status).toBe(403);
    expect((await post(`/users/${id.siblingAdmin}/activation`)).status).toBe(403);
    expect((await post(`/users/${id.childUser}/force-logout`)).status).toBe(200);
  });
});

describe('point 2: a link proves an address only while whoever set it has authority over the person', () => {
  it('an activation link sent by a sub-account’s credential dies when the person becomes an admin above it', async () => {
    const mover = await user('mover', asToken(tok.child));
    const linkSecret = linkToken((await mailTo('mover@authority.test', 'activation'))!.text, '/activate');
    // The tenant makes the person an admin of the sibling sub-account: the child no longer administers them.
    expect((await wide.patch(`/Groups/${id.S2}`, ops({ op: 'add', path: 'members', value: [{ value: mover }] }, { op: 'replace', path: `${PROVISIO_GROUP}:admins`, value: [{ value: id.siblingAdmin }, { value: mover }] }))).status).toBe(204);
    const b = browser(h.app);
    expect((await b.get('/forgot-password')).status).toBe(200);
    expect((await b.get(`/activate?token=${linkSecret}`)).status).toBe(410);
    const res = await b.post('/activate', { token: linkSecret, password: GOOD, acceptPrivacy: 'yes' });
    expect(res.status).toBe(410);
    expect((await wide.get(`/Users/${mover}`)).body['urn:provisio:params:scim:schemas:extension:2.0:User'].activationState).toBe('pending');
    // An admin with authority over them vouches by sending a new link, which works.
    expect((await adminApi(t.token).post(`/users/${mover}/activation`)).status).toBe(202);
    const fresh = linkToken((await mailTo('mover@authority.test', 'activation'))!.text, '/activate');
    const b2 = browser(h.app);
    await b2.get(`/activate?token=${fresh}`);
    expect((await b2.post('/activate', { token: fresh, password: GOOD, acceptPrivacy: 'yes' })).status).toBe(303);
  });

  it('a forgot-password link never goes to an address set by a credential that no longer administers the person', async () => {
    await user('climber');
    expect((await wide.patch(`/Groups/${id.C}`, ops({ op: 'add', path: 'members', value: [{ value: id.climber }] }))).status).toBe(204);
    await activate('climber');
    // While wholly inside the child, the child may change their sign-in email (a verify link goes
    // out), and a reset link may go to the new address: the child administers the person.
    expect((await asToken(tok.child).patch(`/Users/${id.climber}`, ops({ op: 'replace', path: 'userName', value: 'climber-new@authority.test' }))).status).toBe(200);
    const resets = async () => {
      const res = await h.http.get('/operator/v1/mail').query({ to: 'climber-new@authority.test' }).set('Authorization', `Bearer ${OPERATOR_TOKEN}`);
      return res.body.messages.filter((m: { template: string }) => m.template === 'password-reset').length;
    };
    const forgot = async () => {
      const b = browser(h.app);
      await b.get('/forgot-password');
      expect((await b.post('/forgot-password', { email: 'climber-new@authority.test' })).status).toBe(200);
      // The page answers first; the lookup and the email come after it (http/after-response.ts).
      await h.deps.later.idle();
    };
    await forgot();
    expect(await resets()).toBe(1);
    // Then the person becomes an admin of the parent: the address the child set proves nothing now.
    expect((await wide.patch(`/Groups/${id.P}`, ops({ op: 'add', path: 'members', value: [{ value: id.climber }] }, { op: 'replace', path: `${PROVISIO_GROUP}:admins`, value: [{ value: id.parentAdmin }, { value: id.climber }] }))).status).toBe(204);
    await forgot();
    expect(await resets()).toBe(1);
  });
});

describe('point 4: only an admin of the account above switches a sub-account on or off', () => {
  it('refuses the sub-account’s own credentials and a scim-only token; allows the account above and the tenant', async () => {
    const off = ops({ op: 'replace', path: `${PROVISIO_GROUP}:active`, value: false });
    const on = ops({ op: 'replace', path: `${PROVISIO_GROUP}:active`, value: true });
    expectScimError(await asToken(tok.idp).patch(`/Groups/${id.C}`, off), 403);
    expectScimError(await asToken(tok.child).patch(`/Groups/${id.C}`, off), 403);
    expectScimError(await asToken(tok.child).patch(`/Groups/${id.C}`, ops({ op: 'replace', path: `${PROVISIO_GROUP}:admins`, value: [{ value: id.childUser }] })), 403);
    expectScimError(await asToken(tok.child).delete(`/Groups/${id.C}`), 403);
    expect((await wide.get(`/Groups/${id.C}`)).body[PROVISIO_GROUP].active).toBe(true);
    // Its name and members stay with whoever may see it.
    expect((await asToken(tok.child).patch(`/Groups/${id.C}`, ops({ op: 'replace', path: 'displayName', value: 'C renamed' }))).status).toBe(204);
    // The parent's credential and a tenant-wide admin credential may.
    expect((await asToken(tok.parent).patch(`/Groups/${id.C}`, off)).status).toBe(204);
    expect((await asToken(tok.parent).patch(`/Groups/${id.C}`, on)).status).toBe(204);
    expect((await wide.patch(`/Groups/${id.S2}`, off)).status).toBe(204);
    // An IdP's PUT that knows nothing of our extension keeps it off, and is accepted.
    const s2 = (await wide.get(`/Groups/${id.S2}`)).body;
    const put = await asToken(tok.idp).put(`/Groups/${id.S2}`, { schemas: [GROUP], displayName: s2.displayName, members: s2.members.map((m: { value: string }) => ({ value: m.value })) });
    expect(put.status).toBe(200);
    expect(put.body[PROVISIO_GROUP]).toMatchObject({ active: false, parent: id.P });
    expect((await wide.patch(`/Groups/${id.S2}`, on)).status).toBe(204);
  });
});

describe('point 3: switching a sub-account off cuts what it empowers', () => {
  it('its tokens, and those of sub-accounts below it, stop (401) and work again when it is back', async () => {
    const child = asToken(tok.child);
    expect((await child.get('/Users').query({ count: 1 })).status).toBe(200);
    await asToken(tok.parent).patch(`/Groups/${id.C}`, ops({ op: 'replace', path: `${PROVISIO_GROUP}:active`, value: false })).expect(204);
    expectScimError(await child.get('/Users'), 401);
    expect((await adminApi(tok.child).get('/tokens')).status).toBe(401);
    await asToken(tok.parent).patch(`/Groups/${id.C}`, ops({ op: 'replace', path: `${PROVISIO_GROUP}:active`, value: true })).expect(204);
    expect((await child.get('/Users').query({ count: 1 })).status).toBe(200);
    // Switched off through its parent.
    await wide.patch(`/Groups/${id.P}`, ops({ op: 'replace', path: `${PROVISIO_GROUP}:active`, value: false })).expect(204);
    expectScimError(await child.get('/Users'), 401);
    expectScimError(await asToken(tok.parent).get('/Users'), 401);
    await wide.patch(`/Groups/${id.P}`, ops({ op: 'replace', path: `${PROVISIO_GROUP}:active`, value: true })).expect(204);
    expect((await child.get('/Users').query({ count: 1 })).status).toBe(200);
  });

  it('its admins lose their admin rights there, also when a parent is switched off', async () => {
    const admin = browser(h.app);
    expect((await admin.signIn('childAdmin@authority.test', GOOD)).status).toBe(303);
    await admin.get('/account');
    expect((await admin.post('/account/switch', { accountId: id.C })).status).toBe(303);
    expect((await admin.agent.get('/api/v1/tokens')).status).toBe(200);
    await wide.patch(`/Groups/${id.P}`, ops({ op: 'replace', path: `${PROVISIO_GROUP}:active`, value: false })).expect(204);
    expect((await admin.agent.get('/api/v1/tokens')).status).not.toBe(200);
    await wide.patch(`/Groups/${id.P}`, ops({ op: 'replace', path: `${PROVISIO_GROUP}:active`, value: true })).expect(204);
  });

  it('a token a person made stops when that person loses the rights that let them make it', async () => {
    const admin = browser(h.app);
    expect((await admin.signIn('childAdmin@authority.test', GOOD)).status).toBe(303);
    await admin.get('/account');
    await admin.post('/account/switch', { accountId: id.C });
    const csrf = (await admin.me()).body.csrfToken;
    const made = await admin.agent.post('/api/v1/tokens').set('X-CSRF-Token', csrf).send({ name: 'made by a person', scopes: ['scim'], subAccount: id.C });
    expect(made.status).toBe(201);
    expect(made.body.createdBy).toEqual({ type: 'user', id: id.childAdmin });
    const theirs = asToken(made.body.token);
    expect((await theirs.get('/Users').query({ count: 1 })).status).toBe(200);
    // The tenant takes their admin rights on C away: their token stops at once…
    await wide.patch(`/Groups/${id.C}`, ops({ op: 'replace', path: `${PROVISIO_GROUP}:admins`, value: [{ value: id.childUser }] })).expect(204);
    expectScimError(await theirs.get('/Users'), 401);
    // …and the tokens nobody's session made are not affected.
    expect((await asToken(tok.child).get('/Users').query({ count: 1 })).status).toBe(200);
    // Given back, it works again; their deactivation stops it too.
    await wide.patch(`/Groups/${id.C}`, ops({ op: 'replace', path: `${PROVISIO_GROUP}:admins`, value: [{ value: id.childAdmin }] })).expect(204);
    expect((await theirs.get('/Users').query({ count: 1 })).status).toBe(200);
    await wide.patch(`/Users/${id.childAdmin}`, ops({ op: 'replace', value: { active: false } })).expect(200);
    expectScimError(await theirs.get('/Users'), 401);
  });
});
