// The email outbox and its worker (server/mail/, docs/emails.md) on a real database and a real
// SMTP server: written in the caller's transaction, sealed at rest, sent once by concurrent
// workers, retried with backoff, failed after the last try, resent with the same content after a
// crash, and kept for operators when no relay is configured.
import { randomBytes } from 'node:crypto';
import { MailWorker, RunResult } from '../../server/mail/worker';
import { createMailTransport, MailTransport } from '../../server/mail/transport';
import type { NewMail } from '../../server/mail/outbox';
import { inTenant } from '../../server/store/scope';
import { createTenant, Harness, OPERATOR_TOKEN, startHarness, TestTenant } from '../support/harness';
import { Captured, SmtpSink, startSmtpSink } from '../support/smtp-sink';

let now = Date.parse('2030-05-06T07:00:00Z');
const clock = () => new Date(now);
const hex = () => randomBytes(6).toString('hex');
const op = { Authorization: `Bearer ${OPERATOR_TOKEN}` };

function helpers(h: () => Harness, t: () => TestTenant) {
  const enqueue = (to: string, over: Partial<NewMail> = {}) =>
    inTenant(h().db.knex, t().id, (trx) =>
      h().deps.mail.outbox.enqueue(trx, {
        tenantId: t().id,
        template: 'activation',
        to,
        language: 'en',
        params: { tenantName: 'Acme', link: `https://provisio.test/activate?token=${hex()}`, expiresAt: '2030-05-08T07:00:00Z' },
        ...over,
      }),
    );
  const row = (id: string) => h().owner((db) => db('outbox').where({ id }).first());
  /** Runs the worker until a run finds nothing due. */
  const drain = async (worker: MailWorker = h().deps.mail.worker) => {
    let sent = 0;
    for (;;) {
      const r = await worker.runOnce();
      if (r.sent + r.retried + r.failed === 0) return sent;
      sent += r.sent;
    }
  };
  const worker = (opts: { transport?: MailTransport; batchSize?: number; maxAttempts?: number } = {}) =>
    new MailWorker({
      knex: h().db.knex,
      box: h().deps.keys.box,
      transport: opts.transport ?? h().deps.mail.transport,
      clock,
      logger: h().deps.logger,
      from: h().deps.config.mailFrom,
      batchSize: opts.batchSize,
      maxAttempts: opts.maxAttempts,
    });
  return { enqueue, row, drain, worker };
}

