// What a person does for themselves (issue 5): activate with the emailed link, reset a forgotten
// password, confirm a new sign-in email, change their password, accept the privacy policy. Every
// change runs in the person's tenant transaction (row-level security) and is audited; the emails
// go to the outbox in that transaction. A link proves an address only when the credential that
// set the address still has authority over the person (resources/authority.ts, point 2).
import type { Logger } from 'pino';
import { mayProveAddress } from '../resources/authority';
import type { AuditRepo } from '../store/audit-repo';
import { saveCredentials } from '../store/credentials-repo';
import type { ChangeRecorder } from '../resources/service';
import { PROVISIO_USER_URN } from '../scim/urns';
import type { ResourceRepo } from '../store/resource-repo';
import { Db, inTenant, Tx } from '../store/scope';
import { endSessions } from '../store/sessions-repo';
import type { AccountMail } from './account-mail';
import { LinkPurpose, LinkRow, peekLink, revokeLinks, useLink } from './links';
import { englishProblem, hashPassword, PasswordPolicy, PasswordProblem, verifyPassword } from './passwords';
import type { People } from './people';
import { languageOf, noticeSubject, Person, SSO_REQUIRED_MESSAGE } from './person';

export interface SelfServiceDeps {
  people: People;
  mail: AccountMail;
  audit: AuditRepo;
  passwords: PasswordPolicy;
  users: ResourceRepo;
  clock: () => Date;
  logger: Logger;
  /** SCIM events (events/producer.ts): a person's own activation changes their User resource. */
  events: Pick<ChangeRecorder, 'rewritten'>;
}

/**
 * What a person's own activation changes in their SCIM representation (resources/kinds.ts
 * `computed`): the Provisio extension's activationState and privacyPolicyAcceptedAt. `active` does
 * not move (a pending person is already active in SCIM terms), so the change is a patch event, not
 * RFC 9967's activate event (test/api/events.test.ts, "self-activation").
 */
const ACTIVATION_ATTRIBUTES = [`${PROVISIO_USER_URN}:activationState`, `${PROVISIO_USER_URN}:privacyPolicyAcceptedAt`];

/**
 * Why a self-service step was refused: a stable code the pages translate (locales/<lang>/front.json
 * `problems.<code>`, issue 11) with its values, and the English words for the log and tests.
 */
export type SelfProblem = PasswordProblem & { message: string };

const ENGLISH: Record<string, string> = {
  activationLinkDead: 'This activation link is no longer valid. Ask your administrator for a new one.',
  resetLinkDead: 'This reset link is no longer valid. Ask for a new one.',
  privacyRequired: 'Please accept the privacy policy to continue.',
  ssoRequired: SSO_REQUIRED_MESSAGE,
  accountGone: 'Your account no longer exists.',
  currentWrong: 'Your current password is not right.',
  passwordUnchanged: 'Choose a password different from the current one.',
};

/** A self-service problem from its code (or a password policy problem), with its English words. */
export function selfProblem(p: PasswordProblem | string): SelfProblem {
  const problem = typeof p === 'string' ? { code: p } : p;
  return { ...problem, message: ENGLISH[problem.code] ?? englishProblem(problem) };
}

export type LinkOutcome = { ok: true; user: Person } | ({ ok: false } & SelfProblem);

export class SelfService {
  constructor(private readonly deps: SelfServiceDeps) {}

  private get knex() {
    return this.deps.people.knex;
  }

  private record(trx: Db, p: { tenantId: string; userId: string }, action: string, at: Date, changes: Record<string, unknown> = {}) {
    return this.deps.audit.record(trx, p.tenantId, at, { actorType: 'user', actorId: p.userId, action, targetType: 'User', targetId: p.userId, changes });
  }

  /**
   * The live link a secret names and its person, without using it (the GET of a link's page). A
   * link is dead when the address it went to is no longer the person's (also revoked on change),
   * or when the credential that set that address no longer has authority over the person.
   */
  async peek(token: string, purpose: LinkPurpose): Promise<{ link: LinkRow; user: Person } | undefined> {
    const link = await peekLink(this.knex, token, purpose, this.deps.clock());
    if (!link) return undefined;
    return inTenant(this.knex, link.tenantId, async (trx) => {
      const user = await this.live(trx, link);
      return user && { link, user };
    });
  }

