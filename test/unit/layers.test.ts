// The layering of docs/architecture.md, kept true by a check rather than by memory: all SQL lives
// in server/store/, and each layer imports only the layers below it. Reads the source files.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const ROOT = join(__dirname, '../../server');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
  });
}

const sources = files(ROOT).map((path) => ({ path: relative(ROOT, path), text: readFileSync(path, 'utf8') }));
const layerOf = (path: string) => (path.includes('/') ? path.split('/')[0] : path.replace(/\.ts$/, ''));

/** The server modules a file imports, as layer names ("store", "errors", …). */
function importedLayers(file: { path: string; text: string }): string[] {
  const out = new Set<string>();
  for (const m of file.text.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+'(\.{1,2}\/[^']+)'/gm)) {
    const target = join(file.path, '..', m[1]);
    if (target.startsWith('..')) continue; // outside server/: schemas/, migrations/
    out.add(layerOf(target));
  }
  return [...out];
}

// What each layer may import besides itself (the direction of docs/architecture.md, "Layers").
const ALLOWED: Record<string, string[]> = {
  scim: ['errors'],
  store: ['scim', 'errors', 'secrets'],
  resources: ['scim', 'store', 'errors'],
  accounts: ['resources', 'store', 'scim', 'errors', 'secrets'],
  // OAuth for SCIM (issue 13) sits below tenancy/ (whose authenticator calls it) and the routers:
  // this row keeps it from importing them back (a cycle). sso/ for the outbound network rules only;
  // errors/ for the token endpoint's RFC 6749 §5.2 errors the authorization code grant raises (oauth/grants.ts).
  oauth: ['store', 'security', 'resources', 'sso', 'secrets', 'errors'],
  // SCIM events (issue 13): hears of resource writes (resources/ calls it through an interface of
  // its own, so resources/ never imports events/), signs with oauth/'s keys, pushes under sso/'s
  // outbound rules, backs off as the mail worker does.
  events: ['resources', 'store', 'scim', 'errors', 'sso', 'mail', 'poll-loop'],
  // A leaf every layer may count into (front-door/, http/, operator/): it imports nothing of ours.
  metrics: [],
  // The outbox workers' loop (mail/, events/): a leaf.
  'poll-loop': [],
  // Templates and words (issue 11): the language rule of accounts/person.ts, the session stack's type.
  web: ['accounts', 'front-door'],
  // The console reads and changes data only through the admin API (console/admin-client.ts): never
  // resources/, store/ or admin/ directly. accounts/ only for who is signed in (the frame).
  console: ['accounts', 'front-door', 'web', 'http', 'errors'],
  // The route descriptions and the OpenAPI document: pure but for express's Router type.
  openapi: ['errors', 'scim'],
};

// Patterns that mean "SQL is written here": raw statements and knex's query builder on a table.
const SQL = [/\.raw\s*\(/, /\b(?:knex|trx|db|tx)\s*\(\s*['"`][a-z_]+['"`]\s*\)/, /\.(?:whereRaw|joinRaw|selectRaw|orderByRaw)\s*\(/];

describe('layers', () => {
  it('reads the server’s sources', () => {
    expect(sources.length).toBeGreaterThan(50);
    expect(sources.some((f) => f.path === 'store/scope.ts')).toBe(true);
  });

  it('no SQL outside server/store/', () => {
    const offenders = sources.filter((f) => layerOf(f.path) !== 'store' && SQL.some((re) => re.test(f.text))).map((f) => f.path);
    expect(offenders).toEqual([]);
  });

  it.each(Object.entries(ALLOWED))('%s imports only %j (and itself)', (layer, allowed) => {
    const wrong = sources
      .filter((f) => layerOf(f.path) === layer)
      .flatMap((f) => importedLayers(f).filter((l) => l !== layer && !allowed.includes(l)).map((l) => `${f.path} → ${l}`));
    expect(wrong).toEqual([]);
  });

  it('the check sees an import and a statement when there is one (it can fail)', () => {
    expect(importedLayers({ path: 'scim/x.ts', text: "import { a } from '../store/db';\n" })).toEqual(['store']);
    expect(SQL.some((re) => re.test("await trx.raw('SELECT 1')"))).toBe(true);
    expect(SQL.some((re) => re.test("await db('users').where({ id })"))).toBe(true);
  });
});
