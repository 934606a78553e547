// GET /metrics (issue 13, "Operators") on a real server and database: Prometheus text behind the
// operator token (or on METRICS_PORT's own listener instead), requests counted by route template
// and SCIM operations by resource type and verb with bounded labels (no tenant id, resource id or
// email in any label value after traffic that used them), the pool, the outbox backlog and its
// oldest age, sign-in failures and rate-limit refusals — each counter moving with what it counts.
import request from 'supertest';
import { browser } from '../support/browser';
import { createMetricsApp } from '../../server/operator/metrics-router';
import { createTenant, Harness, OPERATOR_TOKEN, scim, startHarness, TestTenant, USER } from '../support/harness';

let offsetMs = 0;
const clock = () => new Date(Date.now() + offsetMs);
let h: Harness;
let t: TestTenant;

const scrape = async (hh = h) => {
  const res = await hh.http.get('/metrics').set('Authorization', `Bearer ${OPERATOR_TOKEN}`);
  expect(res.status).toBe(200);
  return res.text;
};

/** The value of one sample (name and exact label set as printed), or 0 when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  const want = Object.entries(labels);
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? ([^ ]+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]));
    if (want.every(([k, v]) => got[k] === v)) return Number(m[3]);
  }
  return 0;
}

/** Every label value of a scrape. */
const labelValues = (text: string) => [...text.matchAll(/\w+="((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]);

beforeAll(async () => {
  h = await startHarness({ clock });
  t = await createTenant(h, 'Acme');
});
afterAll(() => h.close());

it('is protected by the operator token', async () => {
  const none = await h.http.get('/metrics');
  expect(none.status).toBe(401);
  expect(none.text).not.toContain('provisio_http_requests_total');
  await h.http.get('/metrics').set('Authorization', `Bearer ${t.token}`).expect(401);
  const ok = await h.http.get('/metrics').set('Authorization', `Bearer ${OPERATOR_TOKEN}`).expect(200);
  expect(ok.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  expect(ok.text).toContain('# TYPE provisio_http_requests_total counter');
  expect(ok.text).toContain('# TYPE provisio_http_request_duration_seconds histogram');
});

it('counts SCIM requests by route template and operation, with no tenant id, resource id or email as a label', async () => {
  const before = await scrape();
  const route = { route: '/scim/v2/:tenantId/Users/:id', method: 'GET', status: '200' };
  const created = await scim(h, t).post('/Users', { schemas: [USER], userName: 'metrics.person@acme.test' });
  expect(created.status).toBe(201);
  await scim(h, t).get(`/Users/${created.body.id}`).expect(200);
  await scim(h, t).get(`/Users/${created.body.id}`).expect(200);
  await scim(h, t).get('/Users?filter=userName eq "metrics.person@acme.test"').expect(200);
  await scim(h, t).get('/Users/00000000-0000-4000-8000-000000000000').expect(404);
  const after = await scrape();
  expect(sample(after, 'provisio_http_requests_total', route) - sample(before, 'provisio_http_requests_total', route)).toBe(2);
  expect(sample(after, 'provisio_http_request_duration_seconds_count', route) - sample(before, 'provisio_http_request_duration_seconds_count', route)).toBe(2);
  const op = (operation: string, status: string) => ({ resource_type: 'User', operation, status });
  expect(sample(after, 'provisio_scim_operations_total', op('create', '201')) - sample(before, 'provisio_scim_operations_total', op('create', '201'))).toBe(1);
  expect(sample(after, 'provisio_scim_operations_total', op('get', '200')) - sample(before, 'provisio_scim_operations_total', op('get', '200'))).toBe(2);
  expect(sample(after, 'provisio_scim_operations_total', op('get', '404'))).toBeGreaterThanOrEqual(1);
  expect(sample(after, 'provisio_scim_operations_total', op('list', '200'))).toBeGreaterThanOrEqual(1);
  const values = labelValues(after);
  for (const v of values) {
    expect(v).not.toContain(t.id);
    expect(v).not.toContain(created.body.id);
    expect(v).not.toContain('@');
  }
  // The read-only value lists are counted as their resource types, by template.
  await scim(h, t).get('/Entitlements').expect(200);
  await scim(h, t).get('/Roles/admin').expect(200);
  const lists = await scrape();
  expect(sample(lists, 'provisio_scim_operations_total', { resource_type: 'Entitlement', operation: 'list', status: '200' })).toBeGreaterThanOrEqual(1);
  expect(sample(lists, 'provisio_scim_operations_total', { resource_type: 'Role', operation: 'get', status: '200' })).toBeGreaterThanOrEqual(1);
  expect(sample(lists, 'provisio_http_requests_total', { route: '/scim/v2/:tenantId/Roles/:id', method: 'GET', status: '200' })).toBeGreaterThanOrEqual(1);
  // A request that authentication refused is counted under its mount's template, not its path.
  await h.http.get(`${t.path}/Users`).expect(401);
  expect(sample(await scrape(), 'provisio_http_requests_total', { route: '/scim/v2/:tenantId/*', method: 'GET', status: '401' })).toBeGreaterThanOrEqual(1);
});

it('unmatched paths share one label', async () => {
  await h.http.get('/no/such/path/12345').expect(404);
  const text = await scrape();
  expect(sample(text, 'provisio_http_requests_total', { route: '(unmatched)', method: 'GET', status: '404' })).toBeGreaterThanOrEqual(1);
  expect(text).not.toContain('/no/such/path');
});

it('shows the database pool and the outbox backlog with the age of its oldest message', async () => {
  const text = await scrape();
  expect(text).toMatch(/^provisio_db_pool_connections\{state="used"\} \d+$/m);
  expect(text).toMatch(/^provisio_db_pool_connections\{state="free"\} \d+$/m);
  expect(sample(text, 'provisio_db_pool_max')).toBeGreaterThanOrEqual(1);
  // Tenant creation queued the primary admin's activation email; the worker is not running here.
  const pending = sample(text, 'provisio_outbox_pending_messages');
  expect(pending).toBeGreaterThanOrEqual(1);
  offsetMs = 3600_000;
  const later = await scrape();
  offsetMs = 0;
  expect(sample(later, 'provisio_outbox_oldest_pending_age_seconds')).toBeGreaterThanOrEqual(3600);
  await h.deps.mail.worker.runOnce();
  expect(sample(await scrape(), 'provisio_outbox_pending_messages')).toBeLessThan(pending);
});

it('counts sign-in failures and rate-limit refusals where they happen', async () => {
  const before = await scrape();
  const b = browser(h.app);
  await b.get('/login');
  expect((await b.post('/login/password', { email: 'nobody@acme.test', password: 'not-the-password-at-all' })).status).toBe(401);
  const middle = await scrape();
  expect(sample(middle, 'provisio_sign_in_failures_total', { method: 'password' }) - sample(before, 'provisio_sign_in_failures_total', { method: 'password' })).toBe(1);

  const c = await h.http.post('/api/v1/scim-clients').set('Authorization', `Bearer ${t.token}`).send({ name: 'm', scopes: ['scim'] });
  const form = (secret: string) => h.http.post('/oauth/token').type('form').send(new URLSearchParams({ grant_type: 'client_credentials', client_id: c.body.clientId, client_secret: secret }).toString());
  for (let i = 0; i < 10; i++) expect((await form('wrong')).status).toBe(401);
  expect((await form('wrong')).status).toBe(429);
  const after = await scrape();
  expect(sample(after, 'provisio_rate_limit_refusals_total', { limit: 'oauth_client' }) - sample(middle, 'provisio_rate_limit_refusals_total', { limit: 'oauth_client' })).toBe(1);
  expect(sample(after, 'provisio_http_requests_total', { route: '/oauth/token', method: 'POST', status: '429' })).toBe(1);
  expect(after).not.toContain(c.body.clientId);
});

describe('with METRICS_PORT', () => {
  let hp: Harness;
  beforeAll(async () => {
    hp = await startHarness({ env: { METRICS_PORT: '9464' } });
  });
  afterAll(() => hp.close());

  it('the main port does not serve /metrics, even with the operator token; the metrics listener serves it without one', async () => {
    await hp.http.get('/healthz').expect(200);
    const main = await hp.http.get('/metrics').set('Authorization', `Bearer ${OPERATOR_TOKEN}`);
    expect(main.status).toBe(404);
    const apart = await request(createMetricsApp({ metrics: hp.deps.metrics, logger: hp.deps.logger })).get('/metrics').expect(200);
    expect(sample(apart.text, 'provisio_http_requests_total', { route: '/healthz', method: 'GET', status: '200' })).toBe(1);
    expect(sample(apart.text, 'provisio_http_requests_total', { route: '(unmatched)', method: 'GET', status: '404' })).toBe(1);
    await request(createMetricsApp({ metrics: hp.deps.metrics, logger: hp.deps.logger })).get('/scim/v2').expect(404);
  });
});
