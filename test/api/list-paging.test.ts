// Cursor paging of GET /sub-accounts and GET /managers (docs/admin-api.md "Paging the sub-account
// and manager lists"), and the console pages that walk them: more than one page of items, walked
// page by page with nextCursor, the search kept; without count or cursor the answer is the whole
// list as before. Runs on PGlite and PostgreSQL.
import { adminApi, createTenant, expectJsonError, Harness, startHarness, TestTenant } from '../support/harness';
import type { Browser } from '../support/browser';
import { primaryAdmin } from '../support/console';

let h: Harness;
let t: TestTenant;
let tag = '';
let admin: Browser;

beforeAll(async () => {
  h = await startHarness();
  t = await createTenant(h, 'Acme');
  tag = `pg${Date.now() % 100000}`;
  const api = adminApi(h, t);
  for (let i = 0; i < 5; i++) {
    expect((await api.post('/sub-accounts', { name: `${tag} office ${i}` })).status).toBe(201);
    expect((await api.post('/managers', { email: `${tag}-m${i}@acme.test`, name: `${tag} manager ${i}` })).status).toBe(201);
  }
  // One more of each that the search leaves out.
  await api.post('/sub-accounts', { name: 'Elsewhere' });
  await api.post('/managers', { email: 'elsewhere@acme.test', name: 'Elsewhere' });
  admin = await primaryAdmin(h, t);
});
afterAll(async () => h.close());

/** Walks a list with count=2 and the search, returning the names page by page. */
async function walk(path: string, key: 'subAccounts' | 'managers') {
  const api = adminApi(h, t);
  const pages: string[][] = [];
  let cursor: string | undefined;
  let first: { totalResults?: number } | undefined;
  do {
    const res = await api.get(`${path}?q=${tag}&count=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    expect(res.status).toBe(200);
    first ??= res.body;
    pages.push(res.body[key].map((x: { name: string }) => x.name));
    cursor = res.body.nextCursor;
    expect(pages.length).toBeLessThan(10);
  } while (cursor);
  return { pages, total: first!.totalResults };
}

describe('cursor paging of the admin lists', () => {
  it('walks the sub-accounts two at a time, keeping the search', async () => {
    const { pages, total } = await walk('/sub-accounts', 'subAccounts');
    expect(total).toBe(5);
    expect(pages.map((p) => p.length)).toEqual([2, 2, 1]);
    expect(pages.flat()).toEqual([0, 1, 2, 3, 4].map((i) => `${tag} office ${i}`));
  });

  it('walks the managers two at a time, admins left out by the query', async () => {
    const { pages, total } = await walk('/managers', 'managers');
    expect(total).toBe(5);
    expect(pages.map((p) => p.length)).toEqual([2, 2, 1]);
    expect(pages.flat()).toEqual([0, 1, 2, 3, 4].map((i) => `${tag} manager ${i}`));
  });

  it('answers the whole list without count or cursor, as before', async () => {
    const api = adminApi(h, t);
    const subs = await api.get('/sub-accounts');
    expect(subs.body.subAccounts).toHaveLength(6);
    expect(subs.body.totalResults).toBe(6);
    expect(subs.body.nextCursor).toBeUndefined();
    const managers = await api.get('/managers');
    expect(managers.body.managers).toHaveLength(6);
    expect(managers.body.nextCursor).toBeUndefined();
    expect(managers.body.primaryAdmin).toMatchObject({ id: t.primaryAdminId });
  });

  it('refuses a bad count and a cursor from another query', async () => {
    const api = adminApi(h, t);
    for (const path of ['/sub-accounts', '/managers']) {
      expectJsonError(await api.get(`${path}?count=0`), 400);
      expectJsonError(await api.get(`${path}?count=201`), 400);
      expectJsonError(await api.get(`${path}?count=two`), 400);
      expectJsonError(await api.get(`${path}?cursor=nonsense`), 400);
    }
    const cursor = (await api.get(`/sub-accounts?q=${tag}&count=2`)).body.nextCursor;
    // A cursor belongs to its query: another search is refused, not silently mixed.
    expectJsonError(await api.get(`/sub-accounts?q=other&count=2&cursor=${encodeURIComponent(cursor)}`), 400);
  });
});

describe('console pages', () => {
  it('pages the departments and sub-accounts lists with next-page links that keep the search', async () => {
    for (const [path, word] of [
      ['/console/departments', 'office'],
      ['/console/sub-accounts', 'manager'],
    ] as const) {
      const seen: string[] = [];
      let url: string | undefined = `${path}?q=${tag}&size=2`;
      let pages = 0;
      while (url) {
        const page = await admin.get(url);
        expect(page.status).toBe(200);
        seen.push(...[...page.text.matchAll(new RegExp(`${tag} ${word} (\\d)`, 'g'))].map((m) => m[1]));
        const next = /<a[^>]*href="([^"]+)"[^>]*rel="next"/.exec(page.text);
        url = next ? next[1].replace(/&amp;/g, '&') : undefined;
        if (url) expect(url).toContain(`q=${tag}`);
        pages += 1;
        expect(pages).toBeLessThan(10);
      }
      expect(pages).toBe(3);
      expect([...new Set(seen)].sort()).toEqual(['0', '1', '2', '3', '4']);
    }
  });

  it('pages the department people picker, keeping the search and the members', async () => {
    const api = adminApi(h, t);
    const managers = (await api.get(`/managers?q=${tag}`)).body.managers as { id: string; email: string }[];
    const member = managers[4];
    const d = (await api.post('/sub-accounts', { name: `${tag} picker`, members: [member.id] })).body.id;
    const seen: string[] = [];
    let url: string | undefined = `/console/departments/${d}?q=${tag}-m&size=2`;
    let pages = 0;
    while (url) {
      const page = await admin.get(url);
      expect(page.status).toBe(200);
      // The member is always offered (checked), whatever the page.
      expect(page.text).toMatch(new RegExp(`name="members" value="${member.id}"[^>]*checked`));
      seen.push(...[...page.text.matchAll(new RegExp(`${tag}-m(\\d)@acme.test`, 'g'))].map((m) => m[1]));
      const next = /<a[^>]*href="([^"]+)"[^>]*rel="next"/.exec(page.text);
      url = next ? next[1].replace(/&amp;/g, '&') : undefined;
      pages += 1;
      expect(pages).toBeLessThan(10);
    }
    expect(pages).toBe(3);
    expect([...new Set(seen)].sort()).toEqual(['0', '1', '2', '3', '4']);
  });
});