describe('with an SMTP relay (SMTP_URL)', () => {
  let sink: SmtpSink;
  let h: Harness;
  let t: TestTenant;
  let other: TestTenant;
  const { enqueue, row, drain, worker } = helpers(
    () => h,
    () => t,
  );
  // Case-insensitive: nodemailer lower-cases the domain of the envelope address.
  const to = (address: string) => (m: Captured) => m.to.some((a) => a.toLowerCase() === address.toLowerCase());

  beforeAll(async () => {
    sink = await startSmtpSink();
    h = await startHarness({ env: { SMTP_URL: sink.url }, clock });
    t = await createTenant(h, 'Acme');
    other = await createTenant(h, 'Globex');
    // Whatever tenant creation itself sends is not this file's business.
    await drain();
  });
  afterAll(async () => {
    await h.close();
    await sink.close();
  });

  it('uses the SMTP transport', () => {
    expect(h.deps.mail.transport.kind).toBe('smtp');
  });

  it('sends nothing for a change that rolls back', async () => {
    const address = `rollback-${hex()}@acme.test`;
    await expect(
      inTenant(h.db.knex, t.id, async (trx) => {
        await h.deps.mail.outbox.enqueue(trx, { tenantId: t.id, template: 'password-reset', to: address, language: 'en', params: { tenantName: 'Acme', link: 'https://provisio.test/r', expiresAt: '2030-05-06T08:00:00Z' } });
        throw new Error('the change is refused');
      }),
    ).rejects.toThrow('the change is refused');
    expect(await h.owner((db) => db('outbox').where({ recipient: address }))).toHaveLength(0);
    expect(await h.deps.mail.worker.runOnce()).toEqual({ sent: 0, retried: 0, failed: 0 });
    expect(sink.messages.filter(to(address))).toHaveLength(0);
  });

  it('refuses a message for another tenant than the transaction’s (row-level security)', async () => {
    await expect(
      inTenant(h.db.knex, t.id, (trx) =>
        h.deps.mail.outbox.enqueue(trx, { tenantId: other.id, template: 'password-reset', to: 'x@acme.test', language: 'en', params: { tenantName: 'Acme', link: 'https://provisio.test/r', expiresAt: '2030-05-06T08:00:00Z' } }),
      ),
    ).rejects.toThrow(/row-level security/);
  });

  it('seals the message at rest, sends it, marks it sent and scrubs the content', async () => {
    const address = `Ada.${hex()}@Acme.test`;
    const token = hex();
    const link = `https://provisio.test/activate?token=${token}`;
    const id = await enqueue(address, { params: { tenantName: 'Acme', link, expiresAt: '2030-05-08T07:00:00Z' } });

    const stored = await row(id);
    expect(stored).toMatchObject({ tenant_id: t.id, template: 'activation', recipient: address, subject: 'Activate your “Acme” account', status: 'pending', attempts: 0 });
    expect(stored.sealed).toMatch(/^v1\./);
    expect(stored.sealed).not.toContain(token);
    expect(JSON.stringify(stored)).not.toContain(token);

    expect(await h.deps.mail.worker.runOnce()).toEqual({ sent: 1, retried: 0, failed: 0 });
    const m = await sink.waitFor(to(address));
    expect(m.from).toBe('no-reply@provisio.test');
    expect(m.headers.from).toContain('no-reply@provisio.test');
    expect(m.subject).toBe('Activate your “Acme” account');
    expect(m.text).toContain(link);
    expect(m.text).toContain('May 8, 2030');
    expect(m.html).toContain(`href="${link}"`);

    const sent = await row(id);
    expect(sent).toMatchObject({ status: 'sent', attempts: 1, sealed: null, locked_until: null, last_error: null });
    expect(new Date(sent.sent_at).getTime()).toBe(now);

    // The operator page lists it, without content (scrubbed once sent through SMTP).
    const res = await h.http.get('/operator/v1/mail').query({ to: address.toLowerCase() }).set(op);
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body.messages).toEqual([
      expect.objectContaining({ id, tenantId: t.id, template: 'activation', recipient: address, subject: 'Activate your “Acme” account', status: 'sent', attempts: 1, sentAt: new Date(now).toISOString(), lastError: null }),
    ]);
    expect(res.body.messages[0]).not.toHaveProperty('text');
  });

  it('purgeOld deletes sent and failed mail older than the cut-off, never pending mail', async () => {
    const sent = await enqueue(`old.${hex()}@acme.test`, { params: { tenantName: 'Acme', link: 'https://provisio.test/activate?token=x', expiresAt: '2030-05-08T07:00:00Z' } });
    await drain();
    const pending = await enqueue(`later.${hex()}@acme.test`, { params: { tenantName: 'Acme', link: 'https://provisio.test/activate?token=y', expiresAt: '2030-05-08T07:00:00Z' } });
    const cutOff = new Date(clock().getTime() + 1000);
    await h.deps.mail.outbox.purgeOld(h.db.knex, new Date(clock().getTime() - 1000));
    expect((await row(sent)).status).toBe('sent');
    expect(await h.deps.mail.outbox.purgeOld(h.db.knex, cutOff)).toBeGreaterThanOrEqual(1);
    expect(await row(sent)).toBeUndefined();
    expect((await row(pending)).status).toBe('pending');
    await drain();
  });

  it('sends French mail with its accented subject intact', async () => {
    const address = `fr-${hex()}@acme.test`;
    await enqueue(address, { template: 'password-reset', language: 'fr', params: { tenantName: 'Société Générale', link: 'https://provisio.test/r/1', expiresAt: '2030-05-06T08:00:00Z' } });
    await drain();
    const m = await sink.waitFor(to(address));
    expect(m.subject).toBe('Réinitialisez votre mot de passe «\u00a0Société Générale\u00a0»');
    expect(m.text).toMatch(/^Bonjour,/);
    expect(m.text).toContain('6 mai 2030 à 08:00 UTC');
  });

  it('retries a 4xx with exponential backoff, and not before it is due', async () => {
    const address = `retry-${hex()}@acme.test`;
    const token = hex();
    const id = await enqueue(address, { params: { tenantName: 'Acme', link: `https://provisio.test/a?token=${token}`, expiresAt: '2030-05-08T07:00:00Z' } });
    sink.failNext(2);

    expect(await h.deps.mail.worker.runOnce()).toEqual({ sent: 0, retried: 1, failed: 0 });
    let r = await row(id);
    expect(r).toMatchObject({ status: 'pending', attempts: 1, locked_until: null });
    expect(new Date(r.next_attempt_at).getTime()).toBe(now + 30_000);
    expect(r.last_error).toMatch(/451/);
    expect(r.last_error).not.toContain(token);
    expect(r.sealed).not.toBeNull();

    // Not due yet: nothing is claimed, nothing sent.
    expect(await h.deps.mail.worker.runOnce()).toEqual({ sent: 0, retried: 0, failed: 0 });
    now += 29_999;
    expect(await h.deps.mail.worker.runOnce()).toEqual({ sent: 0, retried: 0, failed: 0 });

    // Due: the second try fails too, and the wait doubles.
    now += 1;
    expect(await h.deps.mail.worker.runOnce()).toEqual({ sent: 0, retried: 1, failed: 0 });
    r = await row(id);
    expect(r.attempts).toBe(2);
    expect(new Date(r.next_attempt_at).getTime()).toBe(now + 60_000);

    now += 59_999;
    expect(await h.deps.mail.worker.runOnce()).toEqual({ sent: 0, retried: 0, failed: 0 });
    now += 1;
    expect(await h.deps.mail.worker.runOnce()).toEqual({ sent: 1, retried: 0, failed: 0 });
    expect(sink.messages.filter(to(address))).toHaveLength(1);
    expect(await row(id)).toMatchObject({ status: 'sent', attempts: 3, last_error: null, sealed: null });

    const warnings = h.logs.filter((l) => l.includes(id));
    expect(warnings.length).toBeGreaterThanOrEqual(2);
    expect(warnings.join('\n')).not.toContain(token);
  });

  it('gives up after maxAttempts: failed, one error logged without the content', async () => {
    const address = `fail-${hex()}@acme.test`;
    const token = hex();
    const id = await enqueue(address, { params: { tenantName: 'Acme', link: `https://provisio.test/a?token=${token}`, expiresAt: '2030-05-08T07:00:00Z' } });
    const w = worker({ maxAttempts: 3 });
    sink.failNext(3);
    const results: RunResult[] = [];
    for (let i = 0; i < 3; i++) {
      results.push(await w.runOnce());
      now += 60 * 60 * 1000;
    }
    sink.failNext(0);
    expect(results).toEqual([
      { sent: 0, retried: 1, failed: 0 },
      { sent: 0, retried: 1, failed: 0 },
      { sent: 0, retried: 0, failed: 1 },
    ]);
    expect(await row(id)).toMatchObject({ status: 'failed', attempts: 3, last_error: expect.stringMatching(/451/) });
    expect(await w.runOnce()).toEqual({ sent: 0, retried: 0, failed: 0 });
    expect(sink.messages.filter(to(address))).toHaveLength(0);

    const errors = h.logs.map((l) => JSON.parse(l)).filter((l) => l.mailId === id && l.level === 50);
    expect(errors).toEqual([expect.objectContaining({ msg: 'mail failed, no more retries', template: 'activation', attempts: 3 })]);
    expect(h.logs.filter((l) => l.includes(id)).join('\n')).not.toContain(token);
  });

  it('two workers running at once send each of 30 messages exactly once', async () => {
    const tag = hex();
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) {
      ids.push(await enqueue(`bulk-${tag}-${i}@acme.test`, { params: { tenantName: 'Acme', link: `https://provisio.test/a?token=${tag}-${i}`, expiresAt: '2030-05-08T07:00:00Z' } }));
    }
    const [a, b] = await Promise.all([drain(worker({ batchSize: 4 })), drain(worker({ batchSize: 4 }))]);
    expect(a + b).toBe(30);
    // Both took part (they interleave from the first claim), so the claims really raced.
    expect(a).toBeGreaterThan(0);
    expect(b).toBeGreaterThan(0);
    const mine = sink.messages.filter((m) => m.to[0].startsWith(`bulk-${tag}-`));
    expect(mine).toHaveLength(30);
    expect(new Set(mine.map((m) => m.to[0])).size).toBe(30);
    for (const m of mine) expect(m.text).toContain(`token=${tag}-${m.to[0].split('-')[2].split('@')[0]}`);
    const rows = await h.owner((db) => db('outbox').whereIn('id', ids));
    expect(rows.map((r) => [r.status, r.attempts])).toEqual(ids.map(() => ['sent', 1]));
  });

  it('resends with the same content when a worker died between sending and marking (lease expired)', async () => {
    const address = `crash-${hex()}@acme.test`;
    const token = hex();
    const id = await enqueue(address, { template: 'credentials', params: { tenantName: 'Acme', userName: address, password: `Pw-${token}`, loginUrl: 'https://provisio.test/login' } });

    // This worker sends, then "dies": its run never gets to record the outcome.
    let revive!: () => void;
    const dead = new Promise<void>((resolve) => (revive = resolve));
    const dying: MailTransport = {
      kind: 'smtp',
      async send(msg) {
        await h.deps.mail.transport.send(msg);
        await dead;
        throw new Error('the process died');
      },
    };
    const run = worker({ transport: dying }).runOnce();
    const first = await sink.waitFor(to(address));
    expect(first.text).toContain(`Pw-${token}`);
    expect(await row(id)).toMatchObject({ status: 'pending', attempts: 1 });

    // While the lease holds (60 s), nobody else sends it — and the claim was committed before
    // sending: on the embedded database (one connection) this run would otherwise block.
    now += 59_999;
    expect(await h.deps.mail.worker.runOnce()).toEqual({ sent: 0, retried: 0, failed: 0 });
    now += 1;
    expect(await h.deps.mail.worker.runOnce()).toEqual({ sent: 1, retried: 0, failed: 0 });
    const copies = sink.messages.filter(to(address));
    expect(copies).toHaveLength(2);
    expect(copies[1].subject).toBe(first.subject);
    expect(copies[1].text).toBe(first.text);
    expect(copies[1].html).toBe(first.html);
    expect(await row(id)).toMatchObject({ status: 'sent', attempts: 2, sealed: null });

    // The dead worker comes back with its stale lease: it cannot put the row back in the queue.
    revive();
    expect(await run).toEqual({ sent: 0, retried: 0, failed: 0 });
    expect(await row(id)).toMatchObject({ status: 'sent', attempts: 2 });
  });

  it('start() polls on a timer until stop(), which waits for the run in progress', async () => {
    const address = `timer-${hex()}@acme.test`;
    const w = worker();
    w.start(20);
    const id = await enqueue(address);
    await sink.waitFor(to(address));
    await w.stop();
    expect(await row(id)).toMatchObject({ status: 'sent', attempts: 1 });
    // Stopped: a new message stays pending.
    const later = await enqueue(`timer-after-${hex()}@acme.test`);
    await new Promise((r) => setTimeout(r, 100));
    expect(await row(later)).toMatchObject({ status: 'pending', attempts: 0 });
    await drain();
  });

  describe('pooled connections (SMTP_POOL, the default)', () => {
    const until = async (pred: () => boolean, what: string) => {
      for (let i = 0; i < 200 && !pred(); i++) await new Promise((r) => setTimeout(r, 25));
      if (!pred()) throw new Error(`timed out waiting for ${what}`);
    };
    const enqueueMany = async (n: number) => {
      const tag = hex();
      const ids: string[] = [];
      for (let i = 0; i < n; i++) ids.push(await enqueue(`pool-${tag}-${i}@acme.test`, { params: { tenantName: 'Acme', link: `https://provisio.test/a?token=${tag}-${i}`, expiresAt: '2030-05-08T07:00:00Z' } }));
      return { tag, ids };
    };
    /** Runs until nothing is due, the clock moved past any backoff (at most 1 h) before each run. */
    const settle = async (w: MailWorker) => {
      for (let i = 0; i < 20; i++) {
        now += 60 * 60 * 1000;
        const r = await w.runOnce();
        if (r.sent + r.retried + r.failed === 0) return;
      }
      throw new Error('the outbox never emptied');
    };
    /** Each message of the batch arrived exactly once, with its own link, and its row is sent. */
    const exactlyOnce = async (tag: string, ids: string[]) => {
      const mine = sink.messages.filter((m) => m.to[0].startsWith(`pool-${tag}-`));
      expect(mine.map((m) => m.to[0]).sort()).toEqual(ids.map((_, i) => `pool-${tag}-${i}@acme.test`).sort());
      for (const m of mine) expect(m.text).toContain(`token=${tag}-${m.to[0].split('-')[2].split('@')[0]}`);
      const rows = await h.owner((db) => db('outbox').whereIn('id', ids));
      expect(rows.map((r) => r.status)).toEqual(ids.map(() => 'sent'));
      return rows;
    };

    it('sends a batch over at most SMTP_MAX_CONNECTIONS connections and closes them when a run finds no more work', async () => {
      expect(h.deps.mail.transport.concurrency).toBe(2);
      await until(() => sink.openConnections() === 0, 'earlier connections to close');
      const opened = sink.connectionsOpened();
      const { tag, ids } = await enqueueMany(6);
      const w = worker({ batchSize: 3 });
      expect(await w.runOnce()).toEqual({ sent: 3, retried: 0, failed: 0 });
      // A full batch: more may be due, so the connections stay open for the next run.
      expect(sink.openConnections()).toBeGreaterThan(0);
      expect(await w.runOnce()).toEqual({ sent: 3, retried: 0, failed: 0 });
      expect(await w.runOnce()).toEqual({ sent: 0, retried: 0, failed: 0 });
      // Nothing more: closed by us, not left for the relay to time out.
      await until(() => sink.openConnections() === 0, 'the pool to close');
      expect(sink.connectionsOpened() - opened).toBeLessThanOrEqual(2);
      const rows = await exactlyOnce(tag, ids);
      expect(rows.map((r) => [r.attempts, r.sealed])).toEqual(ids.map(() => [1, null]));
    });

    it('a relay closing idle pooled connections between batches loses and duplicates nothing', async () => {
      const { tag, ids } = await enqueueMany(8);
      const w = worker({ batchSize: 4 });
      expect(await w.runOnce()).toEqual({ sent: 4, retried: 0, failed: 0 });
      expect(sink.openConnections()).toBeGreaterThan(0);
      const opened = sink.connectionsOpened();
      // The relay times out the connections the full batch left open, and the next run starts at once.
      sink.dropConnections();
      await settle(w);
      await exactlyOnce(tag, ids);
      // New connections were opened for the rest.
      expect(sink.connectionsOpened()).toBeGreaterThan(opened);
    });

    it('a relay closing a pooled connection just as it is reused: the message goes out once, on another connection or on a retry', async () => {
      const { tag, ids } = await enqueueMany(6);
      const w = worker({ batchSize: 3 });
      expect(await w.runOnce()).toEqual({ sent: 3, retried: 0, failed: 0 });
      // The relay's idle timer fires as the next messages start on the open connections.
      sink.dropAtMail(2);
      await settle(w);
      await exactlyOnce(tag, ids);
    });

    it('a connection dropped mid-message: that message is retried later, never lost, and sent once', async () => {
      const { tag, ids } = await enqueueMany(3);
      sink.dropDuringData(1);
      const w = worker({ batchSize: 3 });
      const first = await w.runOnce();
      expect(first.sent + first.retried).toBe(3);
      await settle(w);
      const rows = await exactlyOnce(tag, ids);
      // Only the dropped message can have taken a second try of the outbox's (unless the pool
      // requeued it on another connection itself); either way the relay has each message once.
      expect(rows.map((r) => r.attempts).sort()).toEqual(first.retried ? [1, 1, 2] : [1, 1, 1]);
    });

    it('gives back, untried and uncounted, what a slow relay leaves no time for before the lease runs out', async () => {
      const { tag, ids } = await enqueueMany(4);
      // Each send takes 50 s of the 60 s lease: after the first, less than a quarter is left.
      const slow: MailTransport = {
        kind: 'smtp',
        concurrency: 1,
        async send(msg) {
          await h.deps.mail.transport.send(msg);
          now += 50_000;
        },
      };
      expect(await worker({ transport: slow, batchSize: 4 }).runOnce()).toEqual({ sent: 1, retried: 0, failed: 0 });
      const rows = await h.owner((db) => db('outbox').whereIn('id', ids));
      expect(rows.filter((r) => r.status === 'sent').map((r) => r.attempts)).toEqual([1]);
      expect(rows.filter((r) => r.status === 'pending').map((r) => [r.attempts, r.locked_until])).toEqual([
        [0, null],
        [0, null],
        [0, null],
      ]);
      await settle(worker());
      const after = await exactlyOnce(tag, ids);
      expect(after.map((r) => r.attempts)).toEqual(ids.map(() => 1));
    });

    it('SMTP_POOL=false: one connection per message, as before', async () => {
      const single = createMailTransport({ smtpUrl: sink.url, smtpPool: false }, h.deps.logger);
      expect(single.concurrency).toBe(1);
      const { tag, ids } = await enqueueMany(2);
      const opened = sink.connectionsOpened();
      try {
        await settle(worker({ transport: single }));
      } finally {
        await single.close?.();
      }
      await exactlyOnce(tag, ids);
      expect(sink.connectionsOpened() - opened).toBe(2);
    });
  });

  describe('GET /operator/v1/mail', () => {
    beforeAll(async () => {
      for (let i = 0; i < 3; i++) {
        now += 1000;
        await inTenant(h.db.knex, other.id, (trx) =>
          h.deps.mail.outbox.enqueue(trx, { tenantId: other.id, template: 'verify-email', to: `page-${i}@globex.test`, language: 'en', params: { tenantName: 'Globex', link: 'https://provisio.test/v', expiresAt: '2030-05-08T07:00:00Z' } }),
        );
      }
    });

    it('lists one tenant’s mail newest first, with a limit; pending mail shows its content', async () => {
      const res = await h.http.get('/operator/v1/mail').query({ tenantId: other.id, limit: '2' }).set(op);
      expect(res.status).toBe(200);
      expect(res.body.messages.map((m: { recipient: string }) => m.recipient)).toEqual(['page-2@globex.test', 'page-1@globex.test']);
      expect(res.body.messages[0]).toMatchObject({ tenantId: other.id, status: 'pending', attempts: 0, sentAt: null });
      expect(res.body.messages[0].text).toContain('https://provisio.test/v');
      const all = await h.http.get('/operator/v1/mail').set(op);
      expect(all.body.messages.length).toBeGreaterThan(3);
      expect(all.body.messages.length).toBeLessThanOrEqual(50);
      const created = all.body.messages.map((m: { createdAt: string }) => m.createdAt);
      expect([...created].sort().reverse()).toEqual(created);
      await drain();
    });

    it('refuses bad parameters and callers without the operator token', async () => {
      expect((await h.http.get('/operator/v1/mail').query({ tenantId: 'nope' }).set(op)).status).toBe(400);
      expect((await h.http.get('/operator/v1/mail').query({ limit: '0' }).set(op)).status).toBe(400);
      expect((await h.http.get('/operator/v1/mail').query({ limit: 'ten' }).set(op)).status).toBe(400);
      expect((await h.http.get('/operator/v1/mail').query({ limit: '100000' }).set(op)).status).toBe(200);
      expect((await h.http.get('/operator/v1/mail')).status).toBe(401);
      expect((await h.http.get('/operator/v1/mail').set({ Authorization: `Bearer ${t.token}` })).status).toBe(401);
    });
  });
});

