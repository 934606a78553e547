// Starts Debian's PgBouncer (1.18, installed by test/support/prepare.sh) for the api:pgbouncer
// jest project: on 127.0.0.1 only, a free port, transaction pooling, in front of the machine's
// PostgreSQL on 127.0.0.1:5432. Its configuration, user list and socket directory live in a
// temporary directory made here and removed on stop. A wildcard database entry lets every test
// file reach the fresh database it creates (test/support/harness.ts) without a restart.
// Plain JavaScript: jest's globalSetup (test/support/pgbouncer-global.js) loads it untransformed.
const { execFileSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const BINARY = process.env.PGBOUNCER_PATH || '/usr/sbin/pgbouncer';
/**
 * Server connections per database and user. Fewer than the server's pool (DB_POOL_SIZE 10 in the
 * harness), so connections are shared between the server's clients as in production, and a state
 * left on one server connection is met by another client. test/pooler/pgbouncer.test.ts holds
 * this many transactions open at once to see every server connection.
 */
const POOL_SIZE = 3;

/** A port nothing listens on now (the kernel's choice), so concurrent runs do not collide. */
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function canConnect(port) {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/**
 * @param {{ upstreamPort?: number, poolSize?: number }} [opts] poolSize: default POOL_SIZE (the bench sizes it)
 * @returns {Promise<{ port: number, dir: string, stop(): Promise<void> }>}
 */
async function startPgBouncer(opts = {}) {
  if (!fs.existsSync(BINARY)) throw new Error(`${BINARY} is missing: run test/support/prepare.sh (it installs Debian's pgbouncer)`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'provisio-pgbouncer-'));
  const port = await freePort();
  const ini = path.join(dir, 'pgbouncer.ini');
  // The machine's PostgreSQL trusts postgres on loopback (docs/development); no password is kept.
  fs.writeFileSync(path.join(dir, 'userlist.txt'), '"postgres" ""\n');
  fs.writeFileSync(
    ini,
    [
      '[databases]',
      // Any database name goes to the same server: each test file makes its own database.
      `* = host=127.0.0.1 port=${opts.upstreamPort ?? 5432}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      // No Unix socket: only the loopback TCP port above.
      'unix_socket_dir =',
      'auth_type = trust',
      `auth_file = ${path.join(dir, 'userlist.txt')}`,
      'pool_mode = transaction',
      `default_pool_size = ${opts.poolSize ?? POOL_SIZE}`,
      'max_client_conn = 500',
      // The test reaches the console (SHOW, RECONNECT) as postgres.
      'admin_users = postgres',
      // A client waiting longer than this for a server connection gets an error instead of a hang.
      'query_wait_timeout = 30',
      `pidfile = ${path.join(dir, 'pgbouncer.pid')}`,
      'log_connections = 0',
      'log_disconnections = 0',
      '',
    ].join('\n'),
  );
  // PgBouncer refuses to run as root; as root (a container) it drops to the postgres user, who
  // must then read the configuration and write the pid file.
  const args = [];
  if (process.getuid && process.getuid() === 0) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    for (const f of [dir, ...fs.readdirSync(dir).map((n) => path.join(dir, n))]) fs.chownSync(f, uid, gid);
    args.push('-u', 'postgres');
  }
  args.push(ini);
  const child = spawn(BINARY, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr = (stderr + d).slice(-4000);
  });
  let exited = null;
  // If the test run dies without its teardown, PgBouncer goes with it rather than staying behind.
  const orphanGuard = () => child.kill('SIGTERM');
  process.once('exit', orphanGuard);
  child.once('exit', (code, signal) => {
    exited = { code, signal };
    process.removeListener('exit', orphanGuard);
  });
  for (let i = 0; i < 100 && !(await canConnect(port)); i++) {
    if (exited) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  if (exited || !(await canConnect(port))) {
    child.kill('SIGTERM');
    fs.rmSync(dir, { recursive: true, force: true });
    throw new Error(`PgBouncer did not start on 127.0.0.1:${port}: ${stderr.trim() || JSON.stringify(exited)}`);
  }
  return {
    port,
    dir,
    stop: async () => {
      if (!exited) {
        const gone = new Promise((r) => child.once('exit', r));
        // SIGTERM: PgBouncer's immediate shutdown (SIGINT would wait for clients to leave).
        child.kill('SIGTERM');
        await gone;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

module.exports = { startPgBouncer, POOL_SIZE };
