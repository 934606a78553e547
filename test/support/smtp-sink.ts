// A real SMTP server for tests (smtp-server), on 127.0.0.1 and a free port, that keeps every
// message it accepts. Point SMTP_URL at `url`. failNext(n) answers the next n messages with a
// 451 (a temporary failure, RFC 5321 §4.2.1) after their DATA, so the sender must retry.
// dropConnections() closes every open connection as a relay times out an idle one (421, then the
// socket), dropAtMail(n) does so when the next n messages start (the relay's idle timer firing
// just as a pooled connection is reused), dropDuringData(n) ends the connection after the next n
// messages' DATA without answering (a relay dying mid-message): the pooled sender must lose and
// duplicate nothing (test/api/mail.test.ts, "pooled connections").
//
// mailparser is not installed, so the MIME parsing here is minimal but real: multipart bodies
// (nodemailer sends text + html as multipart/alternative), quoted-printable and base64 parts,
// and RFC 2047 encoded words in headers (a French subject arrives as =?UTF-8?Q?…?=).
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface Captured {
  /** Envelope recipients (RCPT TO). */
  to: string[];
  /** Envelope sender (MAIL FROM). */
  from: string;
  /** Decoded headers, names in lower case (the last value when repeated). */
  headers: Record<string, string>;
  subject: string;
  /** The decoded text/plain part ('' when none). */
  text: string;
  /** The decoded text/html part ('' when none). */
  html: string;
  raw: string;
}

export interface SmtpSink {
  url: string;
  messages: Captured[];
  /** Resolves with the first message (already received or to come) that matches. */
  waitFor(pred: (m: Captured) => boolean, timeoutMs?: number): Promise<Captured>;
  /** Rejects the next n messages with "451 4.3.0 Try again later". */
  failNext(n: number): void;
  /** Connections accepted since the start, and open now. */
  connectionsOpened(): number;
  openConnections(): number;
  /** Closes every open connection: "421 … closing connection", then the socket. */
  dropConnections(): void;
  /** Closes the connection (421) when each of the next n messages starts (at MAIL FROM). */
  dropAtMail(n: number): void;
  /** Closes the connection after each of the next n messages' DATA, without answering it. */
  dropDuringData(n: number): void;
  close(): Promise<void>;
}