  /** The person a link is for, while the link may still prove their address (point 2); logs why not. */
  private async live(trx: Db, link: LinkRow): Promise<Person | undefined> {
    const user = await this.deps.people.read(trx, link.tenantId, link.userId);
    if (!user || user.email !== link.email) return undefined;
    if (!(await mayProveAddress(trx, link.tenantId, user))) {
      this.deps.logger.info({ tenant: link.tenantId, user: link.userId, purpose: link.purpose }, 'link refused: the address was set by a credential that no longer administers the person');
      return undefined;
    }
    return user;
  }

  /**
   * A link that sets a password (activation, reset): checks the link is live and the password
   * acceptable first, hashes outside the transaction, then uses the link and applies the change
   * in one transaction — so a refused password leaves the link usable, and two submissions of
   * one link cannot both succeed (useLink is atomic). A link to an address the person never
   * proved works only while the credential that set the address may still prove it (point 2).
   */
  private async withPasswordLink(
    token: string,
    purpose: 'activation' | 'reset',
    password: string,
    dead: 'activationLinkDead' | 'resetLinkDead',
    apply: (trx: Tx, link: LinkRow, seen: Person, hash: string, now: Date) => Promise<void>,
    precheck?: () => PasswordProblem | undefined,
  ): Promise<LinkOutcome> {
    const seen = await this.peek(token, purpose);
    if (!seen) return { ok: false, ...selfProblem(dead) };
    const refused = precheck?.() ?? this.deps.passwords.problemCode(password, seen.user.email);
    if (refused) return { ok: false, ...selfProblem(refused) };
    const hash = await hashPassword(password);
    const now = this.deps.clock();
    const { tenantId } = seen.link;
    return inTenant(this.knex, tenantId, async (trx) => {
      // Checked again in the transaction that uses the link: the person may have moved since the page.
      if (!(await this.live(trx, seen.link))) return { ok: false as const, ...selfProblem(dead) };
      const link = await useLink(trx, tenantId, token, purpose, now);
      if (!link) return { ok: false as const, ...selfProblem(dead) };
      await apply(trx, link, seen.user, hash, now);
      return { ok: true as const, user: (await this.deps.people.read(trx, tenantId, link.userId))! };
    });
  }

  /**
   * Activation (POST of the activation page): sets the password, records the privacy policy
   * version and time, marks the email proven and the user active.
   */
  async activate(token: string, password: string, acceptedPrivacy: boolean): Promise<LinkOutcome> {
    // Someone whose organisation signs them in activates through it, never with a password.
    const seen = await this.peek(token, 'activation');
    if (seen && (await this.deps.people.passwordBarred(seen.user))) return { ok: false, ...selfProblem('ssoRequired') };
    return this.withPasswordLink(
      token,
      'activation',
      password,
      'activationLinkDead',
      async (trx, link, user, hash, now) => {
        const { tenantId, userId } = link;
        const version = user.policyVersion;
        await this.deps.users.update(trx, tenantId, userId, { activation_state: 'active', privacy_accepted_at: now }, now);
        await saveCredentials(trx, tenantId, userId, { password_hash: hash, must_change: false, verified_email: link.email, privacy_policy_version: version, password_changed_at: now }, now);
        await this.record(trx, link, 'user.activate', now, { privacyPolicyVersion: version });
        await this.deps.events.rewritten(trx, tenantId, 'User', [userId], ACTIVATION_ATTRIBUTES);
      },
      () => (acceptedPrivacy ? undefined : { code: 'privacyRequired' }),
    );
  }

  /** Self-service reset (POST of the reset page): the link proves the address too; every session of the person ends. */
  completeReset(token: string, password: string): Promise<LinkOutcome> {
    return this.withPasswordLink(token, 'reset', password, 'resetLinkDead', async (trx, link, user, hash, now) => {
      await saveCredentials(trx, link.tenantId, link.userId, { password_hash: hash, must_change: false, verified_email: link.email, password_changed_at: now }, now);
      await endSessions(trx, link.tenantId, [link.userId]);
      await this.deps.mail.notice(trx, noticeSubject(user), { template: 'password-changed' }, now);
      await this.record(trx, link, 'user.password.reset', now);
    });
  }

  /** The verify-email link (POST): proves the new sign-in address. */
  async verifyEmail(token: string): Promise<boolean> {
    const seen = await this.peek(token, 'verify-email');
    if (!seen) return false;
    const now = this.deps.clock();
    const { tenantId } = seen.link;
    return inTenant(this.knex, tenantId, async (trx) => {
      if (!(await this.live(trx, seen.link))) return false;
      const link = await useLink(trx, tenantId, token, 'verify-email', now);
      if (!link) return false;
      await saveCredentials(trx, tenantId, link.userId, { verified_email: link.email }, now);
      return true;
    });
  }

