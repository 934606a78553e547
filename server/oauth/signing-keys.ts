// The server's JWT signing keys (issue 13): they sign the access tokens of SCIM clients
// (oauth/clients.ts) and are published at {PUBLIC_URL}/.well-known/jwks.json.
//
// Why jose: it does every JWS/JWK step (key generation, JWK export and import, thumbprints,
// signing, verification against a key set) with WebCrypto, is maintained, has no dependencies,
// and is already what openid-client runs on; our code only decides which key and which claims.
//
// - RS256 (RSA 2048): the algorithm every JWT library verifies (RFC 9068 §4 has resource servers
//   support it), so partners' gateways can check our tokens too.
// - Keys live in the database (oauth_signing_keys), the private half sealed with the server key
//   (security/keys.ts SecretBox, label per key id) and not readable by the application role at
//   all (migration 0012): it is loaded as the schema owner and kept in memory as a
//   non-extractable CryptoKey.
// - One key signs at a time. Rotation (operator API, CLI, or the hourly check once the key is
//   OAUTH_KEY_ROTATION_DAYS old) makes a new key the signer at once and keeps the old one
//   published until every token it can have signed has expired: the longest lifetime (360
//   minutes), plus the time another instance may go on signing with it before it reloads
//   (ACTIVE_CACHE_MS), plus a margin for clocks. Verification reloads the published keys when
//   a token names a key id it does not know (at most once per RELOAD_INTERVAL_MS), so a key
//   made by another instance is known at once. test/api/oauth-clients.test.ts, "key rotation".
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { calculateJwkThumbprint, createLocalJWKSet, CryptoKey, errors as joseErrors, exportJWK, generateKeyPair, importJWK, JWK, JWSHeaderParameters, FlattenedJWSInput, SignJWT, JWTPayload } from 'jose';
import type { SecretBox } from '../security/keys';
import * as repo from '../store/oauth-repo';
import { asOwner } from '../store/scope';

export const SIGNING_ALG = 'RS256';
/** The longest access-token lifetime a client may have (issue 13: 60 to 360 minutes). */
export const MAX_TOKEN_MINUTES = 360;
/** How long an instance signs with the key it loaded before it asks the database again. */
const ACTIVE_CACHE_MS = 60_000;
/** Margin for clocks between instances and relying parties. */
const SKEW_MS = 5 * 60_000;
/** At most one reload of the published keys per this interval on an unknown key id. */
const RELOAD_INTERVAL_MS = 5_000;
/** How long published keys are cached for verification when no unknown key id asks for more. */
const PUBLISHED_CACHE_MS = 60_000;

export interface SigningKeysDeps {
  knex: Knex;
  box: SecretBox;
  clock: () => Date;
  logger: Logger;
  /** A key older than this many days is replaced by the hourly check (0: never). */
  rotationDays: number;
}

type KeyResolver = (header: JWSHeaderParameters, token: FlattenedJWSInput) => Promise<CryptoKey>;

const sealLabel = (kid: string) => `oauth-signing-key:${kid}`;

export class SigningKeys {
  private active?: { kid: string; key: CryptoKey; loadedAt: number };
  private published?: { keys: JWK[]; resolve: KeyResolver; loadedAt: number };
  private loading?: Promise<void>;

  constructor(private readonly deps: SigningKeysDeps) {}

  private now(): number {
    return this.deps.clock().getTime();
  }

  private async newKey(): Promise<{ kid: string; publicJwk: JWK; privateSealed: string }> {
    const { publicKey, privateKey } = await generateKeyPair(SIGNING_ALG, { modulusLength: 2048, extractable: true });
    const publicJwk = await exportJWK(publicKey);
    // The RFC 7638 thumbprint names the key by its content, plus a random part so that two keys
    // can never share a kid.
    const kid = `${(await calculateJwkThumbprint(publicJwk)).slice(0, 16)}-${randomUUID().slice(0, 8)}`;
    const privateJwk = await exportJWK(privateKey);
    return { kid, publicJwk: { ...publicJwk, kid, alg: SIGNING_ALG, use: 'sig' }, privateSealed: this.deps.box.seal(JSON.stringify(privateJwk), sealLabel(kid)) };
  }

  /** The key that signs now: loaded from the database (made there on first use), cached a minute. */
  async signer(): Promise<{ kid: string; key: CryptoKey }> {
    const cached = this.active;
    if (cached && this.now() - cached.loadedAt < ACTIVE_CACHE_MS) return cached;
    let row = await asOwner(this.deps.knex, (trx) => repo.activeKey(trx));
    if (!row) {
      const k = await this.newKey();
      await asOwner(this.deps.knex, (trx) => repo.insertFirstKey(trx, { kid: k.kid, alg: SIGNING_ALG, publicJwk: k.publicJwk, privateSealed: k.privateSealed, now: this.deps.clock() }));
      row = await asOwner(this.deps.knex, (trx) => repo.activeKey(trx));
      if (!row) throw new Error('no active signing key after creating one');
      this.deps.logger.info({ kid: row.kid }, 'first OAuth signing key made');
    }
    const privateJwk = JSON.parse(this.deps.box.open(row.private_sealed, sealLabel(row.kid))) as JWK;
    const key = (await importJWK(privateJwk, row.alg, { extractable: false })) as CryptoKey;
    this.active = { kid: row.kid, key, loadedAt: this.now() };
    return this.active;
  }

