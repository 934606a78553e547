// Links between people and their IdP accounts (OIDC `sub` per connection), made and removed in
// one place so that every link and unlink is written to the audit log in its own transaction
// (issue 9 point 5): the automatic link of a first SSO sign-in, the link a signed-in person makes
// themselves from the account page (the only kind that counts for the primary admin,
// sso/policy.ts), and unlinking by the person or by an admin. Audit entries name the connection
// and the IdP subject (an identifier, never a token): user.identity.link, user.identity.unlink.
// Tests: test/api/sso-policy.test.ts.
import type { Knex } from 'knex';
import type { Actor } from '../resources/actor';
import { assertMayChangePeople } from '../resources/authority';
import { visibleIds } from '../store/visibility';
import type { AuditRepo } from '../store/audit-repo';
import { inTenant, Tx } from '../store/scope';
import { IdentityRow, LinkedBy, SsoRepo } from '../store/sso-repo';
import { mayLinkAtFirstSignIn } from './policy';

export interface IdentityLinksDeps {
  knex: Knex;
  repo: SsoRepo;
  audit: Pick<AuditRepo, 'record'>;
  clock: () => Date;
  /** Told of every new link, in its transaction (the person's security notice, issue 10). */
  onLinked?: (trx: Tx, link: { tenantId: string; userId: string; issuer: string }, at: Date) => Promise<void>;
}

const self = (userId: string): Actor => ({ type: 'user', id: userId, admin: false });

/** Whether the actor sees this person: always, unless it is bound to a sub-account (its subtree only). */
async function sees(trx: Tx, tenantId: string, actor: Actor | undefined, userId: string): Promise<boolean> {
  const sub = actor?.subAccountId;
  return !sub || (await visibleIds(trx, 'User', tenantId, sub, [userId])).has(userId);
}

export class IdentityLinks {
  constructor(private readonly deps: IdentityLinksDeps) {}

  private async record(trx: Tx, tenantId: string, at: Date, actor: Actor, action: 'user.identity.link' | 'user.identity.unlink', userId: string, changes: Record<string, unknown>) {
    await this.deps.audit.record(trx, tenantId, at, { actorType: actor.type, actorId: actor.id, action, targetType: 'User', targetId: userId, changes });
    if (action === 'user.identity.link' && this.deps.onLinked) {
      const issuer = (await this.deps.repo.get(trx, tenantId, String(changes.connectionId)))?.issuer;
      if (issuer) await this.deps.onLinked(trx, { tenantId, userId, issuer }, at);
    }
  }

  /**
   * The first SSO sign-in of a person links the IdP subject to them: never for the primary admin
   * ('primary-admin'), never when they are linked to another subject at this IdP already
   * ('other-subject': the address now belongs to another IdP account). A concurrent first sign-in
   * that made the same link is 'already'.
   */
  async linkAtFirstSignIn(tenantId: string, connectionId: string, subject: string, userId: string): Promise<'linked' | 'already' | 'other-subject' | 'primary-admin'> {
    const { repo } = this.deps;
    const at = this.deps.clock();
    return inTenant(this.deps.knex, tenantId, async (trx) => {
      const person = await repo.userFacts(trx, tenantId, userId);
      if (!person || !mayLinkAtFirstSignIn(person)) return 'primary-admin';
      const other = await repo.subjectOf(trx, tenantId, connectionId, userId);
      if (other !== undefined && other.subject !== subject) return 'other-subject';
      if (await repo.link(trx, tenantId, connectionId, subject, userId, at, 'first-sign-in')) {
        await this.record(trx, tenantId, at, self(userId), 'user.identity.link', userId, { connectionId, subject, linkedBy: 'first-sign-in' });
        return 'linked';
      }
      return (await repo.linkedUser(trx, tenantId, connectionId, subject))?.userId === userId ? 'already' : 'other-subject';
    });
  }

  /**
   * A signed-in person links their own IdP account (the callback checked that the IdP's verified
   * email is their sign-in email). An automatic link of the same account becomes theirs
   * ('approved'); an IdP account linked to someone else is 'subject-taken'; a person linked to
   * another account at this IdP unlinks it first ('other-subject').
   */
  async linkSelf(tenantId: string, connectionId: string, subject: string, userId: string): Promise<'linked' | 'approved' | 'already' | 'subject-taken' | 'other-subject'> {
    const { repo } = this.deps;
    const at = this.deps.clock();
    return inTenant(this.deps.knex, tenantId, async (trx) => {
      const existing = await repo.linkedUser(trx, tenantId, connectionId, subject);
      if (existing) {
        if (existing.userId !== userId) return 'subject-taken';
        if (existing.linkedBy === 'self') return 'already';
        await repo.approveLink(trx, tenantId, connectionId, subject, userId, at);
        await this.record(trx, tenantId, at, self(userId), 'user.identity.link', userId, { connectionId, subject, linkedBy: 'self', previously: existing.linkedBy });
        return 'approved';
      }
      if (await repo.subjectOf(trx, tenantId, connectionId, userId)) return 'other-subject';
      if (!(await repo.link(trx, tenantId, connectionId, subject, userId, at, 'self'))) return 'subject-taken';
      await this.record(trx, tenantId, at, self(userId), 'user.identity.link', userId, { connectionId, subject, linkedBy: 'self' });
      return 'linked';
    });
  }

  /** The person's links; undefined when the tenant has no such user, or the actor cannot see them. */
  async list(tenantId: string, userId: string, actor?: Actor): Promise<IdentityRow[] | undefined> {
    return inTenant(this.deps.knex, tenantId, async (trx) => {
      if (!(await this.deps.repo.userFacts(trx, tenantId, userId)) || !(await sees(trx, tenantId, actor, userId))) return undefined;
      return this.deps.repo.identitiesOf(trx, tenantId, userId);
    });
  }

  /**
   * Removes the person's link at this connection, under the authority rule (resources/authority.ts):
   * nobody but the primary admin unlinks the primary admin, and a sub-account's credential only
   * people it fully administers (403); people it cannot see are 'no-user'. 'no-user' / 'no-link'
   * for the caller's 404.
   */
  async unlink(tenantId: string, userId: string, connectionId: string, actor: Actor): Promise<'unlinked' | 'no-user' | 'no-link'> {
    const { repo } = this.deps;
    const at = this.deps.clock();
    return inTenant(this.deps.knex, tenantId, async (trx) => {
      const person = await repo.userFacts(trx, tenantId, userId);
      if (!person || !(await sees(trx, tenantId, actor, userId))) return 'no-user';
      await assertMayChangePeople(trx, tenantId, actor, [{ id: userId, primaryAdmin: person.primaryAdmin }], 'unlinked');
      const removed = await repo.unlink(trx, tenantId, connectionId, userId);
      if (!removed) return 'no-link';
      await this.record(trx, tenantId, at, actor, 'user.identity.unlink', userId, { connectionId: connectionId.toLowerCase(), subject: removed.subject, linkedBy: removed.linkedBy });
      return 'unlinked';
    });
  }

  /**
   * Forgets every link of a connection in the caller's transaction (its issuer changed: subjects
   * are unique per issuer only; or it is deleted), one audit entry per person.
   */
  async unlinkAll(trx: Tx, tenantId: string, connectionId: string, actor: Actor, reason: 'issuer changed' | 'connection deleted', at: Date): Promise<number> {
    const removed = await this.deps.repo.unlinkAll(trx, tenantId, connectionId);
    for (const r of removed) await this.record(trx, tenantId, at, actor, 'user.identity.unlink', r.userId, { connectionId, subject: r.subject, reason });
    return removed.length;
  }
}

export type { LinkedBy };
