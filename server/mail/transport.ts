// How a rendered email leaves the server (docs/emails.md). With SMTP_URL: nodemailer over SMTP.
// Without it: the "kept" transport, which sends nothing — the worker then keeps the sealed message
// and operators read it at GET /operator/v1/mail, so a trial without a mail relay still works end
// to end (test/api/mail.test.ts, "kept mail").
//
// Neither transport ever logs a body: bodies carry links and generated passwords.
import { createTransport } from 'nodemailer';
import type { Logger } from 'pino';
import type { Config } from '../config';

export interface OutgoingMail {
  from: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  /** For the kept transport's log line only; not sent. */
  template?: string;
}

export interface MailTransport {
  kind: 'smtp' | 'kept';
  /** Resolves once the relay accepted the message; rejects with its error otherwise. */
  send(msg: OutgoingMail): Promise<void>;
  close?(): void | Promise<void>;
}

/** nodemailer waits up to 2 minutes for a connection and 10 for a stalled socket by default. */
export const SMTP_TIMEOUT_MS = 10_000;

export function createMailTransport(config: Pick<Config, 'smtpUrl'>, logger: Logger): MailTransport {
  if (!config.smtpUrl) return keptTransport(logger);
  // One connection per message (no pool): the worker sends a small batch every few seconds, and
  // a pooled connection idling between batches is one more thing a relay times out. Options in
  // the URL's query string (?socketTimeout=…) override these, as nodemailer merges them last.
  const transporter = createTransport({
    url: config.smtpUrl,
    connectionTimeout: SMTP_TIMEOUT_MS,
    greetingTimeout: SMTP_TIMEOUT_MS,
    socketTimeout: SMTP_TIMEOUT_MS,
    logger: false,
  });
  return {
    kind: 'smtp',
    async send(msg) {
      await transporter.sendMail({ from: msg.from, to: msg.to, subject: msg.subject, text: msg.text, html: msg.html });
    },
    close() {
      transporter.close();
    },
  };
}

function keptTransport(logger: Logger): MailTransport {
  return {
    kind: 'kept',
    async send(msg) {
      logger.info(
        { to: msg.to, subject: msg.subject, ...(msg.template ? { template: msg.template } : {}) },
        'SMTP_URL is not set: mail kept, not sent; operators can read it at GET /operator/v1/mail',
      );
    },
  };
}
