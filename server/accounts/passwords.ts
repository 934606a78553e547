// Passwords: Argon2id hashing, the password policy and generated passwords.
//
// Why @node-rs/argon2: Argon2id is OWASP's first choice; this binding ships prebuilt binaries
// without an install script and hashes at OWASP's minimum (19 MiB, t=2, p=1) in ~40 ms here
// (measured on our 2-core build machines), where Node's scrypt at OWASP settings took ~580 ms.
// The common-passwords list is @zxcvbn-ts/language-common's (49k passwords from public breach
// corpora, MIT); its diceware list makes the suggested passphrases.
import { hash, verify, Algorithm } from '@node-rs/argon2';
import { randomInt } from 'node:crypto';
import { dictionary } from '@zxcvbn-ts/language-common';

const ARGON2 = { algorithm: Algorithm.Argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 };

export const MIN_LENGTH = 12;
export const MAX_LENGTH = 256;

export class PasswordPolicy {
  private readonly common: Set<string>;
  private readonly words: string[];

  constructor() {
    const lists = dictionary as unknown as Record<string, string[]>;
    this.common = new Set(lists['passwords-common'].map((p) => p.toLowerCase()));
    this.words = lists['diceware-common'];
  }

  /**
   * Why a password is refused, as a stable code the pages translate (front-door: locales/<lang>/front.json
   * `problems.<code>`, issue 11), or undefined when it is acceptable (NIST SP 800-63B §5.1.1.2:
   * a minimum length, no composition rules, refuse values from breach lists and context-specific
   * words such as the account's own email). test/unit/passwords.test.ts
   */
  problemCode(password: string, email?: string): PasswordProblem | undefined {
    if (password.length < MIN_LENGTH) return { code: 'passwordTooShort', params: { min: MIN_LENGTH } };
    if (password.length > MAX_LENGTH) return { code: 'passwordTooLong', params: { max: MAX_LENGTH } };
    const lower = password.toLowerCase();
    if (this.common.has(lower)) return { code: 'passwordCommon' };
    if (/^(.)\1+$/.test(password)) return { code: 'passwordRepeated' };
    if (email) {
      const e = email.toLowerCase();
      const local = e.split('@')[0];
      if (lower.includes(e) || (local.length >= 4 && lower.includes(local))) return { code: 'passwordHasEmail' };
    }
    return undefined;
  }

  /** The same in English: the admin API's and SCIM's words (errors there stay English). */
  problem(password: string, email?: string): string | undefined {
    const p = this.problemCode(password, email);
    return p && englishProblem(p);
  }

  /** A passphrase of six diceware words and a number (≈ 84 bits), offered on every password form. */
  suggest(): string {
    const picked = Array.from({ length: 6 }, () => this.words[randomInt(this.words.length)]);
    return `${picked.join('-')}-${randomInt(10, 100)}`;
  }

  /** A generated temporary or initial password: 20 characters from a 56-symbol alphabet (≈ 116 bits). */
  generate(): string {
    const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789';
    return Array.from({ length: 20 }, () => alphabet[randomInt(alphabet.length)]).join('');
  }
}

/** A refused password or self-service step: a code pages translate, and its values. */
export interface PasswordProblem {
  code: string;
  params?: Record<string, string | number>;
}

const ENGLISH: Record<string, (p: Record<string, string | number>) => string> = {
  passwordTooShort: (p) => `Use at least ${p.min} characters.`,
  passwordTooLong: (p) => `Use at most ${p.max} characters.`,
  passwordCommon: () => 'This password is too common: it appears in lists of leaked passwords.',
  passwordRepeated: () => 'Do not repeat a single character.',
  passwordHasEmail: () => 'Do not use your email address in your password.',
};

/** A password problem's English words (the admin API, SCIM, the log). */
export function englishProblem(p: PasswordProblem): string {
  return ENGLISH[p.code]?.(p.params ?? {}) ?? p.code;
}

export function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON2);
}

export async function verifyPassword(stored: string | null | undefined, password: string): Promise<boolean> {
  if (!stored) return false;
  try {
    return await verify(stored, password);
  } catch {
    return false;
  }
}

/**
 * A hash to verify against when the account does not exist, so a wrong email costs the same time
 * as a wrong password and timing does not tell whether an email exists.
 */
export function dummyHash(): Promise<string> {
  return hash('provisio-no-such-account', ARGON2);
}
