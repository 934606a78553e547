// Access to accounts: what happens when users are created and changed (activation email or
// generated credentials, links that die on an email change, sessions that end on deactivation),
// and the operations behind the sign-in pages and the admin API: activation, password checks,
// resets, email verification, privacy acceptance and force logout. Every write runs in the
// tenant's transaction (row-level security), and the emails it causes go to the outbox in that
// same transaction (issue 5, "Email"), so a failed request sends nothing.
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { conflict, forbidden, invalidValue, notFound } from '../errors';
import { isObject, JsonObject } from '../scim/normalize';
import type { ResourceRow } from '../store/resource-repo';
import { asOwner, inTenant, Tx } from '../store/scope';
import * as tenancy from '../store/tenancy-repo';
import type { Actor, Scope, WriteHooks } from '../resources/service';
import { PRIMARY_ADMIN_DETAIL } from '../resources/guards';
import { PROVISIO_USER_URN } from '../scim/urns';
import { consumeLink, issueLink, LinkPurpose, LinkRow, newLink, peekLink, revokeLinks, supersedeLinks } from './links';
import { dummyHash, hashPassword, PasswordPolicy, verifyPassword } from './passwords';
import { endSessions } from './session-store';
import type { AuditRepo } from '../store/audit-repo';
import { SSO_REQUIRED_MESSAGE, type SsoPolicy } from '../sso/policy'; // requireSso (issue 9 point 8)

export type Language = 'en' | 'fr';
export type ActivationMode = 'activationEmail' | 'generatedCredentials';
export const ACTIVATION_MODES: ActivationMode[] = ['activationEmail', 'generatedCredentials'];

/** The part of the outbox this module uses (mail/outbox.ts). */
export interface MailQueue {
  /** `along`: a statement written together with the email (the link it carries). */
  enqueue(
    trx: Knex.Transaction,
    msg: { tenantId: string; template: string; to: string; language: Language; params: Record<string, string> },
    along?: { sql: string; bindings: Knex.Value[] },
  ): Promise<string>;
}

export interface AccessDeps {
  knex: Knex;
  clock: () => Date;
  logger: Logger;
  audit: AuditRepo;
  mail: MailQueue;
  passwords: PasswordPolicy;
  publicUrl: string;
  activationLinkDays: number;
  privacyPolicyVersion: string;
  ssoPolicy: Pick<SsoPolicy, 'passwordBarred'>; // requireSso (issue 9 point 8)
}

const DAY_MS = 86_400_000;
const RESET_LINK_MS = 60 * 60 * 1000;
const VERIFY_LINK_MS = 7 * DAY_MS;

/** A user's sign-in email: its userName when that is an email address (issue 4, one login email). */
export function signInEmail(userName: unknown): string | undefined {
  return typeof userName === 'string' && userName.includes('@') ? userName.trim().toLowerCase() : undefined;
}

function languageOf(data: JsonObject, tenantSettings: Record<string, unknown>): Language {
  for (const v of [data.preferredLanguage, data.locale, tenantSettings.language]) {
    if (typeof v === 'string') {
      const l = v.trim().toLowerCase().slice(0, 2);
      if (l === 'fr' || l === 'en') return l;
    }
  }
  return 'en';
}

/** The writeOnly `activationMode` of a create request, in either of the forms SCIM clients send. */
function requestedMode(body: unknown): ActivationMode | undefined {
  if (!isObject(body)) return undefined;
  const ext = body[PROVISIO_USER_URN];
  let value: unknown = isObject(ext) ? ext.activationMode : undefined;
  for (const [k, v] of Object.entries(body)) if (k.toLowerCase() === `${PROVISIO_USER_URN}:activationMode`.toLowerCase()) value = v;
  if (value === undefined || value === null) return undefined;
  const mode = ACTIVATION_MODES.find((m) => typeof value === 'string' && m.toLowerCase() === value.toLowerCase());
  if (!mode) throw invalidValue(`${PROVISIO_USER_URN}:activationMode must be one of ${ACTIVATION_MODES.join(', ')}`);
  return mode;
}

/** Which of these users a restricted credential sees, checked in the operation's transaction. */
export type Visibility = (trx: Tx, ids: string[]) => Promise<Set<string>>;

