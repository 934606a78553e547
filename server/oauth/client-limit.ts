// Failed client authentications at the token endpoint, counted per (client id, client address)
// with rate-limiter-flexible on the rate_limits table (the library front-door/rate-limit.ts uses,
// for the same reasons: every instance counts together, one atomic upsert per point). A secret of
// 256 random bits is not guessed by trying, so the limit is about load and noise: after
// FAILURES failures in the window that pair waits (429, Retry-After). Counting per pair, not per
// client id, means nobody can lock a client out by failing with its id from elsewhere (the same
// reasoning as the sign-in limits). Only failures spend points; a request is checked first.
import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible';
import { rateLimitStore } from '../store/rate-limit-store';

export const CLIENT_AUTH_LIMIT = { failures: 10, windowSeconds: 15 * 60 };

const key = (clientId: string, address: string) => createHash('sha256').update(`oauth-client:${clientId.toLowerCase()}\n${address}`).digest('hex');

export class ClientAuthLimiter {
  private readonly limiter: RateLimiterPostgres;

  constructor(
    knex: Knex,
    private readonly limits = CLIENT_AUTH_LIMIT,
  ) {
    this.limiter = new RateLimiterPostgres({
      // Through our knex client, not around it (store/rate-limit-store.ts).
      storeClient: rateLimitStore(knex),
      storeType: 'pool',
      tableName: 'rate_limits',
      tableCreated: true,
      keyPrefix: 'oauth-client',
      points: limits.failures,
      duration: limits.windowSeconds,
      blockDuration: limits.windowSeconds,
    });
  }

  /** Seconds this pair must still wait, or 0 when it may try. */
  async waitFor(clientId: string, address: string): Promise<number> {
    const res = await this.limiter.get(key(clientId, address));
    if (!res || res.consumedPoints < this.limits.failures) return 0;
    return Math.max(1, Math.ceil(res.msBeforeNext / 1000));
  }

  /** Counts one failure. */
  async failed(clientId: string, address: string): Promise<void> {
    try {
      await this.limiter.consume(key(clientId, address));
    } catch (res) {
      if (!(res instanceof RateLimiterRes)) throw res;
    }
  }
}
