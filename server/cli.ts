// Operator CLI over the same operations as the operator API:
//   provisio migrate
//   provisio tenants create --name NAME --admin-email EMAIL [--given-name G] [--family-name F]
//   provisio tenants list
// Uses DATABASE_URL / DATA_DIR like the server. Prints JSON on stdout.
import { loadConfig, ConfigError } from './config';
import { createDeps, Deps } from './deps';
import { openDatabase } from './store/db';
import { createLogger } from './logger';
import { ScimError } from './errors';
import { parseNewTenant } from './tenancy/tenant-service';

const USAGE = `usage:
  provisio migrate
  provisio tenants create --name NAME --admin-email EMAIL [--given-name G] [--family-name F]
  provisio tenants list`;

/** A command line the CLI cannot run: printed with the usage, exit code 2. */
class UsageError extends Error {}

function flags(args: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (!a.startsWith('--')) throw new UsageError(`unexpected argument "${a}"`);
    const v = args[i + 1];
    if (v === undefined || v.startsWith('--')) throw new UsageError(`${a} needs a value`);
    out[a.slice(2)] = v;
    i++;
  }
  return out;
}

export async function runCli(argv: string[], out: (s: string) => void = (s) => process.stdout.write(s + '\n')): Promise<number> {
  const [cmd, sub, ...rest] = argv;
  if (!cmd || cmd === 'help' || cmd === '--help') {
    out(USAGE);
    return cmd ? 0 : 2;
  }
  const config = loadConfig();
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel, undefined);
  // Migrate first: building the services reads the schema (the server's keys, security/keys.ts).
  const db = await openDatabase({ databaseUrl: config.databaseUrl, pooler: config.databasePooler, dataDir: config.dataDir, poolSize: config.dbPoolSize, logger });
  let deps: Deps | undefined;
  try {
    const ran = await db.migrate();
    if (cmd === 'migrate') {
      out(JSON.stringify({ migrated: ran }));
      return 0;
    }
    deps = await createDeps(config, logger, { db, skipMigrations: true });
    if (cmd === 'tenants' && sub === 'create') {
      const f = flags(rest);
      const input = parseNewTenant({
        name: f.name,
        adminEmail: f['admin-email'],
        ...(f['given-name'] || f['family-name'] ? { adminName: { givenName: f['given-name'], familyName: f['family-name'] } } : {}),
      });
      out(JSON.stringify(await deps.tenants.create(input), null, 2));
      return 0;
    }
    if (cmd === 'tenants' && sub === 'list') {
      out(JSON.stringify(await deps.tenants.list(), null, 2));
      return 0;
    }
    out(USAGE);
    return 2;
  } finally {
    await deps?.close();
    await db.close();
  }
}

if (require.main === module) {
  runCli(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      // A bad key, flag or value is the caller's to fix: its message (and the usage) is enough.
      const known = err instanceof ConfigError || err instanceof UsageError || err instanceof ScimError;
      process.stderr.write(`provisio: ${known ? err.message : err?.stack ?? String(err)}\n${err instanceof UsageError ? USAGE + '\n' : ''}`);
      process.exit(err instanceof ConfigError || err instanceof UsageError ? 2 : 1);
    },
  );
}