export interface Credentials {
  password_hash: string | null;
  must_change: boolean;
  verified_email: string | null;
  privacy_policy_version: string | null;
}

export interface UserFacts {
  tenantId: string;
  userId: string;
  userName: string;
  email?: string;
  active: boolean;
  activationState: 'pending' | 'active';
  primaryAdmin: boolean;
  data: JsonObject;
  credentials?: Credentials;
  /** The tenant's name and settings (read with the user: emails need them). */
  tenant: TenantFacts;
  /** The privacy policy version this person must have accepted: the tenant's setting, else the server's. */
  policyVersion: string;
}

export interface TenantFacts {
  name: string;
  settings: Record<string, unknown>;
}

export class AccessService implements WriteHooks {
  private dummy?: Promise<string>;

  constructor(private readonly deps: AccessDeps) {}

  private link(path: string, token: string) {
    return `${this.deps.publicUrl}${path}?token=${token}`;
  }

  private get loginUrl() {
    return `${this.deps.publicUrl}/login`;
  }

  /** The tenant's name and settings, in one query (a user write's email needs both). */
  private async tenant(trx: Tx, tenantId: string): Promise<TenantFacts> {
    const r = (await trx.raw('SELECT name, settings FROM tenants WHERE id = ?', [tenantId])).rows[0];
    return { name: r?.name ?? '', settings: r?.settings ?? {} };
  }

  // ---- hooks on user writes (resources/service.ts calls them in the write's transaction) ----

  async userWritten(trx: Knex.Transaction, scope: Scope, before: ResourceRow | undefined, after: ResourceRow, body: unknown): Promise<void> {
    const tenantId = scope.tenantId;
    if (!before) return this.userCreated(trx, tenantId, after, body);
    const userIds = [after.id];
    const wasActive = before.active !== false;
    const isActive = after.active !== false;
    if (wasActive && !isActive) {
      // Deactivation (`active: false`, Okta's and Entra's "disable") ends every session at once
      // and kills pending links. test/api/front-door.test.ts
      await endSessions(trx, tenantId, userIds);
      await revokeLinks(trx, tenantId, userIds);
    }
    const oldEmail = signInEmail(before.data.userName);
    const newEmail = signInEmail(after.data.userName);
    if (oldEmail !== newEmail) {
      // An email change never lets the new address take over (issue 5): every pending link dies
      // (it was sent to the old address), and the new address must be proven before a password
      // signs in with it. test/api/front-door.test.ts
      await revokeLinks(trx, tenantId, userIds);
      if (!newEmail) return;
      const tenant = await this.tenant(trx, tenantId);
      const language = languageOf(after.data, tenant.settings);
      const now = this.deps.clock();
      if (after.activation_state === 'pending') {
        await this.queueActivation(trx, tenantId, after.id, newEmail, language, now, tenant.name);
      } else if (isActive) {
        const token = await issueLink(trx, tenantId, after.id, 'verify-email', newEmail, now, VERIFY_LINK_MS);
        await this.deps.mail.enqueue(trx, {
          tenantId,
          template: 'verify-email',
          to: newEmail,
          language,
          params: { tenantName: tenant.name, link: this.link('/verify-email', token), expiresAt: new Date(now.getTime() + VERIFY_LINK_MS).toISOString() },
        });
      }
    }
  }

