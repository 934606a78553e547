// What a write to a user causes, on every path (SCIM /Users, /Bulk, tenant creation, the admin
// API): registered on the User kind's hooks (resources/kinds.ts) and run in the write's own
// transaction, so the effects commit or roll back with it (issue 5):
// - a new user gets an activation email (pending) — none when SSO is required for their domain
//   (they activate at their first IdP sign-in) —, or generated credentials sent to the
//   credentials email (active, password to change at first sign-in);
// - deactivation (`active: false`, Okta's and Entra's "disable") ends every session at once and
//   kills pending links;
// - a sign-in email change kills every link sent to the old address; a pending person gets a new
//   activation email, an active one a link to confirm the new address;
// - which credential set the sign-in email is recorded, so a later link proves it only while that
//   credential still has authority over the person (resources/authority.ts, point 2);
// - security notices (deactivation, a changed sign-in email, a password the IdP pushed) go to the
//   notification email, else the sign-in email (the old one for an email change) — issue 10;
// - with the tenant's passwordSync setting, a password the IdP pushes becomes the person's.
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { invalidValue } from '../errors';
import type { Scope } from '../resources/actor';
import type { KindHooks, WriteContext } from '../resources/kinds';
import { assertMayChangeUser } from '../resources/authority';
import type { AuditRepo } from '../store/audit-repo';
import * as accountsRepo from '../store/accounts-repo';
import { saveCredentials } from '../store/credentials-repo';
import type { ResourceRepo, ResourceRow } from '../store/resource-repo';
import { endSessions } from '../store/sessions-repo';
import type { TenantConfig, TenantConfigCache } from '../store/tenant-config';
import type { AccountMail, NoticeSubject } from './account-mail';
import { revokeLinks } from './links';
import { hashPassword, PasswordPolicy, verifyPassword } from './passwords';
import { ActivationMode, credentialsEmailOf, languageOf, PasswordBar, pushedPassword, requestedMode, signInEmail } from './person';

export interface AccountHooksDeps {
  clock: () => Date;
  logger: Logger;
  mail: AccountMail;
  passwords: PasswordPolicy;
  /** The users' repository: server-owned columns and the version bump in one place. */
  users: ResourceRepo;
  /** requireSso: people whose organisation signs them in get no generated password. */
  bar: PasswordBar;
  audit: AuditRepo;
  /** The tenant's name, settings and SSO domains per instance, trusted for a create's own version. */
  tenantConfig: TenantConfigCache;
}

export class AccountHooks implements KindHooks {
  constructor(private readonly deps: AccountHooksDeps) {}

  async written(trx: Knex.Transaction, scope: Scope, before: ResourceRow | undefined, after: ResourceRow, body: unknown, context?: WriteContext): Promise<ResourceRow | void> {
    if (!before) return this.created(trx, scope, after, body, context);
    const tenantId = scope.tenantId;
    const userIds = [after.id];
    const now = this.deps.clock();
    // The tenant's name and settings, read once and only when an email or a setting needs them.
    let tenant: Awaited<ReturnType<AccountHooks['tenant']>> | undefined;
    const tenantOnce = async () => (tenant ??= await this.tenant(trx, tenantId));
    const subject = async (fallback: string | undefined) => {
      const t = await tenantOnce();
      return { tenantId, userId: after.id, data: after.data, tenantName: t.name, tenantSettings: t.settings, fallback };
    };
    const oldEmail = signInEmail(before.data.userName);
    const newEmail = signInEmail(after.data.userName);
    if (before.active !== false && after.active === false) {
      // test/api/front-door.test.ts, "deactivation ends sessions"
      await endSessions(trx, tenantId, userIds);
      await revokeLinks(trx, tenantId, userIds);
      await this.deps.mail.notice(trx, await subject(newEmail), { template: 'account-deactivated' }, now);
    }
    const pushed = pushedPassword(body);
    if (pushed !== undefined && (await tenantOnce()).settings.passwordSync === true) {
      // A password counts as a change to the person, even when nothing else changed.
      await assertMayChangeUser(trx, tenantId, scope.actor, before, true);
      await this.syncPassword(trx, scope, after, pushed, now, await subject(newEmail));
    }
    if (oldEmail === newEmail) return;
    // An email change never lets the new address take over (issue 5): every pending link dies (it
    // was sent to the old address), and the new address must be proven before a password signs in
    // with it. test/api/front-door.test.ts
    await revokeLinks(trx, tenantId, userIds);
    await saveCredentials(trx, tenantId, after.id, { email_set_by_sub_account: scope.actor.subAccountId ?? null }, now);
    // The old address (or the notification email) learns of the change: it may not be theirs.
    await this.deps.mail.notice(trx, await subject(oldEmail), { template: 'email-changed', newEmail: String(after.data.userName) }, now);
    if (!newEmail) return;
    const t = await tenantOnce();
    const recipient = { tenantId, userId: after.id, to: newEmail, language: languageOf(after.data, t.settings), tenantName: t.name };
    if (after.activation_state === 'pending') {
      // As at creation: no activation link for an address whose organisation signs them in.
      if (await this.deps.bar.passwordBarred(tenantId, { email: newEmail, primaryAdmin: after.is_primary_admin === true }, trx)) {
        this.deps.logger.info({ tenant: tenantId, user: after.id }, 'sign-in email changed while pending: SSO is required for the new domain, no activation email sent');
      } else await this.deps.mail.activation(trx, recipient, now);
    } else if (after.active !== false) await this.deps.mail.verifyEmail(trx, recipient, now);
  }

