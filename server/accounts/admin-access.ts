// What an admin does to people's access (issue 5), for the admin API and the console: resend the
// activation email, reset a password (a temporary one by email), force people out. Each call runs
// in one tenant transaction that first asks who the actor may see (another sub-account's people
// are 404, as if absent) and then the authority rule (resources/authority.ts: the primary admin,
// and sub-account credentials only over people they fully administer: 403).
import { conflict, invalidFields, invalidValue, notFound, onField } from '../errors';
import type { Actor } from '../resources/actor';
import { assertMayChangePeople } from '../resources/authority';
import type { AuditRepo } from '../store/audit-repo';
import { saveCredentials } from '../store/credentials-repo';
import { Db, inTenant } from '../store/scope';
import { endSessions } from '../store/sessions-repo';
import { visibleIds } from '../store/visibility';
import type { AccountMail } from './account-mail';
import { revokeLinks } from './links';
import { hashPassword, PasswordPolicy } from './passwords';
import type { People } from './people';
import { languageOf, noticeSubject, Person } from './person';

export interface AdminAccessDeps {
  people: People;
  mail: AccountMail;
  audit: AuditRepo;
  passwords: PasswordPolicy;
  clock: () => Date;
}

/** The resend refused for someone whose organisation signs them in (resendActivation). */
const SSO_REQUIRED_ACTIVATION = () =>
  onField(
    conflict("SSO is required for this user's email domain: they activate the account by signing in with their organisation's identity provider, so no activation email is sent"),
    'email',
    'ssoRequired',
  );

export class AdminAccess {
  constructor(private readonly deps: AdminAccessDeps) {}

  private get knex() {
    return this.deps.people.knex;
  }

  /** The ids among these that the actor may see: all for a tenant-wide one, its subtree for a bound one. */
  private async visible(trx: Db, tenantId: string, actor: Actor, ids: string[]): Promise<Set<string>> {
    return actor.subAccountId ? visibleIds(trx, 'User', tenantId, actor.subAccountId, ids) : new Set(ids);
  }

  /** The person an admin operation is about: 404 when absent or out of the actor's sight. */
  private async find(trx: Db, tenantId: string, userId: string, actor: Actor): Promise<Person> {
    const p = await this.deps.people.read(trx, tenantId, userId);
    if (!p || !(await this.visible(trx, tenantId, actor, [p.userId])).has(p.userId)) throw notFound(`User ${userId} not found`);
    return p;
  }

  private record(trx: Db, tenantId: string, actor: Actor, action: string, userId: string, at: Date) {
    return this.deps.audit.record(trx, tenantId, at, { actorType: actor.type, actorId: actor.id, action, targetType: 'User', targetId: userId, changes: {} });
  }

  /**
   * Resends the activation email (a new link; the older one stops working). The admin vouches
   * for the address: a link to it proves it from now on (point 2).
   *
   * Not to someone whose organisation signs them in (requireSso): the activation page would
   * refuse them a password, and they activate at their first sign-in through the IdP. The create
   * path sends them nothing for the same reason (write-hooks.ts); both ask the one rule,
   * sso/policy.ts passwordBarred (the primary admin is never barred). 409 with the code
   * `ssoRequired` on `email`, nothing changed. test/api/sso-policy.test.ts, "resending the activation email".
   */
  async resendActivation(tenantId: string, userId: string, actor: Actor): Promise<{ sentTo: string; expiresAt: string }> {
    return inTenant(this.knex, tenantId, async (trx) => {
      const p = await this.find(trx, tenantId, userId, actor);
      await assertMayChangePeople(trx, tenantId, actor, [{ id: p.userId, primaryAdmin: p.primaryAdmin }], 'sent an activation email');
      if (p.activationState !== 'pending') throw conflict('This user is already active; use reset-password instead');
      if (!p.email) throw invalidValue('This user has no sign-in email (userName is not an email address)');
      if (await this.deps.people.passwordBarred(p, trx)) throw SSO_REQUIRED_ACTIVATION();
      const now = this.deps.clock();
      await saveCredentials(trx, tenantId, userId, { email_set_by_sub_account: actor.subAccountId ?? null }, now);
      const sent = await this.deps.mail.activation(trx, { tenantId, userId, to: p.email, language: languageOf(p.data, p.tenant.settings), tenantName: p.tenant.name }, now);
      await this.record(trx, tenantId, actor, 'user.activation.resend', userId, now);
      return { sentTo: p.email, expiresAt: sent.expiresAt };
    });
  }

