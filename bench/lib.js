// Small helpers for bench/run.js: a sequential keep-alive HTTP client, percentiles, the
// autocannon wrapper, the server's RSS sampler, and table printing. Loopback only.
'use strict';
const fs = require('node:fs');
const http = require('node:http');
const autocannon = require('autocannon');

/** One keep-alive connection for sequential requests (latency per request, no queueing). */
function sequentialClient(port) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  return {
    /** Resolves {status, ms, body (string unless discard), bytes}. Rejects after timeoutMs. */
    request(method, path, { headers = {}, body, timeoutMs = 30_000, discard = false, withHeaders = false } = {}) {
      return new Promise((resolve, reject) => {
        const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
        const h = { ...headers };
        if (payload !== undefined) {
          h['content-type'] ??= 'application/scim+json';
          h['content-length'] = Buffer.byteLength(payload);
        }
        const start = process.hrtime.bigint();
        const req = http.request({ host: '127.0.0.1', port, method, path, headers: h, agent }, (res) => {
          const chunks = [];
          let bytes = 0;
          res.on('data', (c) => {
            bytes += c.length;
            if (!discard) chunks.push(c);
          });
          res.on('end', () => {
            const ms = Number(process.hrtime.bigint() - start) / 1e6;
            resolve({ status: res.statusCode, ms, bytes, body: discard ? undefined : Buffer.concat(chunks).toString('utf8'), ...(withHeaders ? { headers: res.headers } : {}) });
          });
          res.on('error', reject);
        });
        req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${path.slice(0, 80)} timed out after ${timeoutMs} ms`)));
        req.on('error', reject);
        if (payload !== undefined) req.write(payload);
        req.end();
      });
    },
    close: () => agent.destroy(),
  };
}

function stats(samples) {
  if (!samples.length) return { n: 0 };
  const s = [...samples].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
  const r = (x) => Math.round(x * 100) / 100;
  return { n: s.length, mean: r(s.reduce((a, b) => a + b, 0) / s.length), p50: r(q(50)), p90: r(q(90)), p99: r(q(99)), max: r(s[s.length - 1]) };
}

/**
 * Runs `fn(i)` sequentially up to `count` times or until `seconds` elapse; fn returns a latency in
 * ms or throws. Returns latency stats and the number of failures (with the first error message).
 */
async function sequential(count, seconds, fn) {
  const lat = [];
  let failures = 0;
  let firstError;
  const until = Date.now() + seconds * 1000;
  for (let i = 0; i < count && Date.now() < until; i++) {
    try {
      lat.push(await fn(i));
    } catch (err) {
      failures++;
      firstError ??= err.message;
    }
  }
  return { ...stats(lat), failures, firstError, timeLimited: lat.length + failures < count };
}

/**
 * Several request kinds in turn (a, b, c, a, b, c, …), each timed into its own series: a figure
 * and its baseline interleaved this way see the same load on a shared machine, which two
 * back-to-back runs do not (issue 12 compares their p99s). `fns` maps a name to `(i) => ms`.
 */
async function interleaved(count, seconds, fns) {
  const names = Object.keys(fns);
  const lat = Object.fromEntries(names.map((n) => [n, []]));
  const failures = Object.fromEntries(names.map((n) => [n, 0]));
  const firstError = {};
  const until = Date.now() + seconds * 1000;
  let i = 0;
  for (; i < count && Date.now() < until; i++) {
    for (const n of names) {
      try {
        lat[n].push(await fns[n](i));
      } catch (err) {
        failures[n]++;
        firstError[n] ??= err.message;
      }
    }
  }
  return Object.fromEntries(names.map((n) => [n, { ...stats(lat[n]), failures: failures[n], firstError: firstError[n], timeLimited: i < count }]));
}

/**
 * A load figure and its baseline alternated: `rounds` rounds, each running every part for
 * `seconds / rounds`, so a minute of other work on a shared machine falls on both rather than on
 * whichever ran then. Each part is `(seconds) => load result`; the result sums the 2xx over the
 * rounds (rate = ok / seconds) and keeps the worst round's latency, with every round listed.
 */
async function alternated(rounds, seconds, parts) {
  const names = Object.keys(parts);
  const acc = Object.fromEntries(names.map((n) => [n, []]));
  const each = Math.max(1, seconds / rounds);
  for (let r = 0; r < rounds; r++) for (const n of names) acc[n].push(await parts[n](each));
  return Object.fromEntries(
    names.map((n) => {
      const rs = acc[n];
      const ok = rs.reduce((a, x) => a + x.ok, 0);
      const secs = rs.reduce((a, x) => a + x.seconds, 0);
      const worst = rs.reduce((a, x) => (x.latency.p99 > a.latency.p99 ? x : a));
      return [n, { ...worst, ok, seconds: Math.round(secs * 10) / 10, rate: Math.round((ok / secs) * 10) / 10, non2xx: rs.reduce((a, x) => a + (x.non2xx ?? 0), 0), errors: rs.reduce((a, x) => a + (x.errors ?? 0), 0), rounds: rs.map((x) => ({ rate: x.rate, p99: x.latency.p99 })) }];
    }),
  );
}

/**
 * autocannon at `connections` for `seconds` (and at most `amount` requests). `setup(req)` may
 * change path/body per request. Returns the 2xx rate and latency percentiles.
 */
function load({ port, connections, seconds, amount, method = 'GET', path, headers = {}, setup, body }) {
  return new Promise((resolve, reject) => {
    const opts = {
      url: `http://127.0.0.1:${port}`,
      connections,
      duration: seconds,
      maxOverallRequests: amount, // a count bound that, unlike `amount`, keeps the duration bound too
      timeout: 30,
      headers,
      requests: [{ method, path, body, setupRequest: setup }],
    };
    autocannon(opts, (err, r) => {
      if (err) return reject(err);
      const ok = r['2xx'];
      const secs = r.duration || seconds;
      resolve({
        connections,
        seconds: Math.round(secs * 10) / 10,
        ok,
        non2xx: r.non2xx,
        errors: r.errors,
        timeouts: r.timeouts,
        rate: Math.round((ok / secs) * 10) / 10,
        latency: { p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, max: r.latency.max, mean: Math.round(r.latency.average * 100) / 100 },
      });
    });
  });
}

