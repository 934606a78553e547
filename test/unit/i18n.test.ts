// The pages' words (web/i18n.ts): every key exists in both languages, plurals follow each
// language's rules, and the language of a page is chosen in the documented order.
import path from 'node:path';
import { chooseLanguage, loadTranslations } from '../../server/web/i18n';
import { safeBack } from '../../server/web/language-routes';
import { projectRoot } from '../../server/web/project-root';

const i18n = loadTranslations(path.join(projectRoot(), 'locales'));

describe('message files', () => {
  it('French and English have exactly the same keys (plural forms aside)', () => {
    const base = (keys: string[]) => [...new Set(keys.map((k) => k.replace(/_(zero|one|two|few|many|other)$/, '')))].sort();
    expect(base(i18n.keys('fr'))).toEqual(base(i18n.keys('en')));
    expect(i18n.keys('en').length).toBeGreaterThan(20);
  });

  it('no message is empty', () => {
    for (const lang of ['en', 'fr'] as const) for (const k of i18n.keys(lang)) expect([lang, k, i18n.t(lang)(k)]).not.toEqual([lang, k, '']);
  });

  it('plurals by each language’s rules, interpolation without HTML escaping (templates escape)', () => {
    expect(i18n.t('en')('overview.users', { count: 1 })).toBe('user');
    expect(i18n.t('en')('overview.users', { count: 0 })).toBe('users');
    expect(i18n.t('fr')('overview.users', { count: 0 })).toBe('utilisateur');
    expect(i18n.t('fr')('overview.users', { count: 2 })).toBe('utilisateurs');
    expect(i18n.t('en')('overview.signedInAs', { name: '<b>' })).toBe('Signed in as <b>.');
  });
});

describe('chooseLanguage', () => {
  it.each([
    [{ chosen: 'fr', stated: 'en', browser: 'en' }, 'fr'],
    [{ chosen: 'de', stated: 'fr', browser: 'en' }, 'fr'],
    [{ stated: 'en', browser: 'fr' }, 'en'],
    [{ browser: 'fr' }, 'fr'],
    [{ browser: false }, 'en'],
    [{}, 'en'],
  ] as const)('%j → %s', (input, expected) => {
    expect(chooseLanguage(input as Parameters<typeof chooseLanguage>[0])).toBe(expected);
  });
});

describe('safeBack', () => {
  it.each([
    ['/console/users?state=pending', '/console/users?state=pending'],
    ['/login', '/login'],
    ['//evil.example/', '/login'],
    ['/\\evil.example', '/login'],
    ['https://evil.example/', '/login'],
    ['javascript:alert(1)', '/login'],
    ['/a b', '/login'],
    [undefined, '/login'],
  ])('%s → %s', (input, expected) => {
    expect(safeBack(input)).toBe(expected);
  });
});
