// Rate limits on sign-in and reset attempts (issue 5; reworked by issue 9, points 6 and 11).
// Why rate-limiter-flexible: counters live in PostgreSQL (table rate_limits, migration 0007), so
// every instance behind the load balancer counts together, a point is taken by one atomic
// upsert (so concurrent requests cannot all slip under a limit), and it computes the wait for
// Retry-After. Keys are hashed: no email address or IP is stored in clear.
//
// Password sign-in, and why it cannot be used to lock anyone out. The old rule — ten failures
// for an email lock it for everyone for 15 minutes — let anyone keep anyone (the primary admin
// included) out by typing wrong passwords for their address. Now:
//
//   - a browser holding the account's "known device" cookie (device-cookie.ts, issued at every
//     successful sign-in) is counted on its own: `deviceAttempts` per device. Nobody else can
//     spend that budget, so the real person always gets in from a browser they used before;
//   - any other attempt is counted per (email, client address) — that pair waits after
//     `pairAttempts` —, per client address (`addressAttempts`, all emails), and against the
//     account's budget for unknown browsers (`accountAttempts`, all addresses together), which
//     is what slows an attacker spraying from many addresses;
//   - someone with no known device while that budget is spent gets in by the reset link, which
//     proves their mailbox, signs them in, and makes that browser a known device.
//
// Every point is taken BEFORE the password is checked (issue 9, point 11): sixty wrong passwords
// sent at once cost at most `pairAttempts` Argon2 verifications, not sixty; a success gives the
// pair's (or the device's) points back. test/api/front-door.test.ts, "rate limits".
import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible';
import { rateLimitStore } from '../store/rate-limit-store';

export interface Limits {
  /** Password sign-in attempts for one email from one client address; then that pair waits out the window. */
  pairAttempts: number;
  /** Password sign-in attempts for one email from browsers without its device cookie, all addresses together. */
  accountAttempts: number;
  /** Password sign-in attempts per client address, any email. */
  addressAttempts: number;
  /** Password sign-in attempts from one known device (device cookie) for its email. */
  deviceAttempts: number;
  /** Forgot-password and reset requests per account, and per address, in an hour. */
  resetRequests: number;
  resetAddressRequests: number;
  windowSeconds: number;
}

export const DEFAULT_LIMITS: Limits = {
  pairAttempts: 10,
  accountAttempts: 50,
  addressAttempts: 100,
  deviceAttempts: 10,
  resetRequests: 5,
  resetAddressRequests: 50,
  windowSeconds: 15 * 60,
};

const key = (kind: string, value: string) => createHash('sha256').update(`${kind}:${value.toLowerCase()}`).digest('hex');

export class TooManyAttempts extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super('Too many attempts');
  }
}

/** Who is attempting a password sign-in: the email typed, the client address, the device if known. */
export interface Attempt {
  email: string;
  address: string;
  /** The device id from a valid device cookie for this email (DeviceCookies.trusted). */
  device?: string;
}

export class SignInLimiter {
  private readonly pairs: RateLimiterPostgres;
  private readonly accounts: RateLimiterPostgres;
  private readonly addresses: RateLimiterPostgres;
  private readonly devices: RateLimiterPostgres;
  private readonly resets: RateLimiterPostgres;
  private readonly resetAddresses: RateLimiterPostgres;

  constructor(
    knex: Knex,
    limits: Limits = DEFAULT_LIMITS,
    /** Told of every refusal (metrics: provisio_rate_limit_refusals_total). */
    private readonly onRefused?: (limit: 'sign_in' | 'reset') => void,
  ) {
    // Through our knex client, not around it: store/rate-limit-store.ts says why.
    const common = { storeClient: rateLimitStore(knex), storeType: 'pool', tableName: 'rate_limits', tableCreated: true, duration: limits.windowSeconds };
    const blocking = { blockDuration: limits.windowSeconds };
    this.pairs = new RateLimiterPostgres({ ...common, ...blocking, keyPrefix: 'pair', points: limits.pairAttempts });
    this.accounts = new RateLimiterPostgres({ ...common, keyPrefix: 'acct', points: limits.accountAttempts });
    this.addresses = new RateLimiterPostgres({ ...common, keyPrefix: 'addr', points: limits.addressAttempts });
    this.devices = new RateLimiterPostgres({ ...common, ...blocking, keyPrefix: 'device', points: limits.deviceAttempts });
    this.resets = new RateLimiterPostgres({ ...common, keyPrefix: 'reset', points: limits.resetRequests, duration: 3600 });
    this.resetAddresses = new RateLimiterPostgres({ ...common, keyPrefix: 'reset-ip', points: limits.resetAddressRequests, duration: 3600 });
  }

  private static wait(res: RateLimiterRes | null): number {
    return Math.max(1, Math.ceil((res?.msBeforeNext ?? 1000) / 1000));
  }

  /** Takes one point; over the limit, TooManyAttempts with the wait. */
  private static async take(limiter: RateLimiterPostgres, k: string): Promise<void> {
    try {
      await limiter.consume(k);
    } catch (res) {
      if (res instanceof RateLimiterRes) throw new TooManyAttempts(SignInLimiter.wait(res));
      throw res;
    }
  }

  private static keys(a: Attempt) {
    return { pair: key('pair', `${a.email}\n${a.address}`), account: key('acct', a.email), address: key('ip', a.address), device: key('device', a.device ?? '') };
  }

  /**
   * Spends this attempt's points before the password is checked; throws TooManyAttempts when it
   * may not be checked now. A known device spends only its own; anyone else spends the
   * address's, the pair's and the account's, in that order (a refusal by a later one gives the
   * pair's point back, so only checked attempts count against it).
   */
  async beforeSignIn(a: Attempt): Promise<void> {
    return this.counted('sign_in', () => this.spendSignIn(a));
  }

  private async counted(limit: 'sign_in' | 'reset', spend: () => Promise<void>): Promise<void> {
    try {
      await spend();
    } catch (err) {
      if (err instanceof TooManyAttempts) this.onRefused?.(limit);
      throw err;
    }
  }

  private async spendSignIn(a: Attempt): Promise<void> {
    const k = SignInLimiter.keys(a);
    if (a.device) return SignInLimiter.take(this.devices, k.device);
    await SignInLimiter.take(this.addresses, k.address);
    await SignInLimiter.take(this.pairs, k.pair);
    try {
      await SignInLimiter.take(this.accounts, k.account);
    } catch (err) {
      await this.pairs.reward(k.pair, 1);
      throw err;
    }
  }

  /** A right password: the person's own mistakes (from this browser or address) are forgiven. */
  async succeeded(a: Attempt): Promise<void> {
    const k = SignInLimiter.keys(a);
    await (a.device ? this.devices.delete(k.device) : this.pairs.delete(k.pair));
  }

  /** Forgot-password, activation and reset submissions: per account and per address. */
  async beforeReset(subject: string, address: string): Promise<void> {
    return this.counted('reset', async () => {
      await SignInLimiter.take(this.resets, key('reset-acct', subject));
      await SignInLimiter.take(this.resetAddresses, key('reset-ip', address));
    });
  }
}