/** Samples VmRSS of a process every `ms`; keeps the overall and per-phase peaks (KiB). */
function rssSampler(pid, ms = 100) {
  let peak = 0;
  let phase = 'start';
  let stopped = false;
  const phases = {};
  const read = () => {
    try {
      const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
      const rss = Number(/VmRSS:\s+(\d+)/.exec(s)?.[1] ?? 0);
      const hwm = Number(/VmHWM:\s+(\d+)/.exec(s)?.[1] ?? 0);
      return { rss, hwm };
    } catch {
      return undefined;
    }
  };
  const tick = () => {
    const v = read();
    if (!v) return;
    peak = Math.max(peak, v.rss);
    phases[phase] = Math.max(phases[phase] ?? 0, v.rss);
  };
  // CPU time of the process per phase (utime + stime from /proc/<pid>/stat, in clock ticks of 10 ms).
  const cpuTicks = () => {
    try {
      const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      return Number(f[11]) + Number(f[12]);
    } catch {
      return undefined;
    }
  };
  const cpu = {};
  let mark = { ticks: cpuTicks(), at: Date.now() };
  const closePhase = () => {
    const t = cpuTicks();
    if (t !== undefined && mark.ticks !== undefined && Date.now() > mark.at) {
      cpu[phase] = Math.round(((t - mark.ticks) * 10 * 100) / (Date.now() - mark.at)); // % of one core
    }
    mark = { ticks: t, at: Date.now() };
  };
  const timer = setInterval(tick, ms);
  timer.unref();
  return {
    setPhase(name) {
      tick();
      closePhase();
      phase = name;
    },
    current: () => read()?.rss ?? 0,
    stop() {
      tick();
      clearInterval(timer);
      const v = read();
      if (!stopped) closePhase();
      stopped = true;
      return {
        peakSampledMB: mb(peak),
        vmHwmMB: v ? mb(v.hwm) : undefined,
        byPhaseMB: Object.fromEntries(Object.entries(phases).map(([k, x]) => [k, mb(x)])),
        cpuPercentOfOneCoreByPhase: cpu,
      };
    },
    peakMB: () => mb(peak),
    hwmMB: () => {
      const v = read();
      return v ? mb(v.hwm) : undefined;
    },
  };
}
const mb = (kib) => Math.round((kib / 1024) * 10) / 10;

function table(rows, cols) {
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c] ?? '').length)));
  const line = (vals) => vals.map((v, i) => String(v ?? '').padEnd(widths[i])).join(' | ');
  return [line(cols), widths.map((w) => '-'.repeat(w)).join('-|-'), ...rows.map((r) => line(cols.map((c) => r[c])))].join('\n');
}


