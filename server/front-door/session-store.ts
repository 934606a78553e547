// Server-side sessions in the database (express-session Store), so every instance behind a load
// balancer sees the same sessions (test/api/front-door.test.ts signs in on one instance and is
// recognised by another). Why our own small store rather than connect-pg-simple: force logout
// must end all sessions of given people at once, so the table carries tenant_id and user_id
// columns; and the cookie's session id is a bearer secret, so only its SHA-256 is stored. The
// SQL is store/sessions-repo.ts.
//
// Only the sign-in step creates a signed-in person's row (`start`, called by SignInService.complete
// after it regenerated the id). express-session's own saves (`set`, at the end of every request
// that changed the session) and `touch` only change a row that still exists: a session ended by
// force logout, a password reset or deactivation while one of its requests was in flight is not
// written back by that request (issue 9, point 10; test/api/front-door.test.ts, "an ended
// session is not brought back by a request in flight").
import session, { SessionData } from 'express-session';
import type { Knex } from 'knex';
import * as repo from '../store/sessions-repo';
import { asOwner, inTenant } from '../store/scope';

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
    asOwner(this.opts.knex, (trx) => repo.find(trx, sid, this.opts.clock()))
      .then((row) => cb(undefined, row ? (row.data as SessionData) : null))
      .catch((err) => cb(err));
  }

  /**
   * The signed-in person's session starts: its row is created, in the person's tenant. The only
   * way a row naming a person comes to exist.
   */
  async start(sid: string, data: SessionData): Promise<void> {
    const user = data.user;
    if (!user) throw new Error('start() needs a signed-in person in the session');
    await inTenant(this.opts.knex, user.tenantId, (trx) => repo.create(trx, user.tenantId, user.userId, sid, data, this.opts.clock(), this.expiry()));
  }

  override set(sid: string, data: SessionData, cb?: Callback): void {
    const user = data.user;
    const now = this.opts.clock();
    const saved = user
      ? // Only the person's live row changes; none left means the session ended meanwhile.
        inTenant(this.opts.knex, user.tenantId, (trx) => repo.save(trx, user.tenantId, user.userId, sid, data, now, this.expiry()))
      : // Nobody signed in (an SSO sign-in in progress keeps its OIDC state here).
        asOwner(this.opts.knex, (trx) => repo.saveAnonymous(trx, sid, data, now, this.expiry()));
    saved.then(() => cb?.()).catch((err) => cb?.(err));
  }

  /** Moves the idle deadline of a row that still exists. */
  override touch(sid: string, _data: SessionData, cb?: Callback): void {
    asOwner(this.opts.knex, (trx) => repo.touch(trx, sid, this.opts.clock(), this.expiry()))
      .then(() => cb?.())
      .catch((err) => cb?.(err));
  }

  override destroy(sid: string, cb?: Callback): void {
    asOwner(this.opts.knex, (trx) => repo.destroy(trx, sid))
      .then(() => cb?.())
      .catch((err) => cb?.(err));
  }

  /** Deletes sessions past their deadline (main.ts runs it on a timer). */
  async purgeExpired(): Promise<number> {
    return asOwner(this.opts.knex, (trx) => repo.purgeExpired(trx, this.opts.clock()));
  }
}
