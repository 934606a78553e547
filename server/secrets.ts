// The secrets the server hands out — API tokens, one-time link secrets, session ids — and the hash
// kept of them at rest. Tokens are 256 random bits; only their SHA-256 is stored.
// A fast hash is the right tool for high-entropy secrets (no dictionary to slow down), and it
// lets the lookup be a single indexed equality.
import { createHash, randomBytes } from 'node:crypto';

export const TOKEN_PREFIX = 'pvs_';

export function generateToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/**
 * Reads a bearer token from an Authorization header. The scheme is case-insensitive
 * (RFC 7235 §2.1, RFC 6750 §2.1); returns undefined for anything else.
 */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^\s*bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1] : undefined;
}
