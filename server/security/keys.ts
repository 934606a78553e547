// The server's secret material: one master key, from SECRET_KEY or, when the operator set none,
// generated once and kept in the database (server_keys) so every instance on that database
// shares it. Everything else is derived from it with HKDF (RFC 5869), one label per use, so a
// key is never used for two purposes: sealing stored secrets (SSO client secrets, outbox mail),
// signing session cookies, CSRF tokens, and known-device cookies.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { asOwner } from '../store/scope';
import { ensureMasterKey } from '../store/server-keys-repo';

/**
 * AES-256-GCM over UTF-8 text. Output: "v1.<iv>.<ciphertext+tag>" in base64url. The label is
 * authenticated data, so a value sealed for one purpose cannot be opened as another.
 */
export class SecretBox {
  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error('SecretBox needs a 32-byte key');
  }

  seal(plain: string, label: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(label));
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return `v1.${iv.toString('base64url')}.${body.toString('base64url')}`;
  }

  open(sealed: string, label: string): string {
    const [version, ivText, bodyText] = sealed.split('.');
    if (version !== 'v1' || !ivText || !bodyText) throw new Error('Not a sealed value');
    const body = Buffer.from(bodyText, 'base64url');
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(ivText, 'base64url'));
    decipher.setAAD(Buffer.from(label));
    decipher.setAuthTag(body.subarray(body.length - 16));
    return Buffer.concat([decipher.update(body.subarray(0, body.length - 16)), decipher.final()]).toString('utf8');
  }
}

export interface ServerKeys {
  box: SecretBox;
  /** Signs the session cookie (express-session `secret`). */
  cookieSecret: string;
  /** Binds CSRF tokens (csrf-csrf `getSecret`). */
  csrfSecret: string;
  /** Signs known-device cookies (front-door/device-cookie.ts). */
  deviceSecret: string;
}

function derive(master: Buffer, label: string): Buffer {
  return Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), `provisio ${label}`, 32));
}

export function keysFrom(master: Buffer): ServerKeys {
  return {
    box: new SecretBox(derive(master, 'secret-box')),
    cookieSecret: derive(master, 'session-cookie').toString('base64url'),
    csrfSecret: derive(master, 'csrf').toString('base64url'),
    deviceSecret: derive(master, 'device-cookie').toString('base64url'),
  };
}

/**
 * The master key: SECRET_KEY when configured; otherwise the one stored in the database, made on
 * first start (INSERT … ON CONFLICT DO NOTHING, so instances starting together agree).
 */
export async function loadServerKeys(knex: Knex, configured: string | undefined, logger: Logger): Promise<ServerKeys> {
  if (configured) return keysFrom(Buffer.from(hkdfSync('sha256', Buffer.from(configured, 'utf8'), Buffer.alloc(0), 'provisio master', 32)));
  const value = await asOwner(knex, (trx) => ensureMasterKey(trx, randomBytes(32).toString('base64url')));
  logger.warn('SECRET_KEY is not set: using a key kept in the database (set SECRET_KEY in production, docs/configuration.md)');
  return keysFrom(Buffer.from(value, 'base64url'));
}