  private async userCreated(trx: Tx, tenantId: string, row: ResourceRow, body: unknown): Promise<void> {
    const tenant = await this.tenant(trx, tenantId);
    const settings = tenant.settings;
    const mode = requestedMode(body) ?? (settings.activationMode as ActivationMode | undefined) ?? 'activationEmail';
    const email = signInEmail(row.data.userName);
    const language = languageOf(row.data, settings);
    const now = this.deps.clock();
    if (mode === 'activationEmail') {
      if (!email) {
        this.deps.logger.info({ tenant: tenantId, user: row.id }, 'user created pending without a sign-in email: no activation email sent');
        return;
      }
      await this.queueActivation(trx, tenantId, row.id, email, language, now, tenant.name, true);
      return;
    }
    // Active with generated credentials, sent to the credentials email: the user's own setting,
    // else the tenant's, else the primary admin's sign-in email (product.md). The person changes
    // the password at the first sign-in.
    const ext = isObject(row.data[PROVISIO_USER_URN]) ? (row.data[PROVISIO_USER_URN] as JsonObject) : {};
    const to =
      (typeof ext.credentialsEmail === 'string' && ext.credentialsEmail) ||
      (typeof settings.credentialsEmail === 'string' && settings.credentialsEmail) ||
      (await this.primaryAdminEmail(trx, tenantId));
    if (!to) throw invalidValue('generatedCredentials needs a credentials email: set credentialsEmail on the user or in the tenant settings');
    if (await this.deps.ssoPolicy.passwordBarred(tenantId, { email, primaryAdmin: row.is_primary_admin === true }, trx)) { // requireSso (issue 9 point 8)
      this.deps.logger.info({ tenant: tenantId, user: row.id }, 'user created pending: SSO is required for their domain, no password generated or mailed');
      return;
    }
    const password = this.deps.passwords.generate();
    await trx.raw(`UPDATE users SET activation_state = 'active' WHERE tenant_id = ? AND id = ?`, [tenantId, row.id]);
    row.activation_state = 'active';
    await this.saveCredentials(trx, tenantId, row.id, { password_hash: await hashPassword(password), must_change: true, verified_email: email ?? null }, now);
    await this.deps.mail.enqueue(trx, {
      tenantId,
      template: 'credentials',
      to,
      language,
      params: { tenantName: tenant.name, userName: String(row.data.userName), password, loginUrl: this.loginUrl },
    });
  }

  private async primaryAdminEmail(trx: Tx, tenantId: string): Promise<string | undefined> {
    const r = (await trx.raw('SELECT user_name FROM users WHERE tenant_id = ? AND is_primary_admin', [tenantId])).rows[0];
    return r ? signInEmail(r.user_name) : undefined;
  }

  /** `newUser`: created in this transaction, so there is no older link to kill. */
  private async queueActivation(trx: Tx, tenantId: string, userId: string, email: string, language: Language, now: Date, tenantName: string, newUser = false): Promise<void> {
    const ttl = this.deps.activationLinkDays * DAY_MS;
    if (!newUser) await supersedeLinks(trx, tenantId, userId, 'activation');
    const link = newLink(tenantId, userId, 'activation', email, now, ttl);
    await this.deps.mail.enqueue(
      trx,
      {
        tenantId,
        template: 'activation',
        to: email,
        language,
        params: { tenantName, link: this.link('/activate', link.token), expiresAt: new Date(now.getTime() + ttl).toISOString() },
      },
      link,
    );
  }

  private async saveCredentials(trx: Tx, tenantId: string, userId: string, set: Partial<Credentials> & { password_changed_at?: Date }, now: Date): Promise<void> {
    const cols = Object.keys(set);
    const values = cols.map((c) => (set as Record<string, Knex.Value>)[c]);
    await trx.raw(
      `INSERT INTO user_credentials (tenant_id, user_id, ${cols.join(', ')}, updated_at) VALUES (?, ?, ${cols.map(() => '?').join(', ')}, ?)
       ON CONFLICT (tenant_id, user_id) DO UPDATE SET ${cols.map((c) => `${c} = EXCLUDED.${c}`).join(', ')}, updated_at = EXCLUDED.updated_at`,
      [tenantId, userId, ...values, now],
    );
  }

  // ---- reading people ----

  private async facts(trx: Tx, tenantId: string, userId: string): Promise<UserFacts | undefined> {
    const r = (
      await trx.raw(
        `SELECT u.id, u.user_name, u.active, u.activation_state, u.is_primary_admin, u.data,
                c.password_hash, c.must_change, c.verified_email, c.privacy_policy_version,
                t.name AS tenant_name, t.settings AS tenant_settings
           FROM users u JOIN tenants t ON t.id = u.tenant_id
           LEFT JOIN user_credentials c ON c.tenant_id = u.tenant_id AND c.user_id = u.id
          WHERE u.tenant_id = ? AND u.id = ?`,
        [tenantId, userId],
      )
    ).rows[0];
    if (!r) return undefined;
    return {
      tenantId,
      userId: r.id,
      userName: r.user_name,
      email: signInEmail(r.user_name),
      active: r.active,
      activationState: r.activation_state,
      primaryAdmin: r.is_primary_admin,
      data: r.data,
      tenant: { name: r.tenant_name, settings: r.tenant_settings ?? {} },
      policyVersion: (r.tenant_settings?.privacyPolicyVersion as string | undefined) ?? this.deps.privacyPolicyVersion,
      credentials: r.password_hash !== undefined ? { password_hash: r.password_hash, must_change: r.must_change ?? false, verified_email: r.verified_email, privacy_policy_version: r.privacy_policy_version } : undefined,
    };
  }