  /**
   * Admin reset: a temporary password emailed to the person, to be changed at the next sign-in;
   * every session ends and pending reset links die.
   */
  async resetPassword(tenantId: string, userId: string, actor: Actor): Promise<{ sentTo: string }> {
    return inTenant(this.knex, tenantId, async (trx) => {
      const p = await this.find(trx, tenantId, userId, actor);
      await assertMayChangePeople(trx, tenantId, actor, [{ id: p.userId, primaryAdmin: p.primaryAdmin }], 'reset');
      if (!p.email) throw invalidValue('This user has no sign-in email (userName is not an email address)');
      if (p.activationState !== 'active') throw conflict('This user has not activated the account yet; resend the activation email instead');
      if (await this.deps.people.passwordBarred(p, trx)) throw conflict("SSO is required for this user's email domain: they sign in with their organisation's identity provider, so no password can be set");
      const now = this.deps.clock();
      const password = this.deps.passwords.generate();
      await saveCredentials(trx, tenantId, userId, { password_hash: await hashPassword(password), must_change: true, password_changed_at: now }, now);
      await endSessions(trx, tenantId, [userId]);
      await revokeLinks(trx, tenantId, [userId], ['reset']);
      // The temporary password itself goes to the sign-in email; a notification email set apart hears of it too.
      await this.deps.mail.notice(trx, noticeSubject(p, undefined), { template: 'password-changed' }, now);
      await this.deps.mail.temporaryPassword(trx, { tenantId, userId, to: p.email, language: languageOf(p.data, p.tenant.settings), tenantName: p.tenant.name }, p.userName, password);
      await this.record(trx, tenantId, actor, 'user.password.adminReset', userId, now);
      return { sentTo: p.email };
    });
  }

  /**
   * An admin sets a temporary password (the console's "set a temporary password"): it must pass
   * the policy (400 on the `password` field otherwise), the person must change it at the next
   * sign-in, and every session of theirs ends. Never the primary admin by someone else; never
   * someone whose organisation signs them in (requireSso, 409).
   */
  async setTemporaryPassword(tenantId: string, userId: string, actor: Actor, password: unknown): Promise<void> {
    await inTenant(this.knex, tenantId, async (trx) => {
      const p = await this.find(trx, tenantId, userId, actor);
      await assertMayChangePeople(trx, tenantId, actor, [{ id: p.userId, primaryAdmin: p.primaryAdmin }], 'given a password');
      if (p.activationState !== 'active') throw conflict('This user has not activated the account yet; send the activation email instead');
      if (await this.deps.people.passwordBarred(p, trx)) throw conflict("SSO is required for this user's email domain: they sign in with their organisation's identity provider, so no password can be set");
      const problem = typeof password !== 'string' || !password ? 'is required' : this.deps.passwords.problem(password, p.email);
      if (problem) throw invalidFields([{ field: 'password', path: '/password', code: typeof password === 'string' && password ? 'weak' : 'required', detail: problem }]);
      const now = this.deps.clock();
      await saveCredentials(trx, tenantId, userId, { password_hash: await hashPassword(password as string), must_change: true, password_changed_at: now }, now);
      await endSessions(trx, tenantId, [userId]);
      await revokeLinks(trx, tenantId, [userId], ['reset']);
      await this.deps.mail.notice(trx, noticeSubject(p), { template: 'password-changed' }, now);
      await this.record(trx, tenantId, actor, 'user.password.adminSet', userId, now);
    });
  }

  /**
   * Force logout of one or many people: all or nothing. Every id must name a user the actor sees
   * (else 404 naming the missing ones) and may change (else 403) — checked before any session
   * ends. Returns how many sessions ended.
   */
  async forceLogout(tenantId: string, userIds: string[], actor: Actor): Promise<{ sessionsEnded: number }> {
    const ids = [...new Set(userIds.map((i) => i.toLowerCase()))];
    return inTenant(this.knex, tenantId, async (trx) => {
      const found = await this.deps.people.primaryAdminFlags(trx, tenantId, ids);
      const seen = await this.visible(trx, tenantId, actor, [...found.keys()]);
      const missing = ids.filter((id) => !seen.has(id));
      if (missing.length) throw notFound(`No such user: ${missing.join(', ')}`);
      await assertMayChangePeople(trx, tenantId, actor, ids.map((id) => ({ id, primaryAdmin: found.get(id) === true })), 'forced out');
      const ended = await endSessions(trx, tenantId, ids);
      const now = this.deps.clock();
      for (const id of ids) await this.record(trx, tenantId, actor, 'user.forceLogout', id, now);
      return { sessionsEnded: ended };
    });
  }
}
