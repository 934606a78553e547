// The password policy and hashing (accounts/passwords.ts), as tables.
import { hashPassword, MIN_LENGTH, PasswordPolicy, verifyPassword } from '../../server/accounts/passwords';

const policy = new PasswordPolicy();

describe('PasswordPolicy.problem', () => {
  it.each([
    ['short', undefined, /at least 12/],
    ['a'.repeat(257), undefined, /at most 256/],
    ['password1234', undefined, /too common/],
    ['PASSWORD1234', undefined, /too common/], // case does not save a listed password
    ['qwertyuiop123', undefined, /too common/],
    ['zzzzzzzzzzzzzz', undefined, /too common|repeat/],
    ['§§§§§§§§§§§§§§', undefined, /repeat/],
    ['my-ada.lovelace@acme.test-pw', 'ada.lovelace@acme.test', /email/],
    ['ada.lovelace-was-here', 'ada.lovelace@acme.test', /email/],
  ])('refuses %j (email %s)', (password, email, message) => {
    expect(policy.problem(password, email)).toMatch(message);
  });

  it.each([
    ['correct-horse-battery-staple-42', 'ada@acme.test'],
    ['twelve chars', undefined],
    ['ünïcødé pässwörd ✓', undefined],
    // A short local part is not a word worth refusing.
    ['ab-is-my-favourite-pair', 'ab@acme.test'],
  ])('accepts %j', (password, email) => {
    expect(policy.problem(password, email)).toBeUndefined();
  });

  it('suggests passphrases and generates passwords that pass the policy, different every time', () => {
    const suggestions = new Set(Array.from({ length: 50 }, () => policy.suggest()));
    const generated = new Set(Array.from({ length: 50 }, () => policy.generate()));
    expect(suggestions.size).toBe(50);
    expect(generated.size).toBe(50);
    for (const p of [...suggestions, ...generated]) {
      expect(p.length).toBeGreaterThanOrEqual(MIN_LENGTH);
      expect(policy.problem(p, 'someone@acme.test')).toBeUndefined();
    }
    for (const g of generated) expect(g).toMatch(/^[A-HJ-NP-Za-km-z2-9]{20}$/);
  });
});

describe('hashing', () => {
  it('Argon2id hashes that verify the right password only, and never the same twice', async () => {
    const a = await hashPassword('correct-horse-battery-staple-42');
    const b = await hashPassword('correct-horse-battery-staple-42');
    expect(a).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword(a, 'correct-horse-battery-staple-42')).toBe(true);
    expect(await verifyPassword(a, 'correct-horse-battery-staple-43')).toBe(false);
    expect(await verifyPassword(undefined, 'anything')).toBe(false);
    expect(await verifyPassword('not a hash', 'anything')).toBe(false);
  });
});
