// The front door's templates (views/front-door/, issue 11) escape every value they print, carry
// the CSRF field in every form, and speak both languages. Rendered through the same Views and
// message files the server uses (web/views.ts, web/i18n.ts).
import path from 'node:path';
import { loadTranslations } from '../../server/web/i18n';
import { projectRoot } from '../../server/web/project-root';
import { Views } from '../../server/web/views';

const root = projectRoot();
const i18n = loadTranslations(path.join(root, 'locales'));
const views = new Views({ dir: path.join(root, 'views'), i18n, cache: false });
const evil = '"><script>x</script>';
const policy = { text: evil, version: evil, owner: 'tenant' };

const pages: [string, Record<string, unknown>][] = [
  ['login', { step: 'email', email: evil, emailError: evil, kept: { text: evil, contact: evil } }],
  ['login', { step: 'password', email: evil, error: evil }],
  ['activate', { token: evil, email: evil, suggestion: evil, minLength: 12, policy, passwordError: evil, privacyError: evil }],
  ['reset', { token: evil, suggestion: evil, minLength: 12, passwordError: evil }],
  ['forgot', { email: evil, emailError: evil }],
  ['change-password', { forced: false, suggestion: evil, minLength: 12, currentError: evil, nav: { admin: true, here: 'password' } }],
  ['accept-privacy', { policy, error: evil }],
  ['privacy', { policy, tenantName: evil }],
  ['verify-email', { token: evil, email: evil }],
  ['message', { title: evil, text: evil, link: { href: evil, text: evil } }],
  ['account', { displayName: evil, email: evil, tenantName: evil, admin: true, services: [evil], accounts: [{ id: evil, name: evil, current: true }, { id: 'b', name: 'b', current: false }] }],
  ['identities', { admin: true, primaryAdmin: true, notice: evil, identities: [{ connectionId: evil, issuer: evil, linkedBy: 'self', canLink: true }] }],
];

describe('front-door templates', () => {
  it.each(pages)('%s never prints a value unescaped and carries the CSRF field', (name, data) => {
    const html = views.render(`front-door/${name}`, { ...data, csrf: 'the-token', path: evil }, 'en');
    expect(html).not.toContain('<script>x');
    expect(html).toContain('&lt;script&gt;');
    expect(html).toContain('name="_csrf" value="the-token"');
    expect(html).toContain('<html lang="en">');
  });

  it('the sign-in page in French, with the language switch and the privacy link in its footer', () => {
    const html = views.render('front-door/login', { step: 'email', email: '', csrf: 't', path: '/login' }, 'fr');
    expect(html).toContain('<html lang="fr">');
    expect(html).toContain('Connexion');
    expect(html).toMatch(/<footer>[\s\S]*action="\/language"[\s\S]*href="\/privacy"[\s\S]*<\/footer>/);
    expect(html).toMatch(/value="fr"[^>]*aria-pressed="true"/);
  });
});
