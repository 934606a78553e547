// How a rendered email leaves the server (docs/emails.md). With SMTP_URL: nodemailer over SMTP,
// pooled connections unless SMTP_POOL=false.
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
  /** How many sends the worker may have in flight at once: the pool's connections; 1 without a pool. */
  concurrency?: number;
  /** Resolves once the relay accepted the message; rejects with its error otherwise. */
  send(msg: OutgoingMail): Promise<void>;
  /**
   * The worker found no more work: close the pooled connections as soon as no send is in flight
   * (the next send opens one again), so none idles until a relay times it out.
   */
  idle?(): void;
  close?(): void | Promise<void>;
}

/** nodemailer waits up to 2 minutes for a connection and 10 for a stalled socket by default. */
export const SMTP_TIMEOUT_MS = 10_000;

/**
 * A pooled connection left idle (a full batch, then a pause before the next run) is closed by us
 * after this long, well before the 5 minutes RFC 5321 §4.5.3.2.7 asks a server to wait and before
 * the shorter idle timeouts some relays use. The worker closes the pool sooner still, when a run
 * finds no more work (MailTransport.idle).
 */
export const SMTP_IDLE_MS = 10_000;

export interface SmtpOptions {
  smtpUrl?: string;
  smtpPool?: boolean;
  smtpMaxConnections?: number;
  smtpMaxMessages?: number;
}

export function createMailTransport(config: Pick<Config, 'smtpUrl'> & SmtpOptions, logger: Logger): MailTransport {
  if (!config.smtpUrl) return keptTransport(logger);
  return config.smtpPool === false ? connectionPerMessage(config.smtpUrl) : pooled(config.smtpUrl, config.smtpMaxConnections ?? 2, config.smtpMaxMessages ?? 100);
}

const toNodemailer = (msg: OutgoingMail) => ({ from: msg.from, to: msg.to, subject: msg.subject, text: msg.text, html: msg.html });

/**
 * SMTP_POOL=false: one connection per message. Costly (docs/performance.md, "The activation
 * email's cost": about 4.7 ms of CPU and 100 ms of wall time per message on loopback) but nothing
 * is ever left open. Options in the URL's query string (?socketTimeout=…) override these, as
 * nodemailer merges them last.
 */
function connectionPerMessage(url: string): MailTransport {
  const transporter = createTransport({
    url,
    connectionTimeout: SMTP_TIMEOUT_MS,
    greetingTimeout: SMTP_TIMEOUT_MS,
    socketTimeout: SMTP_TIMEOUT_MS,
    logger: false,
  });
  return {
    kind: 'smtp',
    concurrency: 1,
    async send(msg) {
      await transporter.sendMail(toNodemailer(msg));
    },
    close() {
      transporter.close();
    },
  };
}

/**
 * The default: nodemailer's pool (`pool: true`), up to maxConnections connections each reused for
 * up to maxMessages messages, opened when the worker sends and closed when it has no more work
 * (idle()), or by nodemailer after SMTP_IDLE_MS idle. A relay that closes an idle connection
 * anyway: nodemailer drops it from the pool and the next message opens another; a message it was
 * handed on the dead connection before a byte of it went out is requeued by nodemailer, and any
 * other failure rejects the send, which the worker retries later like any other (the outbox is
 * at-least-once, mail/worker.ts). test/api/mail.test.ts, "pooled connections".
 *
 * nodemailer's close() ends a pool for good and fails what is queued in it, so a closed pool is
 * dropped and a new one made on the next send; and it is closed only when no send is in flight,
 * so closing never fails a message (two workers may share this transport).
 */
function pooled(url: string, maxConnections: number, maxMessages: number): MailTransport {
  let pool: ReturnType<typeof createTransport> | undefined;
  let inFlight = 0;
  let closeWhenDone = false;
  const open = () =>
    (pool ??= createTransport({
      url,
      pool: true,
      maxConnections,
      maxMessages,
      idleTimeout: SMTP_IDLE_MS,
      connectionTimeout: SMTP_TIMEOUT_MS,
      greetingTimeout: SMTP_TIMEOUT_MS,
      socketTimeout: SMTP_TIMEOUT_MS,
      logger: false,
    }));
  const shut = () => {
    const p = pool;
    pool = undefined;
    closeWhenDone = false;
    p?.close();
  };
  return {
    kind: 'smtp',
    concurrency: maxConnections,
    async send(msg) {
      const transporter = open();
      closeWhenDone = false;
      inFlight++;
      try {
        await transporter.sendMail(toNodemailer(msg));
      } finally {
        inFlight--;
        if (closeWhenDone && inFlight === 0) shut();
      }
    },
    idle() {
      if (inFlight === 0) shut();
      else closeWhenDone = true;
    },
    close() {
      shut();
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
