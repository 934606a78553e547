// The operator's permission catalogue (issue 10): the file format read at start, the shipped
// default, and PERMISSIONS_FILE errors that stop the process naming the key.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../server/config';
import { parsePermissionCatalogue } from '../../server/permission-catalogue';

const ISSUE_EXAMPLE = ['servers.manage', 'servers.view', 'billing.view', 'billing.manage', 'licences.manage', 'users.manage', 'support.open'];
const one = (key: unknown, description: unknown = 'Something') => ({ permissions: [{ key, description }] });

describe('parsePermissionCatalogue', () => {
  it.each([
    ['one permission', one('servers.manage'), ['servers.manage']],
    ['a single word', one('audit'), ['audit']],
    ['digits, "_" and "-" inside words', one('v2.servers_all.read-only'), ['v2.servers_all.read-only']],
    ['100 characters', one(`a.${'b'.repeat(98)}`), [`a.${'b'.repeat(98)}`]],
  ])('accepts %s', (_what, input, keys) => {
    expect(parsePermissionCatalogue(input).map((p) => p.key)).toEqual(keys);
  });

  it('trims descriptions and keeps the file’s order', () => {
    expect(parsePermissionCatalogue({ permissions: [{ key: 'b.x', description: '  B  ' }, { key: 'a.x', description: 'A' }] })).toEqual([
      { key: 'b.x', description: 'B' },
      { key: 'a.x', description: 'A' },
    ]);
  });

  it.each([
    ['not an object', [], /must be a JSON object/],
    ['null', null, /must be a JSON object/],
    ['no permissions', {}, /"permissions" must be a non-empty array/],
    ['an empty list', { permissions: [] }, /non-empty array/],
    ['a misspelt field', { permission: [] }, /unknown field "permission"/],
    ['an entry that is a string', { permissions: ['servers.manage'] }, /permissions\[0\] must be an object/],
    ['an entry with an extra field', { permissions: [{ key: 'a', description: 'A', scope: 'x' }] }, /permissions\[0\] has an unknown field "scope"/],
    ['capitals', one('Servers.Manage'), /permissions\[0\]\.key must be dotted lower-case words/],
    ['a leading dot', one('.servers'), /key must be/],
    ['a trailing dot', one('servers.'), /key must be/],
    ['two dots', one('servers..manage'), /key must be/],
    ['a space', one('servers manage'), /key must be/],
    ['a word starting with a digit', one('servers.2fa'), /key must be/],
    ['101 characters', one(`a.${'b'.repeat(99)}`), /at most 100/],
    ['a number', one(42), /got 42/],
    ['no key', { permissions: [{ description: 'x' }] }, /key must be/],
    ['no description', { permissions: [{ key: 'a' }] }, /permissions\[0\]\.description must be a non-empty string/],
    ['a blank description', one('a', '   '), /description must be/],
    ['a description of 501 characters', one('a', 'd'.repeat(501)), /at most 500/],
    ['a key twice', { permissions: [{ key: 'a.b', description: 'x' }, { key: 'a.b', description: 'y' }] }, /permissions\[1\]\.key "a\.b" appears twice/],
  ])('refuses %s, saying where', (_what, input, message) => {
    expect(() => parsePermissionCatalogue(input)).toThrow(message);
  });

  it('refuses more than 1000 permissions', () => {
    const permissions = Array.from({ length: 1001 }, (_, i) => ({ key: `p${i}`, description: 'x' }));
    expect(() => parsePermissionCatalogue({ permissions })).toThrow(/at most 1000/);
  });
});

describe('PERMISSIONS_FILE', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'provisio-permissions-'));
  const file = (name: string, text: string) => {
    const p = path.join(dir, name);
    writeFileSync(p, text);
    return p;
  };

  it('unset: the shipped config/permissions.json, the issue’s example, each with a description', () => {
    const c = loadConfig({});
    expect(c.permissions.map((p) => p.key)).toEqual(ISSUE_EXAMPLE);
    for (const p of c.permissions) expect(p.description.length).toBeGreaterThan(0);
  });

  it('set: the operator’s file replaces it', () => {
    const p = file('custom.json', JSON.stringify({ permissions: [{ key: 'vm.start', description: 'Start machines' }] }));
    expect(loadConfig({ PERMISSIONS_FILE: p }).permissions).toEqual([{ key: 'vm.start', description: 'Start machines' }]);
  });

  it.each([
    ['a file that does not exist', () => path.join(dir, 'missing.json'), /^PERMISSIONS_FILE ".*missing\.json" cannot be read \(ENOENT\)$/],
    ['a directory', () => dir, /^PERMISSIONS_FILE ".*" cannot be read/],
    ['a file that is not JSON', () => file('bad.json', '{"permissions": ['), /^PERMISSIONS_FILE ".*bad\.json" is not valid JSON/],
    ['a file that is not a catalogue', () => file('wrong.json', JSON.stringify(one('Bad Key'))), /^PERMISSIONS_FILE ".*wrong\.json" permissions\[0\]\.key must be/],
  ])('stops the start with a ConfigError naming the key for %s', (_what, make, message) => {
    const env = { PERMISSIONS_FILE: make() };
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});
