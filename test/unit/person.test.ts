// The pure rules read off a person (server/accounts/person.ts): the sign-in email, the language
// of their emails, the activation mode a create asks for, and which privacy policy they owe.
import { languageOf, needsPrivacy, requestedMode, signInEmail, toPerson } from '../../server/accounts/person';
import type { PersonRow } from '../../server/store/accounts-repo';

const EXT = 'urn:provisio:params:scim:schemas:extension:2.0:User';

describe('signInEmail', () => {
  it.each([
    ['an email userName, lower-cased and trimmed', ' Ada@Acme.Example ', 'ada@acme.example'],
    ['a userName without @ is no sign-in email', 'jdoe', undefined],
    ['not a string', 42, undefined],
  ])('%s', (_name, userName, expected) => {
    expect(signInEmail(userName)).toBe(expected);
  });
});

describe('languageOf', () => {
  it.each([
    ['preferredLanguage first', { preferredLanguage: 'fr-CA', locale: 'en-US' }, {}, 'fr'],
    ['then locale', { locale: 'fr_FR' }, { language: 'en' }, 'fr'],
    ['then the tenant setting', {}, { language: 'fr' }, 'fr'],
    ['a language we do not send is skipped', { preferredLanguage: 'de' }, { language: 'fr' }, 'fr'],
    ['English otherwise', {}, {}, 'en'],
  ])('%s', (_name, data, settings, expected) => {
    expect(languageOf(data as never, settings)).toBe(expected);
  });
});

describe('requestedMode', () => {
  it.each([
    ['in the extension object', { [EXT]: { activationMode: 'generatedCredentials' } }, 'generatedCredentials'],
    ['as a URN-qualified key (Entra), any case', { [`${EXT}:ACTIVATIONMODE`]: 'activationemail' }, 'activationEmail'],
    ['absent', { userName: 'a@b.test' }, undefined],
    ['null means absent', { [EXT]: { activationMode: null } }, undefined],
  ])('%s', (_name, body, expected) => {
    expect(requestedMode(body)).toBe(expected);
  });

  it('refuses an unknown mode with 400 invalidValue', () => {
    expect(() => requestedMode({ [EXT]: { activationMode: 'magic' } })).toThrow(expect.objectContaining({ status: 400, scimType: 'invalidValue' }));
  });
});

describe('toPerson and the privacy policy owed', () => {
  const row = (over: Partial<PersonRow> = {}): PersonRow => ({
    id: 'u1',
    user_name: 'Ada@acme.example',
    active: true,
    activation_state: 'active',
    is_primary_admin: false,
    data: {},
    password_hash: null,
    must_change: null,
    verified_email: null,
    privacy_policy_version: '1',
    email_set_by_sub_account: null,
    tenant_name: 'Acme',
    tenant_settings: null,
    ...over,
  });

  it('owes the server’s version unless the tenant sets its own', () => {
    expect(toPerson('t1', row(), '1').policyVersion).toBe('1');
    expect(needsPrivacy(toPerson('t1', row(), '1'))).toBe(false);
    const raised = toPerson('t1', row({ tenant_settings: { privacyPolicyVersion: '2' } }), '1');
    expect(raised.policyVersion).toBe('2');
    expect(needsPrivacy(raised)).toBe(true);
  });

  it('reads the sign-in email and the credentials facts', () => {
    const p = toPerson('t1', row({ must_change: true, email_set_by_sub_account: 's1' }), '1');
    expect(p).toMatchObject({ email: 'ada@acme.example', mustChangePassword: true, emailSetBySubAccount: 's1', passwordHash: null, tenant: { name: 'Acme', settings: {} } });
  });
});