describe('without SMTP_URL (kept mail)', () => {
  let h: Harness;
  let t: TestTenant;
  const { enqueue, drain } = helpers(
    () => h,
    () => t,
  );

  beforeAll(async () => {
    h = await startHarness({ clock });
    t = await createTenant(h, 'Initech');
    await drain();
  });
  afterAll(() => h.close());

  it('keeps the message readable on the operator page and never logs its content', async () => {
    expect(h.deps.mail.transport.kind).toBe('kept');
    const address = `kept-${hex()}@initech.test`;
    const password = `Kept-${hex()}`;
    const loginUrl = `https://provisio.test/login?hint=${hex()}`;
    const id = await enqueue(address, { template: 'credentials', params: { tenantName: 'Initech', userName: address, password, loginUrl } });
    expect(await h.deps.mail.worker.runOnce()).toEqual({ sent: 1, retried: 0, failed: 0 });

    const res = await h.http.get('/operator/v1/mail').query({ to: address }).set(op);
    expect(res.status).toBe(200);
    expect(res.body.messages).toEqual([expect.objectContaining({ id, status: 'sent', subject: 'Your sign-in details for “Initech”' })]);
    expect(res.body.messages[0].text).toContain(loginUrl);
    expect(res.body.messages[0].text).toContain(password);
    expect(res.body.messages[0].html).toContain(password);

    const kept = h.logs.map((l) => JSON.parse(l)).filter((l) => l.to === address);
    expect(kept).toEqual([expect.objectContaining({ level: 30, subject: 'Your sign-in details for “Initech”', template: 'credentials', msg: expect.stringContaining('GET /operator/v1/mail') })]);
    const all = h.logs.join('\n');
    expect(all).not.toContain(password);
    expect(all).not.toContain(loginUrl);
  });
});
