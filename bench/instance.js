// One server instance for the bench's issue-12 scenarios (bench/run.js): the real server's own
// start() (server/main.ts: config from the environment, migrations, listener, purge timer, mail
// and events workers) in a child process, plus an IPC channel for what the bench must see or do
// from inside the process, which HTTP cannot give it:
//   - cpu:   process.cpuUsage() (user + system µs of the whole process, threads included), so the
//            CPU of the creates and of the mail worker's sending are read from the server itself;
//   - mail:  stop or (re)start the mail worker's poll loop (deps.mail.worker, as main.ts starts
//            it), so the sending is measured on its own, after the creates;
//   - purge: run the purge job (deps.jobs.purgeSubAccounts, what main.ts runs hourly) now, so two
//            instances can run it at the same moment;
//   - outbox: the mail worker's backlog is read by the bench in SQL, not here.
// BENCH_MAIL_PAUSED=1 stops the worker as soon as the server is up. Not part of the product.
// Started with `node bench/instance.js` (dist/) or `node --import tsx bench/instance.js` (sources,
// BENCH_INSTANCE_SOURCES=1).
'use strict';
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const { start } = require(process.env.BENCH_INSTANCE_SOURCES === '1' ? path.join(ROOT, 'server/main.ts') : path.join(ROOT, 'dist/server/main.js'));

(async () => {
  const running = await start();
  const { deps } = running;
  if (process.env.BENCH_MAIL_PAUSED === '1') await deps.mail.worker.stop();
  const commands = {
    cpu: async () => process.cpuUsage(),
    mail: async ({ on, pollMs }) => {
      if (on) deps.mail.worker.start(pollMs ?? deps.config.mailPollMs);
      else await deps.mail.worker.stop();
      return { on };
    },
    purge: async () => deps.jobs.purgeSubAccounts(),
  };
  process.on('message', async (m) => {
    try {
      const value = await commands[m.cmd](m);
      process.send({ id: m.id, value });
    } catch (err) {
      process.send({ id: m.id, error: String(err?.stack ?? err) });
    }
  });
  const stop = () =>
    running.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  process.on('unhandledRejection', (reason) => deps.logger.error({ err: reason }, 'unhandled rejection'));
  process.send({ ready: true, pid: process.pid });
})().catch((err) => {
  process.stderr.write(`bench instance failed to start: ${err?.stack ?? err}\n`);
  process.exit(1);
});
