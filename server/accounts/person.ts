// A person as the account half sees them: the user, their credentials, their tenant's name and
// settings, and the pure rules read off them (sign-in email, language, activation mode asked for,
// privacy policy owed). Pure; test/unit/person.test.ts.
import { invalidValue } from '../errors';
import { isObject, JsonObject } from '../scim/normalize';
import { PROVISIO_USER_URN } from '../scim/urns';
import type { PersonRow } from '../store/accounts-repo';
import type { Db } from '../store/scope';

export type Language = 'en' | 'fr';
export type ActivationMode = 'activationEmail' | 'generatedCredentials';
export const ACTIVATION_MODES: ActivationMode[] = ['activationEmail', 'generatedCredentials'];

export interface Person {
  tenantId: string;
  userId: string;
  userName: string;
  /** The sign-in email: the userName when it is an email address. */
  email?: string;
  active: boolean;
  activationState: 'pending' | 'active';
  primaryAdmin: boolean;
  data: JsonObject;
  passwordHash: string | null;
  mustChangePassword: boolean;
  /** The sign-in email this person proved they receive. */
  verifiedEmail: string | null;
  acceptedPolicyVersion: string | null;
  /** Which sub-account's credential set the current sign-in email; null: a tenant-wide one. */
  emailSetBySubAccount: string | null;
  tenant: { name: string; settings: Record<string, unknown> };
  /** The privacy policy version this person must have accepted: the tenant's setting, else the server's. */
  policyVersion: string;
}

/** A user's sign-in email: its userName when that is an email address (one login email per person, issue 4). */
export function signInEmail(userName: unknown): string | undefined {
  return typeof userName === 'string' && userName.includes('@') ? userName.trim().toLowerCase() : undefined;
}

/**
 * The language a person or their tenant stated: preferredLanguage, else locale, else the tenant's
 * setting; French or English ("fr-CA", "fr_FR" and "FR" are French). Undefined when none says.
 */
export function statedLanguage(data: JsonObject | undefined, tenantSettings: Record<string, unknown> | undefined): Language | undefined {
  for (const v of [data?.preferredLanguage, data?.locale, tenantSettings?.language]) {
    if (typeof v === 'string') {
      const l = v.trim().toLowerCase().slice(0, 2);
      if (l === 'fr' || l === 'en') return l;
    }
  }
  return undefined;
}

/** The language of a person's emails: the one stated (statedLanguage), else English. */
export function languageOf(data: JsonObject, tenantSettings: Record<string, unknown>): Language {
  return statedLanguage(data, tenantSettings) ?? 'en';
}

/** The writeOnly `activationMode` of a create request, in either of the forms SCIM clients send. */
export function requestedMode(body: unknown): ActivationMode | undefined {
  if (!isObject(body)) return undefined;
  const ext = body[PROVISIO_USER_URN];
  let value: unknown = isObject(ext) ? ext.activationMode : undefined;
  for (const [k, v] of Object.entries(body)) if (k.toLowerCase() === `${PROVISIO_USER_URN}:activationMode`.toLowerCase()) value = v;
  if (value === undefined || value === null) return undefined;
  const mode = ACTIVATION_MODES.find((m) => typeof value === 'string' && m.toLowerCase() === value.toLowerCase());
  if (!mode) throw invalidValue(`${PROVISIO_USER_URN}:activationMode must be one of ${ACTIVATION_MODES.join(', ')}`);
  return mode;
}

export function toPerson(tenantId: string, r: PersonRow, serverPolicyVersion: string): Person {
  const settings = r.tenant_settings ?? {};
  return {
    tenantId,
    userId: r.id,
    userName: r.user_name,
    email: signInEmail(r.user_name),
    active: r.active,
    activationState: r.activation_state,
    primaryAdmin: r.is_primary_admin,
    data: r.data as JsonObject,
    passwordHash: r.password_hash ?? null,
    mustChangePassword: r.must_change === true,
    verifiedEmail: r.verified_email,
    acceptedPolicyVersion: r.privacy_policy_version,
    emailSetBySubAccount: r.email_set_by_sub_account,
    tenant: { name: r.tenant_name, settings },
    policyVersion: typeof settings.privacyPolicyVersion === 'string' ? settings.privacyPolicyVersion : serverPolicyVersion,
  };
}

/** What a person sees where a password was refused because their organisation signs them in. */
export const SSO_REQUIRED_MESSAGE = "Your organisation signs you in with its identity provider: you have no password here. Sign in with your email at the sign-in page and you will be sent to your organisation's sign-in.";

/**
 * requireSso (issue 9, point 8): whether a person may not set or use a local password because
 * their organisation signs them in. One rule, kept by the SSO connections (sso/policy.ts); every
 * password path of the account half asks it. Runs in `trx` when given.
 */
export interface PasswordBar {
  /** `requiredDomains`: the tenant's domains that require SSO, when the caller holds them (a create). */
  passwordBarred(tenantId: string, person: { email?: string; primaryAdmin: boolean }, trx?: Db, requiredDomains?: ReadonlySet<string>): Promise<boolean>;
}

/** A person as the subject of a security notice (accounts/account-mail.ts), going to `fallback` without a notification email. */
export const noticeSubject = (p: Person, fallback: string | undefined = p.email) => ({
  tenantId: p.tenantId,
  userId: p.userId,
  data: p.data,
  tenantName: p.tenant.name,
  tenantSettings: p.tenant.settings,
  fallback,
});

/** Whether this person still has to accept the current privacy policy. */
export const needsPrivacy = (p: Person) => p.acceptedPolicyVersion !== p.policyVersion;

/**
 * The `password` an IdP pushed with a write, in whichever form it came: a create or replace body's
 * `password`, a PATCH operation on the `password` path, or a path-less PATCH value carrying it
 * (Okta's password sync). Undefined when there is none. Never logged or stored as sent.
 */
export function pushedPassword(body: unknown): string | undefined {
  if (!isObject(body)) return undefined;
  const key = (o: JsonObject, name: string) => Object.keys(o).find((k) => k.toLowerCase() === name);
  const opsKey = key(body, 'operations');
  if (opsKey) {
    let found: string | undefined;
    for (const op of Array.isArray(body[opsKey]) ? (body[opsKey] as unknown[]) : []) {
      if (!isObject(op)) continue;
      const kind = String(op[key(op, 'op') ?? 'op'] ?? '').toLowerCase();
      if (kind !== 'add' && kind !== 'replace') continue;
      const path = op[key(op, 'path') ?? 'path'];
      const value = op[key(op, 'value') ?? 'value'];
      if (typeof path === 'string' && path.trim().toLowerCase() === 'password' && typeof value === 'string') found = value;
      else if (path === undefined && isObject(value) && typeof value[key(value, 'password') ?? 'password'] === 'string') found = value[key(value, 'password')!] as string;
    }
    return found;
  }
  const k = key(body, 'password');
  return k && typeof body[k] === 'string' && body[k] !== '' ? (body[k] as string) : undefined;
}

/** What a user's extension says about where generated credentials go. */
export function credentialsEmailOf(data: JsonObject): string | undefined {
  const ext = isObject(data[PROVISIO_USER_URN]) ? (data[PROVISIO_USER_URN] as JsonObject) : {};
  return typeof ext.credentialsEmail === 'string' && ext.credentialsEmail ? ext.credentialsEmail : undefined;
}