  /**
   * The tenant's `passwordSync` setting (issue 10): a password the IdP pushes (Okta's password
   * sync) becomes the person's, after the same policy as every password (400 invalidValue on the
   * `password` attribute otherwise, and the write fails). Hashed, never stored as sent, never
   * logged. The same password again changes nothing; a new one ends their sessions and sends a
   * notice. Someone whose organisation signs them in (requireSso) has no password: ignored.
   */
  private async syncPassword(trx: Knex.Transaction, scope: Scope, row: ResourceRow, password: string, now: Date, subject: NoticeSubject): Promise<boolean> {
    const tenantId = scope.tenantId;
    const email = signInEmail(row.data.userName);
    if (await this.deps.bar.passwordBarred(tenantId, { email, primaryAdmin: row.is_primary_admin === true }, trx)) {
      this.deps.logger.info({ tenant: tenantId, user: row.id }, 'pushed password ignored: SSO is required for their domain');
      return false;
    }
    const problem = this.deps.passwords.problem(password, email);
    if (problem) throw invalidValue(`password: ${problem}`);
    const current = await accountsRepo.person(trx, tenantId, row.id);
    if (current?.password_hash && (await verifyPassword(current.password_hash, password))) return true;
    await saveCredentials(trx, tenantId, row.id, { password_hash: await hashPassword(password), must_change: false, password_changed_at: now, ...(email && !current?.verified_email ? { verified_email: email } : {}) }, now);
    await this.deps.audit.record(trx, tenantId, now, { actorType: scope.actor.type, actorId: scope.actor.id, action: 'user.password.sync', targetType: 'User', targetId: row.id, changes: {} });
    if (current?.password_hash) {
      await endSessions(trx, tenantId, [row.id]);
      await this.deps.mail.notice(trx, subject, { template: 'password-changed' }, now);
    }
    return true;
  }

  private async tenant(trx: Knex.Transaction, tenantId: string): Promise<{ name: string; settings: Record<string, unknown> }> {
    const t = await accountsRepo.tenantSettings(trx, tenantId);
    return { name: t?.name ?? '', settings: t?.settings ?? {} };
  }