  /** The person behind a sign-in email, across tenants (sign-in emails are unique across tenants). */
  async findByEmail(email: string): Promise<{ tenantId: string; userId: string } | undefined> {
    const e = email.trim().toLowerCase();
    if (!e.includes('@') || e.length > 320) return undefined;
    const r = await asOwner(this.deps.knex, async (trx) => (await trx.raw(`SELECT tenant_id, id FROM users WHERE user_name_ci = ? AND strpos(user_name_ci, '@') > 0`, [e])).rows[0]);
    return r ? { tenantId: r.tenant_id, userId: r.id } : undefined;
  }

  async user(tenantId: string, userId: string): Promise<UserFacts | undefined> {
    return inTenant(this.deps.knex, tenantId, (trx) => this.facts(trx, tenantId, userId));
  }

  /** Whether this person may be signed in now: active, not stopped by deactivated sub-accounts. */
  async mayEnter(tenantId: string, userId: string): Promise<UserFacts | undefined> {
    return inTenant(this.deps.knex, tenantId, async (trx) => {
      const f = await this.facts(trx, tenantId, userId);
      if (!f || !f.active) return undefined;
      if (await tenancy.blockedBySubAccounts(trx, tenantId, userId)) return undefined;
      return f;
    });
  }

  /**
   * Local sign-in: the person if the password is right and the account may sign in with it.
   * Always spends one Argon2 verification, so a missing account answers as slowly as a wrong
   * password. The reason is for the log only; the page says the same thing in every case.
   */
  async checkPassword(email: string, password: string): Promise<{ ok: true; user: UserFacts } | { ok: false; reason: string }> {
    const found = await this.findByEmail(email);
    const f = found ? await this.user(found.tenantId, found.userId) : undefined;
    const stored = f?.credentials?.password_hash;
    const good = await verifyPassword(stored ?? (await (this.dummy ??= dummyHash())), password);
    if (!f) return { ok: false, reason: 'no such account' };
    if (!stored) return { ok: false, reason: 'no password set' };
    if (!good) return { ok: false, reason: 'wrong password' };
    if (f.activationState !== 'active') return { ok: false, reason: 'pending activation' };
    if (await this.passwordBarred(f)) return { ok: false, reason: 'SSO is required for this email domain' }; // requireSso (issue 9 point 8)
    // A userName changed to a new address signs in with a password only once that address is
    // proven (verify-email link); until then the old proof does not carry over. test/api/front-door.test.ts
    if (f.credentials?.verified_email !== f.email) return { ok: false, reason: 'email not verified' };
    const may = await this.mayEnter(f.tenantId, f.userId);
    if (!may) return { ok: false, reason: f.active ? 'blocked by deactivated sub-accounts' : 'inactive' };
    return { ok: true, user: may };
  }

  /** Whether this person may not set or use a password (sso/policy.ts). */ // requireSso (issue 9 point 8)
  passwordBarred(f: UserFacts, trx?: Tx): Promise<boolean> {
    return this.deps.ssoPolicy.passwordBarred(f.tenantId, f, trx);
  }

  /** Whether this person still has to accept the current privacy policy. */
  needsPrivacy(f: UserFacts): boolean {
    return f.credentials?.privacy_policy_version !== f.policyVersion;
  }

  // ---- links ----

  async peek(token: string, purpose: LinkPurpose) {
    const link = await peekLink(this.deps.knex, token, purpose, this.deps.clock());
    if (!link) return undefined;
    const f = await this.user(link.tenantId, link.userId);
    // The link was sent to an address the user no longer has: dead (also revoked on change).
    if (!f || f.email !== link.email) return undefined;
    return { link, user: f };
  }

