// Configuration: the only module that reads process.env. Every key is validated at start so a
// bad value stops the process with a message that names the key (docs/configuration.md).
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import shippedPermissions from '../config/permissions.json';
import { parsePermissionCatalogue, Permission } from './permission-catalogue';
import type { PoolerMode } from './store/pg-client';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface Config {
  port: number;
  /** Absolute base URL clients use to reach us, without a trailing slash. */
  publicUrl: string;
  /** postgres:// URL, or undefined for the embedded PGlite database under dataDir. */
  databaseUrl?: string;
  /**
   * 'transaction' when DATABASE_URL goes through a pooler in transaction pooling (PgBouncer
   * pool_mode = transaction): the server then keeps no session state and names no statements
   * (store/pg-client.ts, docs/operations.md).
   */
  databasePooler: PoolerMode;
  dataDir: string;
  /** Enables /operator/v1 when set. */
  operatorToken?: string;
  logLevel: LogLevel;
  /** Connections in the pg pool (ignored for the embedded database, which has one). */
  dbPoolSize: number;
  /** Largest accepted request body in bytes; larger bodies get 413. */
  maxBodyBytes: number;
  /** Time allowed for in-flight requests after SIGTERM before the process exits anyway. */
  shutdownGraceMs: number;
  /** Master key for sealing stored secrets, cookies and CSRF tokens; undefined: one kept in the database. */
  secretKey?: string;
  /** smtp:// or smtps:// URL of the mail relay; undefined: mail is kept for operators to read (docs/emails.md). */
  smtpUrl?: string;
  /** The From: address of every email. */
  mailFrom: string;
  /** How often the mail worker looks for due messages. */
  mailPollMs: number;
  /**
   * SMTP_POOL: reuse SMTP connections for a batch of messages (mail/transport.ts); false: one
   * connection per message. With the pool, up to smtpMaxConnections at once, each replaced after
   * smtpMaxMessages messages.
   */
  smtpPool: boolean;
  smtpMaxConnections: number;
  smtpMaxMessages: number;
  /** A signed-in session ends after this long without a request… */
  sessionIdleMinutes: number;
  /** …and after this long in any case. */
  sessionAbsoluteHours: number;
  /** How long an activation link works. */
  activationLinkDays: number;
  /** The privacy policy people accept at activation: its version (recorded) and where to read it. */
  privacyPolicyVersion: string;
  privacyPolicyUrl: string;
  /**
   * Which peers' X-Forwarded-* headers are believed (Express "trust proxy"): the client address
   * that per-address rate limits count comes from there, so an untrusted client must not be able
   * to choose it.
   */
  trustProxy: boolean | number | string;
  /**
   * The DNS servers the server asks (domain proofs, IdP host names), each as Resolver#setServers
   * takes it ('192.0.2.53', '192.0.2.53:5353', '[2001:db8::53]:53'); undefined: the system's.
   */
  dnsServers?: string[];
  /** Development only: plain-http issuers on a loopback host (SSO_ALLOW_INSECURE_ISSUERS). */
  ssoAllowInsecureIssuers: boolean;
  /** Issuers and IdP endpoints on private, loopback or CGNAT addresses (SSO_ALLOW_PRIVATE_ISSUERS). */
  ssoAllowPrivateIssuers: boolean;
  /** A separate listener for GET /metrics, without a token (METRICS_PORT); undefined: on the main port behind the operator token. */
  metricsPort?: number;
  /** The address that listener binds to (METRICS_HOST, default 127.0.0.1). */
  metricsHost: string;
  /** Days after which the hourly check replaces the OAuth signing key (OAUTH_KEY_ROTATION_DAYS; 0: only when the operator asks). */
  oauthKeyRotationDays: number;
  /** Least time between two fetches of an external issuer's JWKS for an unknown key id (SCIM_JWKS_COOLDOWN_SECONDS). */
  scimJwksCooldownSeconds: number;
  /** SCIM events (docs/events.md): how often the push worker looks for due events (EVENTS_PUSH_POLL_MS). */
  eventsPushPollMs: number;
  /** Failures in a row after which a push stream is paused (EVENTS_PAUSE_AFTER_FAILURES). */
  eventsPauseAfterFailures: number;
  /** How long a poll without returnImmediately waits for an event (EVENTS_LONG_POLL_SECONDS). */
  eventsLongPollSeconds: number;
  /**
   * The platform's permission catalogue (issue 10): PERMISSIONS_FILE, else the shipped
   * config/permissions.json. Permission profiles grant subsets of it.
   */
  permissions: Permission[];
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

const LOG_LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const POOLER_MODES: PoolerMode[] = ['none', 'transaction'];

function integer(env: NodeJS.ProcessEnv, key: string, fallback: number, min: number, max: number): number {
  const raw = env[key];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(`${key} must be a whole number, got "${raw}"`);
  const value = Number(raw.trim());
  if (value < min || value > max) throw new ConfigError(`${key} must be between ${min} and ${max}, got ${value}`);
  return value;
}

/** A URL as an error message may show it: never its password (DATABASE_URL, SMTP_URL). */
const redactUrl = (raw: string) => raw.replace(/\/\/[^/@\s]*@/, '//***@');

function url(key: string, raw: string, protocols: string[]): URL {
  const shown = redactUrl(raw);
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(`${key} must be an absolute URL, got "${shown}"`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(`${key} must start with ${protocols.map((p) => p + '//').join(' or ')}, got "${shown}"`);
  }
  return parsed;
}

function flag(env: NodeJS.ProcessEnv, key: string, fallback = false): boolean {
  const raw = env[key]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'false') return false;
  if (raw === 'true') return true;
  throw new ConfigError(`${key} must be true or false, got "${env[key]}"`);
}

