// The transactional outbox (migrations/0007_front_door.ts, docs/emails.md). An email is written
// in the transaction of the change that causes it, so a rolled-back change sends nothing and a
// committed one is never lost; mail/worker.ts sends it afterwards.
//
// The message is rendered once, here, and stored sealed with the server key (label 'outbox'):
// a generated password or a link is not readable at rest, and a resend after a crash carries
// exactly the same link. test/api/mail.test.ts proves the rollback, the sealing and the resend.
import type { Knex } from 'knex';
import { v7 as uuidv7 } from 'uuid';
import type { SecretBox } from '../security/keys';
import { asOwner } from '../store/scope';
import { AlongWith, insertMail, listForOperator, pendingBacklog, purgeFinished } from '../store/outbox-repo';
import { Language, render, TemplateName } from './templates';
import { addressError, parseAddress } from '../scim/email-address';

/** The SecretBox label of outbox messages: a value sealed for another use cannot open as mail. */
export const OUTBOX_LABEL = 'outbox';

export interface NewMail {
  tenantId: string;
  template: TemplateName;
  to: string;
  language: Language;
  params: Record<string, string>;
}

/** The sealed part of a row. */
export interface MailContent {
  text: string;
  html: string;
}

export interface OperatorMailFilter {
  to?: string;
  tenantId?: string;
  limit: number;
}

export interface OperatorMail {
  id: string;
  tenantId: string;
  template: string;
  recipient: string;
  subject: string;
  status: 'pending' | 'sent' | 'failed';
  attempts: number;
  createdAt: string;
  sentAt: string | null;
  lastError: string | null;
  /** Only while the sealed content is kept (no SMTP_URL, or not yet sent). */
  text?: string;
  html?: string;
}

export function sealContent(box: SecretBox, content: MailContent): string {
  return box.seal(JSON.stringify({ text: content.text, html: content.html }), OUTBOX_LABEL);
}

export function openContent(box: SecretBox, sealed: string): MailContent {
  const parsed = JSON.parse(box.open(sealed, OUTBOX_LABEL));
  if (typeof parsed?.text !== 'string' || typeof parsed?.html !== 'string') throw new Error('Sealed mail has no text and html');
  return { text: parsed.text, html: parsed.html };
}

const iso = (v: unknown): string | null => (v == null ? null : new Date(v as string).toISOString());

export class Outbox {
  constructor(private readonly deps: { box: SecretBox; clock: () => Date }) {}

  /**
   * Renders and stores one email in `trx`, a tenant transaction (store/scope.ts inTenant): the
   * row-level security policy refuses a tenantId other than the transaction's. Due at once.
   * Throws (and so rolls the caller back) on a missing template parameter, and (400
   * invalidValue) on a recipient that is not an address mail can be sent to.
   */
  async enqueue(trx: Knex.Transaction, msg: NewMail, along?: AlongWith): Promise<string> {
    // The recipient becomes an SMTP envelope address and a To: header. Every write path that stores
    // an address checks it with this same rule (scim/email-address.ts) and answers 400 naming the
    // attribute; this is the last line, for a value stored before the rule. It stays a 400, never
    // a 500, and it rolls back the change that would have sent the mail. test/api/addresses.test.ts
    const parsed = parseAddress(msg.to.trim());
    if (!parsed.ok) throw addressError('The recipient of this email', parsed.reason);
    const to = parsed.address;
    const rendered = render(msg.template, msg.language, msg.params);
    const id = uuidv7();
    const now = this.deps.clock();
    await insertMail(trx, { tenantId: msg.tenantId, id, template: msg.template, recipient: to, subject: rendered.subject, sealed: sealContent(this.deps.box, rendered), now }, along);
    return id;
  }

  /**
   * Deletes sent and failed messages created before `before` (main.ts: hourly, 30 days), so kept
   * mail and the outbox do not grow without end. Pending ones stay whatever their age.
   */
  async purgeOld(knex: Knex, before: Date): Promise<number> {
    return asOwner(knex, (trx) => purgeFinished(trx, before));
  }

  /** Pending mail across tenants and the age of the oldest in seconds (metrics; as the owner). */
  async backlog(knex: Knex, now: Date): Promise<{ pending: number; oldestAgeSeconds: number }> {
    const b = await asOwner(knex, (trx) => pendingBacklog(trx));
    return { pending: b.pending, oldestAgeSeconds: b.oldest ? Math.max(0, (now.getTime() - b.oldest.getTime()) / 1000) : 0 };
  }

  /**
   * The operator page (GET /operator/v1/mail): newest first, across tenants (as the owner).
   * `to` matches the recipient case-insensitively. Text and HTML are opened only where the sealed
   * content is still kept; a value that no longer opens (the server key changed) shows none.
   */
  async listForOperator(knex: Knex, filter: OperatorMailFilter): Promise<OperatorMail[]> {
    const rows = await asOwner(knex, (trx) => listForOperator(trx, { to: filter.to?.trim(), tenantId: filter.tenantId, limit: filter.limit }));
    return rows.map((r) => {
      const out: OperatorMail = {
        id: r.id,
        tenantId: r.tenant_id,
        template: r.template,
        recipient: r.recipient,
        subject: r.subject,
        status: r.status,
        attempts: Number(r.attempts),
        createdAt: iso(r.created_at)!,
        sentAt: iso(r.sent_at),
        lastError: r.last_error ?? null,
      };
      if (typeof r.sealed === 'string') {
        try {
          Object.assign(out, openContent(this.deps.box, r.sealed));
        } catch {
          // Sealed with another key: nothing to show, and nothing worth failing the page for.
        }
      }
      return out;
    });
  }
}