  private async created(trx: Knex.Transaction, scope: Scope, row: ResourceRow, body: unknown, context?: WriteContext): Promise<ResourceRow> {
    const tenantId = scope.tenantId;
    // The version the INSERT itself read (ResourceRepo.insert): the cached name, settings and SSO
    // domains of that version are what reading them now would return, without the two reads
    // (docs/performance.md, "Fewer round trips per create"). test/api/tenant-config-cache.test.ts
    const config: TenantConfig | undefined = await this.deps.tenantConfig.get(trx, tenantId, row.__config_version);
    const tenant = { name: config?.name ?? '', settings: (config?.settings ?? {}) as Record<string, unknown> };
    const ssoDomains = config?.ssoRequiredDomains;
    const settings = tenant.settings;
    const mode = requestedMode(body) ?? (settings.activationMode as ActivationMode | undefined) ?? 'activationEmail';
    const email = signInEmail(row.data.userName);
    const language = languageOf(row.data, settings);
    const now = this.deps.clock();
    const setBy = scope.actor.subAccountId ?? null;
    // Password sync (the tenant's passwordSync setting): the IdP's password makes the person
    // active at once; they still accept the privacy policy at their first sign-in.
    const pushed = pushedPassword(body);
    if (pushed !== undefined && settings.passwordSync === true) {
      const subject = { tenantId, userId: row.id, data: row.data, tenantName: tenant.name, tenantSettings: settings, fallback: email };
      if (await this.syncPassword(trx, scope, row, pushed, now, subject)) {
        if (setBy) await saveCredentials(trx, tenantId, row.id, { email_set_by_sub_account: setBy }, now);
        return (await this.deps.users.update(trx, tenantId, row.id, { activation_state: 'active' }, now)) ?? row;
      }
    }
    if (mode === 'activationEmail') {
      if (setBy) await saveCredentials(trx, tenantId, row.id, { email_set_by_sub_account: setBy }, now);
      if (!email) {
        this.deps.logger.info({ tenant: tenantId, user: row.id }, 'user created pending without a sign-in email: no activation email sent');
        return row;
      }
      // "Activate later" (the admin API): pending, and the email waits for POST /users/{id}/activation.
      if (context?.sendActivationEmail === false) return row;
      // Someone whose organisation signs them in (requireSso) could not use the link: the
      // activation page refuses them a password (self-service.ts activate → ssoRequired). They
      // activate at their first sign-in through the IdP, after the privacy policy. An IdP syncing
      // thousands of them must not leave the worker mailing useless links (issue 12).
      // test/api/sso-policy.test.ts, "no activation email"
      if (await this.deps.bar.passwordBarred(tenantId, { email, primaryAdmin: row.is_primary_admin === true }, trx, ssoDomains)) {
        this.deps.logger.info({ tenant: tenantId, user: row.id }, 'user created pending: SSO is required for their domain, no activation email sent');
        return row;
      }
      await this.deps.mail.activation(trx, { tenantId, userId: row.id, to: email, language, tenantName: tenant.name }, now, true);
      return row;
    }
    // Active with generated credentials, sent to the credentials email: the user's own setting,
    // else the tenant's, else the primary admin's sign-in email. The person changes the password
    // at the first sign-in.
    const to =
      credentialsEmailOf(row.data) ||
      (typeof settings.credentialsEmail === 'string' && settings.credentialsEmail) ||
      signInEmail(await accountsRepo.primaryAdminUserName(trx, tenantId));
    if (!to) throw invalidValue('generatedCredentials needs a credentials email: set credentialsEmail on the user or in the tenant settings');
    if (await this.deps.bar.passwordBarred(tenantId, { email, primaryAdmin: row.is_primary_admin === true }, trx, ssoDomains)) {
      this.deps.logger.info({ tenant: tenantId, user: row.id }, 'user created pending: SSO is required for their domain, no password generated or mailed');
      if (setBy) await saveCredentials(trx, tenantId, row.id, { email_set_by_sub_account: setBy }, now);
      return row;
    }
    const password = context?.generatedPassword ?? this.deps.passwords.generate();
    const activated = (await this.deps.users.update(trx, tenantId, row.id, { activation_state: 'active' }, now)) ?? row;
    await saveCredentials(trx, tenantId, row.id, { password_hash: await hashPassword(password), must_change: true, verified_email: email ?? null, email_set_by_sub_account: setBy }, now);
    await this.deps.mail.credentials(trx, { tenantId, userId: row.id, to, language, tenantName: tenant.name }, String(row.data.userName), password);
    return activated;
  }
}
