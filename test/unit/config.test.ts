// Configuration is validated at start with a message naming the key (docs/configuration.md).
import path from 'node:path';
import { ConfigError, loadConfig } from '../../server/config';

describe('loadConfig', () => {
  it('has working defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ port: 8080, publicUrl: 'http://localhost:8080', databaseUrl: undefined, logLevel: 'info', operatorToken: undefined });
    expect(c.dataDir).toBe(path.resolve('./data'));
  });

  it('derives PUBLIC_URL from PORT and strips a trailing slash', () => {
    expect(loadConfig({ PORT: '9000' }).publicUrl).toBe('http://localhost:9000');
    expect(loadConfig({ PUBLIC_URL: 'https://id.example.com/provisio/' }).publicUrl).toBe('https://id.example.com/provisio');
  });

  it.each([
    [{ PORT: 'abc' }, /PORT must be a whole number/],
    [{ PORT: '70000' }, /PORT must be between 0 and 65535/],
    [{ PUBLIC_URL: 'localhost:8080' }, /PUBLIC_URL must start with http:\/\/ or https:\/\//],
    [{ PUBLIC_URL: 'not a url' }, /PUBLIC_URL must be an absolute URL/],
    [{ PUBLIC_URL: 'https://my_host.example.com' }, /PUBLIC_URL must not contain "_"/],
    [{ PUBLIC_URL: 'https://x.example.com/?a=1' }, /PUBLIC_URL must not carry a query/],
    [{ DATABASE_URL: 'mysql://root@localhost/db' }, /DATABASE_URL must start with postgres:\/\//],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL must be one of/],
    [{ OPERATOR_TOKEN: 'short' }, /OPERATOR_TOKEN must be at least 16 characters/],
    [{ DB_POOL_SIZE: '0' }, /DB_POOL_SIZE must be between 1 and 500/],
    [{ DATABASE_URL: 'postgres://u@h/db', DATABASE_POOLER: 'statement' }, /DATABASE_POOLER must be one of none, transaction, got "statement"/],
    [{ DATABASE_POOLER: 'transaction' }, /DATABASE_POOLER applies to DATABASE_URL, which is not set/],
  ])('rejects %j', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('pools SMTP connections unless SMTP_POOL=false; SMTP_MAX_CONNECTIONS and SMTP_MAX_MESSAGES bounded', () => {
    expect(loadConfig({})).toMatchObject({ smtpPool: true, smtpMaxConnections: 2, smtpMaxMessages: 100 });
    expect(loadConfig({ SMTP_POOL: 'false', SMTP_MAX_CONNECTIONS: '5', SMTP_MAX_MESSAGES: '1000' })).toMatchObject({ smtpPool: false, smtpMaxConnections: 5, smtpMaxMessages: 1000 });
    expect(loadConfig({ SMTP_POOL: ' TRUE ' }).smtpPool).toBe(true);
    expect(() => loadConfig({ SMTP_POOL: 'yes' })).toThrow(/SMTP_POOL must be true or false, got "yes"/);
    expect(() => loadConfig({ SMTP_MAX_CONNECTIONS: '0' })).toThrow(/SMTP_MAX_CONNECTIONS must be between 1 and 20/);
    expect(() => loadConfig({ SMTP_MAX_MESSAGES: 'many' })).toThrow(/SMTP_MAX_MESSAGES must be a whole number/);
  });

  it('accepts postgres and postgresql URLs', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://u@h/db' }).databaseUrl).toBe('postgres://u@h/db');
    expect(loadConfig({ DATABASE_URL: 'postgresql://u@h/db' }).databaseUrl).toBe('postgresql://u@h/db');
  });

  it('reads DATABASE_POOLER: none unless told, transaction for a transaction pooler (any case)', () => {
    expect(loadConfig({}).databasePooler).toBe('none');
    expect(loadConfig({ DATABASE_URL: 'postgres://u@h/db' }).databasePooler).toBe('none');
    expect(loadConfig({ DATABASE_URL: 'postgres://u@h:6432/db', DATABASE_POOLER: ' Transaction ' }).databasePooler).toBe('transaction');
    expect(loadConfig({ DATABASE_URL: 'postgres://u@h/db', DATABASE_POOLER: 'none' }).databasePooler).toBe('none');
  });
});

describe('secrets in configuration errors', () => {
  it('never prints the password of a bad DATABASE_URL or SMTP_URL', () => {
    expect(() => loadConfig({ SMTP_URL: 'http://mailer:s3cret-pass@relay.example' })).toThrow(/SMTP_URL must start with smtp:\/\/ or smtps:\/\/, got "http:\/\/\*\*\*@relay.example"/);
    expect(() => loadConfig({ DATABASE_URL: 'mysql://app:s3cret-pass@db' })).toThrow(/\*\*\*@db/);
    for (const env of [{ SMTP_URL: 'http://mailer:s3cret-pass@relay.example' }, { DATABASE_URL: 'mysql://app:s3cret-pass@db' }]) {
      try {
        loadConfig(env);
      } catch (err) {
        expect(String(err)).not.toContain('s3cret-pass');
      }
    }
  });

  it('checks the front door keys', () => {
    expect(() => loadConfig({ SECRET_KEY: 'short' })).toThrow(/SECRET_KEY must be at least 32/);
    expect(() => loadConfig({ SESSION_IDLE_MINUTES: '0' })).toThrow(/SESSION_IDLE_MINUTES/);
    expect(() => loadConfig({ MAIL_FROM: 'not an address' })).toThrow(/MAIL_FROM/);
    const c = loadConfig({ PUBLIC_URL: 'https://id.example' });
    expect(c).toMatchObject({ sessionIdleMinutes: 30, sessionAbsoluteHours: 12, activationLinkDays: 7, privacyPolicyVersion: '1', privacyPolicyUrl: 'https://id.example/privacy', mailFrom: 'Provisio <no-reply@id.example>' });
  });
});

describe('TRUST_PROXY', () => {
  it.each([
    [undefined, 'loopback, linklocal, uniquelocal'],
    ['true', true],
    ['false', false],
    ['2', 2],
    ['10.0.0.0/8, 127.0.0.1', '10.0.0.0/8, 127.0.0.1'],
  ])('%j → %j', (raw, value) => {
    expect(loadConfig(raw === undefined ? {} : { TRUST_PROXY: raw }).trustProxy).toEqual(value);
  });
  it('refuses anything else', () => {
    expect(() => loadConfig({ TRUST_PROXY: 'everyone; rm -rf' })).toThrow(/TRUST_PROXY/);
  });
});

describe('DNS_SERVERS and the SSO network settings', () => {
  it.each([
    [undefined, undefined],
    ['', undefined],
    ['192.0.2.53', ['192.0.2.53']],
    [' 192.0.2.53:5353 , 192.0.2.54 ', ['192.0.2.53:5353', '192.0.2.54']],
    ['2001:db8::53', ['2001:db8::53']],
    ['[2001:db8::53]:53', ['[2001:db8::53]:53']],
    ['127.0.0.1:1', ['127.0.0.1:1']],
  ])('%j → %j', (raw, servers) => {
    expect(loadConfig(raw === undefined ? {} : { DNS_SERVERS: raw }).dnsServers).toEqual(servers);
  });

  it.each(['dns.example.com', '192.0.2.53:0', '192.0.2.53:70000', '[192.0.2.53]:53', '192.0.2.53,', '1.2.3'])('refuses DNS_SERVERS=%j', (raw) => {
    expect(() => loadConfig({ DNS_SERVERS: raw })).toThrow(/DNS_SERVERS must list IP addresses/);
  });

  it('SSO_ALLOW_INSECURE_ISSUERS and SSO_ALLOW_PRIVATE_ISSUERS are off unless true', () => {
    expect(loadConfig({})).toMatchObject({ ssoAllowInsecureIssuers: false, ssoAllowPrivateIssuers: false });
    expect(loadConfig({ SSO_ALLOW_INSECURE_ISSUERS: 'true', SSO_ALLOW_PRIVATE_ISSUERS: 'TRUE' })).toMatchObject({ ssoAllowInsecureIssuers: true, ssoAllowPrivateIssuers: true });
    expect(() => loadConfig({ SSO_ALLOW_PRIVATE_ISSUERS: 'yes' })).toThrow(/SSO_ALLOW_PRIVATE_ISSUERS must be true or false/);
  });
});