  /**
   * A link that sets a password (activation, reset): checks the link is live and the password
   * acceptable first, hashes outside the transaction, then uses the link and applies the change
   * in one transaction — so a refused password leaves the link usable, and two submissions of
   * one link cannot both succeed (consumeLink is atomic).
   */
  private async withPasswordLink(
    token: string,
    purpose: 'activation' | 'reset',
    password: string,
    dead: string,
    apply: (trx: Tx, link: LinkRow, seen: UserFacts, hash: string, now: Date) => Promise<void>,
    precheck?: () => string | undefined,
  ): Promise<{ ok: true; user: UserFacts } | { ok: false; message: string }> {
    const seen = await this.peek(token, purpose);
    if (!seen) return { ok: false, message: dead };
    const refused = precheck?.() ?? this.deps.passwords.problem(password, seen.user.email);
    if (refused) return { ok: false, message: refused };
    const hash = await hashPassword(password);
    const now = this.deps.clock();
    const { tenantId } = seen.link;
    return inTenant(this.deps.knex, tenantId, async (trx) => {
      const link = await consumeLink(trx, tenantId, token, purpose, now);
      if (!link) return { ok: false as const, message: dead };
      await apply(trx, link, seen.user, hash, now);
      return { ok: true as const, user: (await this.facts(trx, tenantId, link.userId))! };
    });
  }

  /**
   * Activation (POST of the activation page): sets the password, records the privacy policy
   * version and time, marks the email proven and the user active.
   */
  async activate(token: string, password: string, acceptedPrivacy: boolean) {
    const seen = await this.peek(token, 'activation'); // requireSso (issue 9 point 8)
    if (seen && (await this.passwordBarred(seen.user))) return { ok: false as const, message: SSO_REQUIRED_MESSAGE }; // requireSso (issue 9 point 8)
    return this.withPasswordLink(
      token,
      'activation',
      password,
      'This activation link is no longer valid. Ask your administrator for a new one.',
      async (trx, link, user, hash, now) => {
        const { tenantId, userId } = link;
        const version = user.policyVersion;
        await trx.raw(`UPDATE users SET activation_state = 'active', privacy_accepted_at = ?, updated_at = ?, version = version + 1 WHERE tenant_id = ? AND id = ?`, [now, now, tenantId, userId]);
        await this.saveCredentials(trx, tenantId, userId, { password_hash: hash, must_change: false, verified_email: link.email, privacy_policy_version: version, password_changed_at: now }, now);
        await this.deps.audit.record(trx, tenantId, now, { actorType: 'user', actorId: userId, action: 'user.activate', targetType: 'User', targetId: userId, changes: { privacyPolicyVersion: version } });
      },
      () => (acceptedPrivacy ? undefined : 'Please accept the privacy policy to continue.'),
    );
  }

  /** Self-service reset (POST of the reset page): the link proves the address too; every session of the person ends. */
  completeReset(token: string, password: string) {
    return this.withPasswordLink(token, 'reset', password, 'This reset link is no longer valid. Ask for a new one.', async (trx, link, _user, hash, now) => {
      const { tenantId, userId } = link;
      await this.saveCredentials(trx, tenantId, userId, { password_hash: hash, must_change: false, verified_email: link.email, password_changed_at: now }, now);
      await endSessions(trx, tenantId, [userId]);
      await this.deps.audit.record(trx, tenantId, now, { actorType: 'user', actorId: userId, action: 'user.password.reset', targetType: 'User', targetId: userId, changes: {} });
    });
  }

  /** The verify-email link: proves the new sign-in address. */
  async verifyEmail(token: string): Promise<boolean> {
    const seen = await this.peek(token, 'verify-email');
    if (!seen) return false;
    const now = this.deps.clock();
    const { tenantId } = seen.link;
    return inTenant(this.deps.knex, tenantId, async (trx) => {
      const link = await consumeLink(trx, tenantId, token, 'verify-email', now);
      if (!link) return false;
      await this.saveCredentials(trx, tenantId, link.userId, { verified_email: link.email }, now);
      return true;
    });
  }

