// Rate limits on sign-in and reset attempts, per account and per client address (issue 5).
// Why rate-limiter-flexible: counters live in PostgreSQL (table rate_limits, migration 0007), so
// every instance behind the load balancer counts together, and it computes the wait for
// Retry-After. Keys are hashed: no email address or IP is stored in clear.
import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible';

export interface Limits {
  /** Failed password sign-ins per account before it is locked for the rest of the window. */
  accountFailures: number;
  /** Sign-in attempts per client address. */
  addressAttempts: number;
  /** Forgot-password and reset requests per account, and per address, in an hour. */
  resetRequests: number;
  resetAddressRequests: number;
  windowSeconds: number;
}

export const DEFAULT_LIMITS: Limits = { accountFailures: 10, addressAttempts: 100, resetRequests: 5, resetAddressRequests: 50, windowSeconds: 15 * 60 };

const key = (kind: string, value: string) => createHash('sha256').update(`${kind}:${value.toLowerCase()}`).digest('hex');

export class TooManyAttempts extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super('Too many attempts');
  }
}

export class SignInLimiter {
  private readonly failures: RateLimiterPostgres;
  private readonly addresses: RateLimiterPostgres;
  private readonly resets: RateLimiterPostgres;
  private readonly resetAddresses: RateLimiterPostgres;

  constructor(knex: Knex, limits: Limits = DEFAULT_LIMITS) {
    const common = { storeClient: knex, storeType: 'knex', tableName: 'rate_limits', tableCreated: true, duration: limits.windowSeconds };
    this.failures = new RateLimiterPostgres({ ...common, keyPrefix: 'fail', points: limits.accountFailures, blockDuration: limits.windowSeconds });
    this.addresses = new RateLimiterPostgres({ ...common, keyPrefix: 'addr', points: limits.addressAttempts });
    this.resets = new RateLimiterPostgres({ ...common, keyPrefix: 'reset', points: limits.resetRequests, duration: 3600 });
    this.resetAddresses = new RateLimiterPostgres({ ...common, keyPrefix: 'reset-ip', points: limits.resetAddressRequests, duration: 3600 });
  }

  private static wait(res: RateLimiterRes | null): number {
    return Math.max(1, Math.ceil((res?.msBeforeNext ?? 1000) / 1000));
  }

  /** Throws TooManyAttempts when this address or account may not try again yet. */
  async beforeSignIn(email: string, address: string): Promise<void> {
    try {
      await this.addresses.consume(key('ip', address));
    } catch (res) {
      if (res instanceof RateLimiterRes) throw new TooManyAttempts(SignInLimiter.wait(res));
      throw res;
    }
    const seen = await this.failures.get(key('acct', email));
    if (seen && seen.consumedPoints >= this.failures.points) throw new TooManyAttempts(SignInLimiter.wait(seen));
  }

  async failed(email: string): Promise<void> {
    try {
      await this.failures.consume(key('acct', email));
    } catch (res) {
      if (!(res instanceof RateLimiterRes)) throw res;
    }
  }

  async succeeded(email: string): Promise<void> {
    await this.failures.delete(key('acct', email));
  }

  /** Forgot-password, activation and reset submissions: per account and per address. */
  async beforeReset(subject: string, address: string): Promise<void> {
    for (const [limiter, k] of [[this.resets, key('reset-acct', subject)], [this.resetAddresses, key('reset-ip', address)]] as const) {
      try {
        await limiter.consume(k);
      } catch (res) {
        if (res instanceof RateLimiterRes) throw new TooManyAttempts(SignInLimiter.wait(res));
        throw res;
      }
    }
  }
}
