// bench/create-cost.js's server: the server's own start() from M_ROOT, with pg's Client#query
// counted (one call = one round trip) and process.cpuUsage(), both served on 127.0.0.1:M_STAT_PORT.
// Not part of the product.
'use strict';
const path = require('node:path');
const ROOT = process.env.M_ROOT;
const pg = require(require.resolve('pg', { paths: [ROOT] }));
let queries = 0;
const texts = new Map();
const orig = pg.Client.prototype.query;
pg.Client.prototype.query = function (config, ...rest) {
  queries++;
  if (process.env.M_TEXTS === '1') {
    const t = (typeof config === 'string' ? config : config && config.text) || '?';
    const k = t.replace(/\s+/g, ' ').slice(0, 90);
    texts.set(k, (texts.get(k) || 0) + 1);
  }
  return orig.call(this, config, ...rest);
};
const { start } = require(path.join(ROOT, 'dist/server/main.js'));
(async () => {
  const running = await start();
  await running.deps.mail.worker.stop();
  require('node:http').createServer((req, res) => {
    const cmd = req.url.slice(1);
    if (cmd === 'reset') texts.clear();
    res.end(JSON.stringify({ cpu: process.cpuUsage(), queries, texts: [...texts] }));
    if (cmd === 'stop') running.stop().then(() => process.exit(0));
  }).listen(Number(process.env.M_STAT_PORT), '127.0.0.1');
  process.send({ ready: true });
})().catch((e) => { console.error(e); process.exit(1); });