/**
 * DNS_SERVERS: comma-separated addresses, each an IP literal with an optional port (IPv6 with a
 * port in brackets). Names are refused: the resolver cannot look up its own servers.
 */
export function dnsServers(raw: string | undefined): string[] | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  return raw.split(',').map((part) => {
    const entry = part.trim();
    const bad = () => new ConfigError(`DNS_SERVERS must list IP addresses with optional ports, like "192.0.2.53, 192.0.2.54:5353, [2001:db8::53]:53"; got "${entry}"`);
    let host = entry;
    let port: string | undefined;
    const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
    if (bracketed) [, host, port] = bracketed;
    else if (isIP(entry) === 0 && /^[^:]+:\d+$/.test(entry)) [host, port] = entry.split(':');
    if (isIP(host) === 0 || (bracketed && isIP(host) !== 6)) throw bad();
    if (port !== undefined && (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535)) throw bad();
    if (port === undefined) return host;
    return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
  });
}

/**
 * PERMISSIONS_FILE: the path of a JSON permission catalogue (server/permission-catalogue.ts),
 * relative to the working directory; unset: the catalogue shipped in config/permissions.json.
 * A file that cannot be read, is not JSON or is not a catalogue stops the process, naming the key.
 */
export function permissionCatalogue(raw: string | undefined): Permission[] {
  const file = raw?.trim();
  if (!file) return parsePermissionCatalogue(shippedPermissions);
  const where = `PERMISSIONS_FILE "${file}"`;
  let text: string;
  try {
    text = readFileSync(path.resolve(file), 'utf8');
  } catch (err) {
    throw new ConfigError(`${where} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${where} is not valid JSON: ${(err as Error).message}`);
  }
  try {
    return parsePermissionCatalogue(json);
  } catch (err) {
    throw new ConfigError(`${where} ${(err as Error).message}`);
  }
}