  /**
   * "Forgot password": a reset link to an active person's address. Returns nothing: the page
   * answers the same whether or not the email exists (issue 5).
   */
  async forgotPassword(email: string): Promise<void> {
    const found = await this.findByEmail(email);
    if (!found) return;
    const { tenantId, userId } = found;
    await inTenant(this.deps.knex, tenantId, async (trx) => {
      const f = await this.facts(trx, tenantId, userId);
      if (!f || !f.active || !f.email || f.activationState !== 'active') return;
      if (await this.passwordBarred(f, trx)) return; // requireSso (issue 9 point 8)
      const now = this.deps.clock();
      const token = await issueLink(trx, tenantId, userId, 'reset', f.email, now, RESET_LINK_MS);
      await this.deps.mail.enqueue(trx, {
        tenantId,
        template: 'password-reset',
        to: f.email,
        language: languageOf(f.data, f.tenant.settings),
        params: { tenantName: f.tenant.name, link: this.link('/reset-password', token), expiresAt: new Date(now.getTime() + RESET_LINK_MS).toISOString() },
      });
    });
  }

  /** A signed-in person changes their password; every other session of theirs ends. */
  async changePassword(tenantId: string, userId: string, current: string | undefined, next: string, keepSid: string): Promise<string | undefined> {
    const f = await this.user(tenantId, userId);
    if (!f) return 'Your account no longer exists.';
    if (await this.passwordBarred(f)) return SSO_REQUIRED_MESSAGE; // requireSso (issue 9 point 8)
    // Forced changes (temporary password) were just proven by signing in; others re-prove it.
    if (!f.credentials?.must_change && !(await verifyPassword(f.credentials?.password_hash, current ?? ''))) return 'Your current password is not right.';
    const problem = this.deps.passwords.problem(next, f.email);
    if (problem) return problem;
    if (await verifyPassword(f.credentials?.password_hash, next)) return 'Choose a password different from the current one.';
    const hash = await hashPassword(next);
    const now = this.deps.clock();
    await inTenant(this.deps.knex, tenantId, async (trx) => {
      await this.saveCredentials(trx, tenantId, userId, { password_hash: hash, must_change: false, password_changed_at: now }, now);
      await endSessions(trx, tenantId, [userId], keepSid);
      await this.deps.audit.record(trx, tenantId, now, { actorType: 'user', actorId: userId, action: 'user.password.change', targetType: 'User', targetId: userId, changes: {} });
    });
    return undefined;
  }

  /** Records acceptance of the current privacy policy (version and time). */
  async acceptPrivacy(tenantId: string, userId: string, method: 'password' | 'oidc', verifiedEmail?: string): Promise<void> {
    const now = this.deps.clock();
    await inTenant(this.deps.knex, tenantId, async (trx) => {
      const f = await this.facts(trx, tenantId, userId);
      if (!f) return;
      const version = f.policyVersion;
      // Someone provisioned pending who signs in through their IdP activates here: the IdP proved
      // the address, and this page records the policy acceptance the activation page would have.
      await trx.raw(`UPDATE users SET activation_state = 'active', privacy_accepted_at = ?, updated_at = ?, version = version + 1 WHERE tenant_id = ? AND id = ?`, [now, now, tenantId, userId]);
      await this.saveCredentials(trx, tenantId, userId, { privacy_policy_version: version, ...(method === 'oidc' && verifiedEmail ? { verified_email: verifiedEmail } : {}) }, now);
      if (method === 'oidc') await revokeLinks(trx, tenantId, [userId], ['activation']);
      await this.deps.audit.record(trx, tenantId, now, { actorType: 'user', actorId: userId, action: 'user.privacy.accept', targetType: 'User', targetId: userId, changes: { privacyPolicyVersion: version } });
    });
  }

  // ---- admin operations (admin API) ----

  /**
   * The user an admin operation is about: 404 when absent or outside what a restricted credential
   * sees (`visible`, a sub-account's subtree), in the operation's own transaction.
   */
  private async find(trx: Tx, tenantId: string, userId: string, visible?: Visibility): Promise<UserFacts> {
    const f = await this.facts(trx, tenantId, userId);
    if (!f || (visible && !(await visible(trx, [f.userId])).has(f.userId))) throw notFound(`User ${userId} not found`);
    return f;
  }