/**
 * A real SMTP server (smtp-server) on 127.0.0.1 for the mail scenarios: counts the messages per
 * recipient and keeps the raw message only for the recipients in `keep` (a test of 20,000 mails
 * does not need their bodies). Point SMTP_URL at `url`.
 */
async function smtpSink() {
  const { SMTPServer } = require('smtp-server');
  const counts = new Map();
  const kept = new Map();
  const keep = new Set();
  let total = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    // smtp-server looks the client's address up in DNS by default: never (loopback only), and
    // that lookup would be part of every message's time.
    disableReverseLookup: true,
    logger: false,
    onData(stream, session, callback) {
      const chunks = [];
      stream.on('data', (c) => {
        if (session.envelope.rcptTo.some((a) => keep.has(a.address))) chunks.push(c);
      });
      stream.on('error', callback);
      stream.on('end', () => {
        for (const { address } of session.envelope.rcptTo) {
          counts.set(address, (counts.get(address) ?? 0) + 1);
          if (keep.has(address)) kept.set(address, Buffer.concat(chunks).toString('utf8'));
        }
        total++;
        callback();
      });
    },
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    url: `smtp://127.0.0.1:${server.server.address().port}`,
    counts,
    total: () => total,
    /** Messages received for addresses matching `pred`, and how many of those addresses got more than one. */
    tally(pred) {
      let messages = 0;
      let addresses = 0;
      let duplicated = 0;
      for (const [a, n] of counts) {
        if (!pred(a)) continue;
        messages += n;
        addresses++;
        if (n > 1) duplicated++;
      }
      return { messages, addresses, duplicated };
    },
    keep: (address) => keep.add(address),
    /** The decoded text of the last kept message to `address` (quoted-printable soft breaks and =3D undone). */
    lastText: (address) => kept.get(address)?.replace(/=\r?\n/g, '').replace(/=3D/g, '='),
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/**
 * A minimal OpenID Connect discovery document on 127.0.0.1: enough for the server to accept an
 * SSO connection (it fetches the document and checks the issuer). Nobody signs in through it.
 */
async function discoveryServer() {
  const server = http.createServer((req, res) => {
    const issuer = `http://127.0.0.1:${server.address().port}`;
    if (req.url !== '/.well-known/openid-configuration') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        issuer,
        authorization_endpoint: `${issuer}/auth`,
        token_endpoint: `${issuer}/token`,
        jwks_uri: `${issuer}/jwks`,
        response_types_supported: ['code'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256'],
      }),
    );
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { issuer: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => server.close(r)) };
}

/**
 * A browser for the front door's pages, on any of several ports (the instances of one
 * deployment): keeps cookies by name, reads the CSRF field of the last form, posts forms.
 */
function browserClient(headers = {}) {
  const cookies = new Map();
  let lastHtml = '';
  const clients = new Map();
  const client = (port) => {
    if (!clients.has(port)) clients.set(port, sequentialClient(port));
    return clients.get(port);
  };
  const cookieHeader = () => [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  const remember = (r) => {
    for (const c of [].concat(r.headers['set-cookie'] ?? [])) {
      const [pair] = c.split(';');
      const i = pair.indexOf('=');
      const value = pair.slice(i + 1);
      if (/max-age=0|expires=thu, 01 jan 1970/i.test(c) || value === '') cookies.delete(pair.slice(0, i));
      else cookies.set(pair.slice(0, i), value);
    }
    if (typeof r.body === 'string' && r.body.includes('name="_csrf"')) lastHtml = r.body;
    return r;
  };
  return {
    cookies,
    get: async (port, p) => remember(await client(port).request('GET', p, { headers: { ...headers, cookie: cookieHeader() }, withHeaders: true })),
    post: async (port, p, fields) => {
      const m = /name="_csrf" value="([^"]+)"/.exec(lastHtml);
      const body = new URLSearchParams({ ...fields, ...(m ? { _csrf: m[1] } : {}) }).toString();
      return remember(
        await client(port).request('POST', p, {
          headers: { ...headers, cookie: cookieHeader(), 'content-type': 'application/x-www-form-urlencoded' },
          body,
          withHeaders: true,
        }),
      );
    },
    close: () => clients.forEach((c) => c.close()),
  };
}

module.exports = { sequentialClient, sequential, interleaved, alternated, stats, load, rssSampler, table, smtpSink, discoveryServer, browserClient };
