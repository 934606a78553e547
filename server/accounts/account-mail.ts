// The emails of the account half, written to the outbox in the caller's tenant transaction (so a
// failed request sends nothing, docs/emails.md): the activation link, the link that confirms a
// new sign-in email, generated credentials, a temporary password and a reset link. Links are
// built on PUBLIC_URL; how long each lasts is decided here.
import type { Knex } from 'knex';
import { isObject, JsonObject } from '../scim/normalize';
import { parseAddress } from '../scim/email-address';
import { PROVISIO_USER_URN } from '../scim/urns';
import { Language, languageOf } from './person';
import { issueLink, newLink, supersedeLinks } from './links';
import type { AlongWith } from '../store/outbox-repo';

/** The part of the outbox this module uses (mail/outbox.ts). */
export interface MailQueue {
  /** `along`: a statement written together with the email (the link it carries). */
  enqueue(
    trx: Knex.Transaction,
    msg: { tenantId: string; template: string; to: string; language: Language; params: Record<string, string> },
    along?: AlongWith,
  ): Promise<string>;
}

export interface AccountMailDeps {
  mail: MailQueue;
  publicUrl: string;
  activationLinkDays: number;
}

const DAY_MS = 86_400_000;
export const RESET_LINK_MS = 60 * 60 * 1000;
export const VERIFY_LINK_MS = 7 * DAY_MS;

/** A security notice's event (issue 10): the template and what it says. */
export type Notice =
  | { template: 'password-changed' }
  | { template: 'email-changed'; newEmail: string }
  | { template: 'account-deactivated' }
  | { template: 'identity-linked'; issuer: string };

/** Who a security notice is about: their data (for the notification email and language). */
export interface NoticeSubject {
  tenantId: string;
  userId: string;
  data: JsonObject;
  tenantName: string;
  tenantSettings: Record<string, unknown>;
  /** Where it goes without a notification email (the sign-in email; the old one for an email change); undefined: nowhere. */
  fallback?: string;
}

/** Who an email is about and where it goes. */
export interface Recipient {
  tenantId: string;
  userId: string;
  /** The address the email goes to. */
  to: string;
  language: Language;
  tenantName: string;
}

export class AccountMail {
  constructor(private readonly deps: AccountMailDeps) {}

  private link(path: string, token: string) {
    return `${this.deps.publicUrl}${path}?token=${token}`;
  }

  get loginUrl() {
    return `${this.deps.publicUrl}/login`;
  }

  get activationLinkMs() {
    return this.deps.activationLinkDays * DAY_MS;
  }

  /**
   * A new activation link (older ones die) in one statement with its email. `newUser`: created in
   * this transaction, so there is no older link to kill.
   */
  async activation(trx: Knex.Transaction, r: Recipient, now: Date, newUser = false): Promise<{ expiresAt: string }> {
    const ttl = this.activationLinkMs;
    if (!newUser) await supersedeLinks(trx, r.tenantId, r.userId, 'activation');
    const link = newLink(r.tenantId, r.userId, 'activation', r.to, now, ttl);
    const expiresAt = new Date(now.getTime() + ttl).toISOString();
    await this.send(trx, r, 'activation', { link: this.link('/activate', link.token), expiresAt }, link.statement);
    return { expiresAt };
  }

  /**
   * A security notice (issue 10): to the person's notification email when set, else to
   * `fallback`. An address that mail cannot go to (stored before the address rule) sends nothing:
   * a notice never makes the change it reports fail. Returns where it went.
   */
  async notice(trx: Knex.Transaction, s: NoticeSubject, notice: Notice, at: Date): Promise<string | undefined> {
    const ext = isObject(s.data[PROVISIO_USER_URN]) ? (s.data[PROVISIO_USER_URN] as JsonObject) : {};
    for (const candidate of [ext.notificationEmail, s.fallback]) {
      if (typeof candidate !== 'string' || !candidate) continue;
      const parsed = parseAddress(candidate);
      if (!parsed.ok) continue;
      const r = { tenantId: s.tenantId, userId: s.userId, to: parsed.address, language: languageOf(s.data, s.tenantSettings), tenantName: s.tenantName };
      const { template, ...params } = notice;
      await this.send(trx, r, template, { ...params, at: at.toISOString() });
      return parsed.address;
    }
    return undefined;
  }

  /** One email of the account half, to `r.to`, in its language. */
  private send(trx: Knex.Transaction, r: Recipient, template: string, params: Record<string, string>, along?: AlongWith) {
    return this.deps.mail.enqueue(trx, { tenantId: r.tenantId, template, to: r.to, language: r.language, params: { tenantName: r.tenantName, ...params } }, along);
  }

  /** Asks the person to confirm a new sign-in email (the link goes to that address). */
  async verifyEmail(trx: Knex.Transaction, r: Recipient, now: Date): Promise<void> {
    const token = await issueLink(trx, r.tenantId, r.userId, 'verify-email', r.to, now, VERIFY_LINK_MS);
    await this.send(trx, r, 'verify-email', { link: this.link('/verify-email', token), expiresAt: new Date(now.getTime() + VERIFY_LINK_MS).toISOString() });
  }

  /** A self-service reset link, to the person's sign-in email. */
  async reset(trx: Knex.Transaction, r: Recipient, now: Date): Promise<void> {
    const token = await issueLink(trx, r.tenantId, r.userId, 'reset', r.to, now, RESET_LINK_MS);
    await this.send(trx, r, 'password-reset', { link: this.link('/reset-password', token), expiresAt: new Date(now.getTime() + RESET_LINK_MS).toISOString() });
  }

  /** Generated credentials of a user created active, to the credentials email. */
  async credentials(trx: Knex.Transaction, r: Recipient, userName: string, password: string): Promise<void> {
    await this.send(trx, r, 'credentials', { userName, password, loginUrl: this.loginUrl });
  }

  /** A temporary password an admin's reset made, to the person. */
  async temporaryPassword(trx: Knex.Transaction, r: Recipient, userName: string, password: string): Promise<void> {
    await this.send(trx, r, 'temporary-password', { userName, password, loginUrl: this.loginUrl });
  }
}