  /** Resends the activation email (a new link; the older one stops working). */
  async resendActivation(tenantId: string, userId: string, actor: Actor, visible?: Visibility): Promise<{ sentTo: string; expiresAt: string }> {
    return inTenant(this.deps.knex, tenantId, async (trx) => {
      const f = await this.find(trx, tenantId, userId, visible);
      if (f.activationState !== 'pending') throw conflict('This user is already active; use reset-password instead');
      if (!f.email) throw invalidValue('This user has no sign-in email (userName is not an email address)');
      const now = this.deps.clock();
      await this.queueActivation(trx, tenantId, userId, f.email, languageOf(f.data, f.tenant.settings), now, f.tenant.name);
      await this.deps.audit.record(trx, tenantId, now, { actorType: actor.type, actorId: actor.id, action: 'user.activation.resend', targetType: 'User', targetId: userId, changes: {} });
      return { sentTo: f.email, expiresAt: new Date(now.getTime() + this.deps.activationLinkDays * DAY_MS).toISOString() };
    });
  }

  /**
   * Admin reset: a temporary password emailed to the person, to be changed at the next sign-in;
   * every session ends and pending reset links die. Never on the primary admin by someone else.
   */
  async adminResetPassword(tenantId: string, userId: string, actor: Actor, visible?: Visibility): Promise<{ sentTo: string }> {
    return inTenant(this.deps.knex, tenantId, async (trx) => {
      const f = await this.find(trx, tenantId, userId, visible);
      if (f.primaryAdmin && !(actor.type === 'user' && actor.id === f.userId)) throw forbidden(PRIMARY_ADMIN_DETAIL);
      if (!f.email) throw invalidValue('This user has no sign-in email (userName is not an email address)');
      if (f.activationState !== 'active') throw conflict('This user has not activated the account yet; resend the activation email instead');
      if (await this.passwordBarred(f, trx)) throw conflict("SSO is required for this user's email domain: they sign in with their organisation's identity provider, so no password can be set"); // requireSso (issue 9 point 8)
      const now = this.deps.clock();
      const password = this.deps.passwords.generate();
      await this.saveCredentials(trx, tenantId, userId, { password_hash: await hashPassword(password), must_change: true, password_changed_at: now }, now);
      await endSessions(trx, tenantId, [userId]);
      await revokeLinks(trx, tenantId, [userId], ['reset']);
      await this.deps.mail.enqueue(trx, {
        tenantId,
        template: 'temporary-password',
        to: f.email,
        language: languageOf(f.data, f.tenant.settings),
        params: { tenantName: f.tenant.name, userName: f.userName, password, loginUrl: this.loginUrl },
      });
      await this.deps.audit.record(trx, tenantId, now, { actorType: actor.type, actorId: actor.id, action: 'user.password.adminReset', targetType: 'User', targetId: userId, changes: {} });
      return { sentTo: f.email };
    });
  }

  /**
   * Force logout of one or many people: all or nothing. Every id must name a user of the tenant
   * (else 404 naming the missing ones) and none may be the primary admin (403) — checked before
   * any session ends. Returns how many sessions ended.
   */
  async forceLogout(tenantId: string, userIds: string[], actor: Actor, visible?: Visibility): Promise<{ sessionsEnded: number }> {
    const ids = [...new Set(userIds.map((i) => i.toLowerCase()))];
    return inTenant(this.deps.knex, tenantId, async (trx) => {
      const rows = (await trx.raw('SELECT id, is_primary_admin FROM users WHERE tenant_id = ? AND id = ANY(?::uuid[])', [tenantId, ids])).rows as { id: string; is_primary_admin: boolean }[];
      const seen = visible ? await visible(trx, rows.map((r) => r.id)) : new Set(rows.map((r) => r.id));
      const missing = ids.filter((id) => !seen.has(id));
      if (missing.length) throw notFound(`No such user: ${missing.join(', ')}`);
      if (rows.some((r) => r.is_primary_admin && !(actor.type === 'user' && actor.id === r.id))) throw forbidden(`${PRIMARY_ADMIN_DETAIL}: nobody can force the primary admin out`);
      const ended = await endSessions(trx, tenantId, ids);
      const now = this.deps.clock();
      for (const id of ids) {
        await this.deps.audit.record(trx, tenantId, now, { actorType: actor.type, actorId: actor.id, action: 'user.forceLogout', targetType: 'User', targetId: id, changes: {} });
      }
      return { sessionsEnded: ended };
    });
  }
}
