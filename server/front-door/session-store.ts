// Server-side sessions in the database (express-session Store), so every instance behind a load
// balancer sees the same sessions (test/api/front-door.test.ts signs in on one instance and is
// recognised by another). Why our own small store rather than connect-pg-simple: force logout
// must end all sessions of given people at once, so the table carries tenant_id and user_id
// columns; and the cookie's session id is a bearer secret, so only its SHA-256 is stored.
// Lookups by id are global (the id names the session) and run as the schema owner; force logout
// runs in the tenant's transaction under row-level security.
import session, { SessionData } from 'express-session';
import type { Knex } from 'knex';
import { hashToken } from '../tenancy/tokens';
import { asOwner, Tx } from '../store/scope';

type Callback<T = void> = (err?: unknown, value?: T) => void;

export interface SessionStoreOptions {
  knex: Knex;
  clock: () => Date;
  /** A session ends this long after its last request. */
  idleMs: number;
}

export class DbSessionStore extends session.Store {
  constructor(private readonly opts: SessionStoreOptions) {
    super();
  }

  private expiry(): Date {
    return new Date(this.opts.clock().getTime() + this.opts.idleMs);
  }

  override get(sid: string, cb: Callback<SessionData | null>): void {
    asOwner(this.opts.knex, async (trx) => (await trx.raw('SELECT data FROM sessions WHERE sid_hash = ? AND expires_at > ?', [hashToken(sid), this.opts.clock()])).rows[0])
      .then((row) => cb(undefined, row ? (row.data as SessionData) : null))
      .catch((err) => cb(err));
  }

  override set(sid: string, data: SessionData, cb?: Callback): void {
    const user = data.user;
    const now = this.opts.clock();
    asOwner(this.opts.knex, (trx) =>
      trx.raw(
        `INSERT INTO sessions (sid_hash, tenant_id, user_id, data, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (sid_hash) DO UPDATE SET tenant_id = EXCLUDED.tenant_id, user_id = EXCLUDED.user_id, data = EXCLUDED.data, expires_at = EXCLUDED.expires_at`,
        [hashToken(sid), user?.tenantId ?? null, user?.userId ?? null, JSON.stringify(data), now, this.expiry()],
      ),
    )
      .then(() => cb?.())
      .catch((err) => {
        // The person was deleted between loading the session and saving it: nothing to keep.
        if ((err as { code?: string }).code === '23503') return cb?.();
        cb?.(err);
      });
  }

  /**
   * Moves the idle deadline. Only the row that still exists is touched: a session ended by force
   * logout stays ended even if a request of it was in flight.
   */
  override touch(sid: string, _data: SessionData, cb?: Callback): void {
    asOwner(this.opts.knex, (trx) => trx.raw('UPDATE sessions SET expires_at = ? WHERE sid_hash = ? AND expires_at > ?', [this.expiry(), hashToken(sid), this.opts.clock()]))
      .then(() => cb?.())
      .catch((err) => cb?.(err));
  }

  override destroy(sid: string, cb?: Callback): void {
    asOwner(this.opts.knex, (trx) => trx.raw('DELETE FROM sessions WHERE sid_hash = ?', [hashToken(sid)]))
      .then(() => cb?.())
      .catch((err) => cb?.(err));
  }

  /** Deletes sessions past their deadline (main.ts runs it on a timer). */
  async purgeExpired(): Promise<number> {
    const res = await asOwner(this.opts.knex, (trx) => trx.raw('DELETE FROM sessions WHERE expires_at <= ?', [this.opts.clock()]));
    return res.rowCount ?? 0;
  }
}