  /**
   * "Forgot password": a reset link to an active person's address. Returns nothing: the page
   * answers the same whether or not the email exists (issue 5). No link goes to an address that
   * a link could not prove (point 2): the person asks an admin instead.
   */
  async forgotPassword(email: string): Promise<void> {
    const found = await this.deps.people.findByEmail(email);
    if (!found) return;
    const { tenantId, userId } = found;
    await inTenant(this.knex, tenantId, async (trx) => {
      const p = await this.deps.people.read(trx, tenantId, userId);
      if (!p || !p.active || !p.email || p.activationState !== 'active') return;
      if (await this.deps.people.passwordBarred(p, trx)) return;
      if (!(await mayProveAddress(trx, tenantId, p))) {
        this.deps.logger.info({ tenant: tenantId, user: userId }, 'no reset link sent: the sign-in email was set by a credential that no longer administers the person');
        return;
      }
      const now = this.deps.clock();
      await this.deps.mail.reset(trx, { tenantId, userId, to: p.email, language: languageOf(p.data, p.tenant.settings), tenantName: p.tenant.name }, now);
    });
  }

  /** A new sign-in identity was linked to the person (sso/identities.ts): their security notice. */
  async identityLinked(trx: Tx, link: { tenantId: string; userId: string; issuer: string }, at: Date): Promise<void> {
    const p = await this.deps.people.read(trx, link.tenantId, link.userId);
    if (p) await this.deps.mail.notice(trx, noticeSubject(p), { template: 'identity-linked', issuer: link.issuer }, at);
  }

  /** A signed-in person changes their password; every other session of theirs ends. */
  async changePassword(tenantId: string, userId: string, current: string | undefined, next: string, keepSid: string): Promise<SelfProblem | undefined> {
    const p = await this.deps.people.user(tenantId, userId);
    if (!p) return selfProblem('accountGone');
    if (await this.deps.people.passwordBarred(p)) return selfProblem('ssoRequired');
    // Forced changes (temporary password) were just proven by signing in; others re-prove it.
    if (!p.mustChangePassword && !(await verifyPassword(p.passwordHash, current ?? ''))) return selfProblem('currentWrong');
    const problem = this.deps.passwords.problemCode(next, p.email);
    if (problem) return selfProblem(problem);
    if (await verifyPassword(p.passwordHash, next)) return selfProblem('passwordUnchanged');
    const hash = await hashPassword(next);
    const now = this.deps.clock();
    await inTenant(this.knex, tenantId, async (trx) => {
      await saveCredentials(trx, tenantId, userId, { password_hash: hash, must_change: false, password_changed_at: now }, now);
      await endSessions(trx, tenantId, [userId], keepSid);
      await this.deps.mail.notice(trx, noticeSubject(p), { template: 'password-changed' }, now);
      await this.record(trx, { tenantId, userId }, 'user.password.change', now);
    });
    return undefined;
  }

  /** Records acceptance of the current privacy policy (version and time). */
  async acceptPrivacy(tenantId: string, userId: string, method: 'password' | 'oidc', verifiedEmail?: string): Promise<void> {
    const now = this.deps.clock();
    await inTenant(this.knex, tenantId, async (trx) => {
      const p = await this.deps.people.read(trx, tenantId, userId);
      if (!p) return;
      const version = p.policyVersion;
      // Someone provisioned pending who signs in through their IdP activates here: the IdP proved
      // the address, and this page records the policy acceptance the activation page would have.
      await this.deps.users.update(trx, tenantId, userId, { activation_state: 'active', privacy_accepted_at: now }, now);
      await saveCredentials(trx, tenantId, userId, { privacy_policy_version: version, ...(method === 'oidc' && verifiedEmail ? { verified_email: verifiedEmail } : {}) }, now);
      if (method === 'oidc') await revokeLinks(trx, tenantId, [userId], ['activation']);
      await this.record(trx, { tenantId, userId }, 'user.privacy.accept', now, { privacyPolicyVersion: version });
      // The update above moved the resource's version and privacyPolicyAcceptedAt (and
      // activationState for someone who was pending): subscribers hear of it.
      await this.deps.events.rewritten(trx, tenantId, 'User', [userId], p.activationState === 'active' ? [`${PROVISIO_USER_URN}:privacyPolicyAcceptedAt`] : ACTIVATION_ATTRIBUTES);
    });
  }
}
