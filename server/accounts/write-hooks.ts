// What a write to a user causes, on every path (SCIM /Users, /Bulk, tenant creation, the admin
// API): registered on the User kind's hooks (resources/kinds.ts) and run in the write's own
// transaction, so the effects commit or roll back with it (issue 5):
// - a new user gets an activation email (pending), or generated credentials sent to the
//   credentials email (active, password to change at first sign-in);
// - deactivation (`active: false`, Okta's and Entra's "disable") ends every session at once and
//   kills pending links;
// - a sign-in email change kills every link sent to the old address; a pending person gets a new
//   activation email, an active one a link to confirm the new address;
// - which credential set the sign-in email is recorded, so a later link proves it only while that
//   credential still has authority over the person (resources/authority.ts, point 2).
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { invalidValue } from '../errors';
import type { Scope } from '../resources/actor';
import type { KindHooks, WriteContext } from '../resources/kinds';
import * as accountsRepo from '../store/accounts-repo';
import { saveCredentials } from '../store/credentials-repo';
import type { ResourceRepo, ResourceRow } from '../store/resource-repo';
import { endSessions } from '../store/sessions-repo';
import type { AccountMail } from './account-mail';
import { revokeLinks } from './links';
import { hashPassword, PasswordPolicy } from './passwords';
import { ActivationMode, credentialsEmailOf, languageOf, PasswordBar, requestedMode, signInEmail } from './person';

export interface AccountHooksDeps {
  clock: () => Date;
  logger: Logger;
  mail: AccountMail;
  passwords: PasswordPolicy;
  /** The users' repository: server-owned columns and the version bump in one place. */
  users: ResourceRepo;
  /** requireSso: people whose organisation signs them in get no generated password. */
  bar: PasswordBar;
}

export class AccountHooks implements KindHooks {
  constructor(private readonly deps: AccountHooksDeps) {}

  async written(trx: Knex.Transaction, scope: Scope, before: ResourceRow | undefined, after: ResourceRow, body: unknown, context?: WriteContext): Promise<ResourceRow | void> {
    if (!before) return this.created(trx, scope, after, body, context);
    const tenantId = scope.tenantId;
    const userIds = [after.id];
    if (before.active !== false && after.active === false) {
      // test/api/front-door.test.ts, "deactivation ends sessions"
      await endSessions(trx, tenantId, userIds);
      await revokeLinks(trx, tenantId, userIds);
    }
    const oldEmail = signInEmail(before.data.userName);
    const newEmail = signInEmail(after.data.userName);
    if (oldEmail === newEmail) return;
    // An email change never lets the new address take over (issue 5): every pending link dies (it
    // was sent to the old address), and the new address must be proven before a password signs in
    // with it. test/api/front-door.test.ts
    await revokeLinks(trx, tenantId, userIds);
    const now = this.deps.clock();
    await saveCredentials(trx, tenantId, after.id, { email_set_by_sub_account: scope.actor.subAccountId ?? null }, now);
    if (!newEmail) return;
    const tenant = await this.tenant(trx, tenantId);
    const recipient = { tenantId, userId: after.id, to: newEmail, language: languageOf(after.data, tenant.settings), tenantName: tenant.name };
    if (after.activation_state === 'pending') await this.deps.mail.activation(trx, recipient, now);
    else if (after.active !== false) await this.deps.mail.verifyEmail(trx, recipient, now);
  }

  private async tenant(trx: Knex.Transaction, tenantId: string): Promise<{ name: string; settings: Record<string, unknown> }> {
    const t = await accountsRepo.tenantSettings(trx, tenantId);
    return { name: t?.name ?? '', settings: t?.settings ?? {} };
  }

  private async created(trx: Knex.Transaction, scope: Scope, row: ResourceRow, body: unknown, context?: WriteContext): Promise<ResourceRow> {
    const tenantId = scope.tenantId;
    const tenant = await this.tenant(trx, tenantId);
    const settings = tenant.settings;
    const mode = requestedMode(body) ?? (settings.activationMode as ActivationMode | undefined) ?? 'activationEmail';
    const email = signInEmail(row.data.userName);
    const language = languageOf(row.data, settings);
    const now = this.deps.clock();
    const setBy = scope.actor.subAccountId ?? null;
    if (mode === 'activationEmail') {
      if (setBy) await saveCredentials(trx, tenantId, row.id, { email_set_by_sub_account: setBy }, now);
      if (!email) {
        this.deps.logger.info({ tenant: tenantId, user: row.id }, 'user created pending without a sign-in email: no activation email sent');
        return row;
      }
      // "Activate later" (the admin API): pending, and the email waits for POST /users/{id}/activation.
      if (context?.sendActivationEmail === false) return row;
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
    if (await this.deps.bar.passwordBarred(tenantId, { email, primaryAdmin: row.is_primary_admin === true }, trx)) {
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