  /** Signs a JWT with the active key; `typ` goes in the protected header (RFC 9068 §2.1: at+jwt). */
  async sign(payload: JWTPayload, typ: string): Promise<string> {
    const { kid, key } = await this.signer();
    return new SignJWT(payload).setProtectedHeader({ alg: SIGNING_ALG, typ, kid }).sign(key);
  }

  /** The public keys to publish now (the JWKS document's `keys`). */
  async jwks(): Promise<JWK[]> {
    await this.signer(); // the first key exists before anyone asks for the set
    const rows = await repo.publishedKeys(this.deps.knex, this.deps.clock());
    return rows.map((r) => ({ ...(r.public_jwk as JWK), kid: r.kid, alg: r.alg, use: 'sig' }));
  }

  private async reloadPublished(): Promise<void> {
    this.loading ??= (async () => {
      try {
        const keys = await this.jwks();
        this.published = { keys, resolve: createLocalJWKSet({ keys }) as KeyResolver, loadedAt: this.now() };
      } finally {
        this.loading = undefined;
      }
    })();
    await this.loading;
  }

  /**
   * The key resolver for jose's jwtVerify: the published keys, reloaded when they are a minute
   * old or when a token names an unknown key id (at most once per RELOAD_INTERVAL_MS, so tokens
   * with made-up key ids cannot send a query each).
   */
  readonly verificationKey: KeyResolver = async (header, token) => {
    if (!this.published || this.now() - this.published.loadedAt >= PUBLISHED_CACHE_MS) await this.reloadPublished();
    try {
      return await this.published!.resolve(header, token);
    } catch (err) {
      if (!(err instanceof joseErrors.JWKSNoMatchingKey) || this.now() - this.published!.loadedAt < RELOAD_INTERVAL_MS) throw err;
      await this.reloadPublished();
      return this.published!.resolve(header, token);
    }
  };

  /** Forgets what this instance cached (after a rotation here). */
  forget(): void {
    this.active = undefined;
    this.published = undefined;
  }

  /**
   * Makes a new key the signer; the old one stays published until every token it signed has
   * expired. Returns the new and the retired key ids (retired undefined when there was none).
   */
  async rotate(): Promise<{ kid: string; retired?: string; publishUntil?: Date }> {
    const current = await this.signer();
    const k = await this.newKey();
    const now = this.deps.clock();
    const publishUntil = new Date(now.getTime() + MAX_TOKEN_MINUTES * 60_000 + ACTIVE_CACHE_MS + SKEW_MS);
    const won = await asOwner(this.deps.knex, (trx) => repo.rotateKey(trx, current.kid, publishUntil, { kid: k.kid, alg: SIGNING_ALG, publicJwk: k.publicJwk, privateSealed: k.privateSealed, now }));
    this.forget();
    const signer = await this.signer();
    if (!won) return { kid: signer.kid };
    this.deps.logger.info({ kid: k.kid, retired: current.kid, publishUntil }, 'OAuth signing key rotated');
    return { kid: k.kid, retired: current.kid, publishUntil };
  }

  /** The scheduled check: rotates a key older than rotationDays; forgets keys no longer published. */
  async maintain(): Promise<{ rotated: boolean; deleted: number }> {
    const now = this.deps.clock();
    const deleted = await asOwner(this.deps.knex, (trx) => repo.deleteUnpublishedKeys(trx, now));
    if (!this.deps.rotationDays) return { rotated: false, deleted };
    const row = await asOwner(this.deps.knex, (trx) => repo.activeKey(trx));
    const due = !row || now.getTime() - new Date(row.created_at).getTime() >= this.deps.rotationDays * 86_400_000;
    if (due && row) await this.rotate();
    return { rotated: !!(due && row), deleted };
  }

  /** The published keys with their dates (operator API). */
  async describe(): Promise<{ kid: string; alg: string; createdAt: string; retiredAt: string | null; publishUntil: string | null; signing: boolean }[]> {
    await this.signer();
    const rows = await repo.publishedKeys(this.deps.knex, this.deps.clock());
    const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);
    return rows.map((r) => ({ kid: r.kid, alg: r.alg, createdAt: iso(r.created_at)!, retiredAt: iso(r.retired_at), publishUntil: iso(r.publish_until), signing: !r.retired_at }));
  }

  /** A fresh id for a token (RFC 9068 §2.2 jti). */
  static jti(): string {
    return randomUUID();
  }
}