export async function startSmtpSink(): Promise<SmtpSink> {
  const messages: Captured[] = [];
  const waiters = new Set<() => void>();
  let failures = 0;
  let opened = 0;
  let dropsAtMail = 0;
  let dropsInData = 0;
  // smtp-server's own set of open connections (each with its session id, send and close).
  type Conn = { id: string; send(code: number, text: string): void; close(): void };
  const open = () => (server as unknown as { connections: Set<Conn> }).connections;
  const hangUp = (id: string, reply?: string) => {
    for (const c of open()) {
      if (c.id !== id) continue;
      if (reply) c.send(421, reply);
      c.close();
    }
  };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    // smtp-server asks DNS for the client's name (a PTR query to the system resolver) on every
    // connection by default: loopback only, so never.
    disableReverseLookup: true,
    logger: false,
    onConnect(_session, callback) {
      opened++;
      callback();
    },
    onMailFrom(_address, session, callback) {
      if (dropsAtMail > 0) {
        dropsAtMail--;
        return hangUp(session.id, 'Idle timeout - closing connection');
      }
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('error', callback);
      stream.on('end', () => {
        if (dropsInData > 0) {
          dropsInData--;
          return hangUp(session.id);
        }
        if (failures > 0) {
          failures--;
          const err = Object.assign(new Error('Try again later'), { responseCode: 451 });
          return callback(err);
        }
        const raw = Buffer.concat(chunks).toString('utf8');
        messages.push({
          ...parseMessage(raw),
          to: session.envelope.rcptTo.map((a) => a.address),
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          raw,
        });
        for (const w of [...waiters]) w();
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.server.address() as AddressInfo).port;
  return {
    url: `smtp://127.0.0.1:${port}`,
    messages,
    failNext(n) {
      failures = n;
    },
    connectionsOpened: () => opened,
    openConnections: () => open().size,
    dropConnections() {
      for (const c of [...open()]) hangUp(c.id, 'Idle timeout - closing connection');
    },
    dropAtMail(n) {
      dropsAtMail = n;
    },
    dropDuringData(n) {
      dropsInData = n;
    },
    waitFor(pred, timeoutMs = 5000) {
      const found = messages.find(pred);
      if (found) return Promise.resolve(found);
      return new Promise<Captured>((resolve, reject) => {
        const check = () => {
          const m = messages.find(pred);
          if (!m) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(m);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching message within ${timeoutMs} ms (${messages.length} received)`));
        }, timeoutMs);
        waiters.add(check);
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

interface Part {
  headers: Record<string, string>;
  body: string;
}

function splitPart(raw: string): Part {
  const m = /\r?\n\r?\n/.exec(raw);
  const head = m ? raw.slice(0, m.index) : raw;
  const body = m ? raw.slice(m.index + m[0].length) : '';
  const headers: Record<string, string> = {};
  // Folded header lines (RFC 5322 §2.2.3) continue with white space.
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { headers, body };
}

function param(header: string | undefined, name: string): string | undefined {
  const m = new RegExp(`;\\s*${name}\\s*=\\s*(?:"([^"]*)"|([^;\\s]+))`, 'i').exec(header ?? '');
  return m ? (m[1] ?? m[2]) : undefined;
}

function decodeBody(part: Part): string {
  const encoding = (part.headers['content-transfer-encoding'] ?? '7bit').toLowerCase();
  let bytes: Buffer;
  if (encoding === 'base64') bytes = Buffer.from(part.body.replace(/\s+/g, ''), 'base64');
  else if (encoding === 'quoted-printable') bytes = decodeQuotedPrintable(part.body);
  else bytes = Buffer.from(part.body, 'utf8');
  const charset = (param(part.headers['content-type'], 'charset') ?? 'utf-8').toLowerCase();
  return bytes.toString(charset === 'iso-8859-1' || charset === 'latin1' ? 'latin1' : 'utf8');
}

/** RFC 2045 §6.7: soft line breaks "=\r\n" vanish, "=XX" is one byte. */
function decodeQuotedPrintable(s: string): Buffer {
  const text = s.replace(/=\r?\n/g, '');
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const hex = text.slice(i + 1, i + 3);
    if (text[i] === '=' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      out.push(parseInt(hex, 16));
      i += 2;
    } else out.push(...Buffer.from(text[i], 'utf8'));
  }
  return Buffer.from(out);
}

/** RFC 2047 encoded words; white space between two adjacent encoded words is dropped. */
export function decodeHeader(value: string): string {
  return value
    .replace(/(\?=)\s+(=\?)/g, '$1$2')
    .replace(/=\?([^?]+)\?([bBqQ])\?([^?]*)\?=/g, (_all, charset: string, enc: string, data: string) => {
      const bytes = enc.toUpperCase() === 'B' ? Buffer.from(data, 'base64') : decodeQuotedPrintable(data.replace(/_/g, ' '));
      return bytes.toString(/^(iso-8859-1|latin1)$/i.test(charset) ? 'latin1' : 'utf8');
    });
}

function collect(part: Part, out: { text: string; html: string }): void {
  const type = (part.headers['content-type'] ?? 'text/plain').toLowerCase();
  if (type.startsWith('multipart/')) {
    const boundary = param(part.headers['content-type'], 'boundary');
    if (!boundary) return;
    const sections = part.body.split(new RegExp(`\\r?\\n?--${boundary.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?:--)?[ \\t]*\\r?\\n?`));
    // The first section is the preamble and the last the epilogue.
    for (const section of sections.slice(1, -1)) collect(splitPart(section), out);
  } else if (type.startsWith('text/html')) {
    if (!out.html) out.html = decodeBody(part);
  } else if (type.startsWith('text/plain')) {
    if (!out.text) out.text = decodeBody(part);
  }
}

function parseMessage(raw: string): Omit<Captured, 'to' | 'from' | 'raw'> {
  const top = splitPart(raw);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(top.headers)) headers[k] = decodeHeader(v);
  const out = { text: '', html: '' };
  collect(top, out);
  return { headers, subject: headers.subject ?? '', ...out };
}
