// The console's reading of an admin API refusal (server/console/admin-client.ts problemsOf): each
// field's message in the reader's language by the error's code, with its params; the API's English
// detail where the language has no message for the code; a 400's summary, a 409's own detail.
import { problemsOf } from '../../server/console/admin-client';
import { loadTranslations } from '../../server/web/i18n';
import path from 'node:path';

const i18n = loadTranslations(path.join(__dirname, '../../locales'));
const translate = (lang: 'en' | 'fr') => (key: string, values: Record<string, unknown>) => i18n.t(lang)(key, { ...values, defaultValue: '' }) || undefined;

const refused = (status: number, errors: unknown[]) => ({ ok: false, status, body: { status: String(status), detail: 'The API’s own words', errors } }) as never;

describe('problemsOf', () => {
  it('translates by code with the params, keeps the first error of a field, and falls back to the API’s English', () => {
    const answer = refused(400, [
      { field: 'name', path: '/name', code: 'maxLength', detail: 'must be at most 200 characters', params: { limit: 200 } },
      { field: 'name', path: '/name', code: 'pattern', detail: 'must be a slug' },
      { field: 'role', path: '/role', code: 'enum', detail: 'must be one of "admin", "user"', params: { allowed: ['admin', 'user', null] } },
      { field: 'limit', path: '/limit', code: 'range', detail: 'must be between 1 and 500' },
      { field: 'old', detail: 'a users error of before codes' },
    ]);
    expect(problemsOf(answer, translate('fr'))).toEqual({
      fields: {
        name: 'doit compter au plus 200 caractères',
        role: 'doit être l’une des valeurs : admin, user, null',
        limit: 'must be between 1 and 500',
        old: 'a users error of before codes',
      },
      message: '4 champs ne sont pas corrects : voir les messages à côté.',
    });
    expect(problemsOf(answer, translate('en')).fields.name).toBe('must be at most 200 characters');
    expect(problemsOf(answer).fields.name).toBe('must be at most 200 characters');
  });

  it('reads the resend refusal of someone SSO signs in (409 ssoRequired on email) in French; English keeps the API’s words', () => {
    const answer = refused(409, [{ field: 'email', path: '/email', code: 'ssoRequired', detail: "SSO is required for this user's email domain: …" }]);
    expect(problemsOf(answer, translate('fr')).fields.email).toMatch(/^L’authentification unique \(SSO\) est exigée/);
    expect(problemsOf(answer, translate('en')).fields.email).toBe("SSO is required for this user's email domain: …");
  });

  it('keeps a refusal’s own detail as the message (409, 403)', () => {
    expect(problemsOf(refused(409, [{ field: 'name', path: '/name', code: 'taken', detail: 'A price list named "x" already exists' }]), translate('fr'))).toEqual({
      fields: { name: 'est déjà utilisé' },
      message: 'The API’s own words',
    });
  });
});