/** Reads and validates the configuration; throws ConfigError naming the first bad key. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const port = integer(env, 'PORT', 8080, 0, 65535);

  const publicRaw = env.PUBLIC_URL?.trim() || `http://localhost:${port}`;
  const publicUrl = url('PUBLIC_URL', publicRaw, ['http:', 'https:']);
  if (publicUrl.search || publicUrl.hash) throw new ConfigError('PUBLIC_URL must not carry a query or a fragment');
  // Okta refuses SCIM base URLs that contain "_" (docs/okta.md); every tenant URL is built on this one.
  if (publicUrl.href.includes('_')) throw new ConfigError('PUBLIC_URL must not contain "_" (Okta refuses such SCIM URLs)');

  let databaseUrl: string | undefined;
  if (env.DATABASE_URL && env.DATABASE_URL.trim() !== '') {
    databaseUrl = env.DATABASE_URL.trim();
    url('DATABASE_URL', databaseUrl, ['postgres:', 'postgresql:']);
  }

  const poolerRaw = env.DATABASE_POOLER?.trim().toLowerCase() || 'none';
  if (!POOLER_MODES.includes(poolerRaw as PoolerMode)) {
    throw new ConfigError(`DATABASE_POOLER must be one of ${POOLER_MODES.join(', ')}, got "${env.DATABASE_POOLER}"`);
  }
  const databasePooler = poolerRaw as PoolerMode;
  // The embedded database has no pooler; a setting that would change nothing is a mistake to say.
  if (databasePooler !== 'none' && databaseUrl === undefined) throw new ConfigError('DATABASE_POOLER applies to DATABASE_URL, which is not set');

  const logLevel = (env.LOG_LEVEL?.trim().toLowerCase() || 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${env.LOG_LEVEL}"`);
  }

  const operatorToken = env.OPERATOR_TOKEN && env.OPERATOR_TOKEN !== '' ? env.OPERATOR_TOKEN : undefined;
  if (operatorToken !== undefined && operatorToken.length < 16) {
    throw new ConfigError('OPERATOR_TOKEN must be at least 16 characters long');
  }

  const secretKey = env.SECRET_KEY && env.SECRET_KEY !== '' ? env.SECRET_KEY : undefined;
  if (secretKey !== undefined && secretKey.length < 32) throw new ConfigError('SECRET_KEY must be at least 32 characters long');
  let smtpUrl: string | undefined;
  if (env.SMTP_URL && env.SMTP_URL.trim() !== '') {
    smtpUrl = env.SMTP_URL.trim();
    url('SMTP_URL', smtpUrl, ['smtp:', 'smtps:']);
  }
  const mailFrom = env.MAIL_FROM?.trim() || `Provisio <no-reply@${publicUrl.hostname}>`;
  if (!/^[^\s@<>]+@[^\s@<>]+$|<[^\s@<>]+@[^\s@<>]+>$/.test(mailFrom)) throw new ConfigError(`MAIL_FROM must be an email address, got "${mailFrom}"`);
  const smtpPool = flag(env, 'SMTP_POOL', true);
  const privacyPolicyUrl = env.PRIVACY_POLICY_URL?.trim() || `${publicUrl.href.replace(/\/+$/, '')}/privacy`;
  url('PRIVACY_POLICY_URL', privacyPolicyUrl, ['http:', 'https:']);

  const trustRaw = env.TRUST_PROXY?.trim() || 'loopback, linklocal, uniquelocal';
  let trustProxy: boolean | number | string = trustRaw;
  if (trustRaw === 'true' || trustRaw === 'false') trustProxy = trustRaw === 'true';
  else if (/^\d+$/.test(trustRaw)) trustProxy = Number(trustRaw);
  else if (!/^[\w.:/, -]+$/.test(trustRaw)) throw new ConfigError(`TRUST_PROXY must be true, false, a number of hops or a list of addresses/subnets, got "${trustRaw}"`);
  const dns = dnsServers(env.DNS_SERVERS);
  const ssoAllowInsecureIssuers = flag(env, 'SSO_ALLOW_INSECURE_ISSUERS');
  const ssoAllowPrivateIssuers = flag(env, 'SSO_ALLOW_PRIVATE_ISSUERS');
  const permissions = permissionCatalogue(env.PERMISSIONS_FILE);

  let metricsPort: number | undefined;
  if (env.METRICS_PORT !== undefined && env.METRICS_PORT.trim() !== '') metricsPort = integer(env, 'METRICS_PORT', 0, 1, 65535);
  const metricsHost = env.METRICS_HOST?.trim() || '127.0.0.1';
  if (isIP(metricsHost) === 0 && metricsHost !== 'localhost') throw new ConfigError(`METRICS_HOST must be an IP address (such as 127.0.0.1, 0.0.0.0 or ::) or localhost, got "${metricsHost}"`);
  if (metricsPort !== undefined && metricsPort === port) throw new ConfigError('METRICS_PORT must differ from PORT');

  return {
    port,
    publicUrl: publicUrl.href.replace(/\/+$/, ''),
    databaseUrl,
    databasePooler,
    dataDir: path.resolve(env.DATA_DIR?.trim() || './data'),
    operatorToken,
    logLevel,
    dbPoolSize: integer(env, 'DB_POOL_SIZE', 10, 1, 500),
    maxBodyBytes: integer(env, 'MAX_BODY_BYTES', 1_048_576, 1024, 104_857_600),
    shutdownGraceMs: integer(env, 'SHUTDOWN_GRACE_MS', 10_000, 0, 600_000),
    secretKey,
    smtpUrl,
    mailFrom,
    mailPollMs: integer(env, 'MAIL_POLL_MS', 2000, 50, 3_600_000),
    smtpPool,
    smtpMaxConnections: integer(env, 'SMTP_MAX_CONNECTIONS', 2, 1, 20),
    smtpMaxMessages: integer(env, 'SMTP_MAX_MESSAGES', 100, 1, 100_000),
    sessionIdleMinutes: integer(env, 'SESSION_IDLE_MINUTES', 30, 1, 10_080),
    sessionAbsoluteHours: integer(env, 'SESSION_ABSOLUTE_HOURS', 12, 1, 720),
    activationLinkDays: integer(env, 'ACTIVATION_LINK_DAYS', 7, 1, 90),
    privacyPolicyVersion: env.PRIVACY_POLICY_VERSION?.trim() || '1',
    privacyPolicyUrl,
    trustProxy,
    dnsServers: dns,
    ssoAllowInsecureIssuers,
    ssoAllowPrivateIssuers,
    metricsPort,
    metricsHost,
    oauthKeyRotationDays: integer(env, 'OAUTH_KEY_ROTATION_DAYS', 90, 0, 3650),
    scimJwksCooldownSeconds: integer(env, 'SCIM_JWKS_COOLDOWN_SECONDS', 30, 0, 3600),
    eventsPushPollMs: integer(env, 'EVENTS_PUSH_POLL_MS', 2000, 50, 3_600_000),
    eventsPauseAfterFailures: integer(env, 'EVENTS_PAUSE_AFTER_FAILURES', 10, 1, 1000),
    eventsLongPollSeconds: integer(env, 'EVENTS_LONG_POLL_SECONDS', 15, 0, 120),
    permissions,
  };
}
