// The server as an operator runs it: a real process started from server/main.ts, configured by
// environment. Proves health/readiness, one JSON log line per request without secrets, config
// validation at start, and SIGTERM draining an in-flight request before exiting 0.
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freshDatabase } from '../support/harness';

const ROOT = path.resolve(__dirname, '../..');
const TSX = path.join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');
const OPERATOR = 'process-test-operator-token';

interface Proc {
  child: ChildProcess;
  port: number;
  out: string[];
  exited: Promise<number | null>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function startProcess(env: Record<string, string>): Promise<Proc> {
  const port = await freePort();
  const child = spawn(process.execPath, [TSX, path.join(ROOT, 'server/main.ts')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', PORT: String(port), OPERATOR_TOKEN: OPERATOR, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out: string[] = [];
  child.stdout!.on('data', (d) => out.push(...String(d).split('\n').filter(Boolean)));
  child.stderr!.on('data', (d) => out.push(...String(d).split('\n').filter(Boolean)));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const deadline = Date.now() + 45_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited early: ${out.join('\n')}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (res.ok) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`server did not start: ${out.join('\n')}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return { child, port, out, exited };
}

async function dbEnv(): Promise<{ env: Record<string, string>; cleanup(): Promise<void> }> {
  if (process.env.TEST_DB === 'postgres') {
    const fresh = await freshDatabase();
    // The process opens its own pool; keep the database, drop it after.
    return { env: { DATABASE_URL: fresh.url!, DATABASE_POOLER: fresh.pooler }, cleanup: () => fresh.drop() };
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'provisio-test-'));
  return { env: { DATA_DIR: dir }, cleanup: async () => fs.rmSync(dir, { recursive: true, force: true }) };
}

describe('the server process', () => {
  let proc: Proc;
  let cleanup: () => Promise<void>;
  let tenant: { id: string; token: string; scimBaseUrl: string };

  beforeAll(async () => {
    const db = await dbEnv();
    cleanup = db.cleanup;
    proc = await startProcess(db.env);
    const res = await fetch(`http://127.0.0.1:${proc.port}/operator/v1/tenants`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${OPERATOR}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'Proc', adminEmail: 'admin@proc.test' }),
    });
    expect(res.status).toBe(201);
    tenant = (await res.json()) as typeof tenant;
  }, 90_000);

  afterAll(async () => {
    if (proc?.child.exitCode === null) proc.child.kill('SIGKILL');
    await cleanup?.();
  });

  it('answers /healthz and /readyz', async () => {
    expect((await fetch(`http://127.0.0.1:${proc.port}/healthz`)).status).toBe(200);
    const ready = await fetch(`http://127.0.0.1:${proc.port}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', database: process.env.TEST_DB === 'postgres' ? 'postgres' : 'pglite' });
  });

  it('builds the SCIM base URL from PUBLIC_URL without "_" and rejects a wrong operator token', async () => {
    expect(tenant.scimBaseUrl).toBe(`http://localhost:${proc.port}/scim/v2/${tenant.id}`);
    expect(tenant.scimBaseUrl).not.toContain('_');
    const res = await fetch(`http://127.0.0.1:${proc.port}/operator/v1/tenants`, { headers: { Authorization: 'Bearer nope' } });
    expect(res.status).toBe(401);
  });

  it('logs one JSON line per request with tenant, method, path, status and duration — never the token', async () => {
    const secret = 'Pa55word-in-body-never-logged';
    const res = await fetch(`http://127.0.0.1:${proc.port}/scim/v2/${tenant.id}/Users?filter=userName%20eq%20%22x%22`, {
      headers: { Authorization: `Bearer ${tenant.token}`, Cookie: 'session=abc' },
    });
    expect(res.status).toBe(200);
    await fetch(`http://127.0.0.1:${proc.port}/scim/v2/${tenant.id}/Users`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${tenant.token}`, 'Content-Type': 'application/scim+json' },
      body: JSON.stringify({ userName: 'logged@proc.test', password: secret }),
    });
    await new Promise((r) => setTimeout(r, 200));
    const lines = proc.out.map((l) => {
      try {
        return JSON.parse(l);
      } catch {
        return undefined;
      }
    });
    const request = lines.find((l) => l?.req?.path === `/scim/v2/${tenant.id}/Users` && l?.req?.method === 'GET');
    expect(request).toMatchObject({ tenant: tenant.id, req: { method: 'GET' }, res: { status: 200 } });
    expect(typeof request.durationMs).toBe('number');
    const all = proc.out.join('\n');
    expect(all).not.toContain(tenant.token);
    expect(all).not.toContain(OPERATOR);
    expect(all).not.toContain(secret);
    // No Authorization header, under any name or case (a migration may be named for OAuth's
    // authorization code grant: the header is what must not be there).
    expect(all).not.toMatch(/"authorization"\s*:/i);
    expect(all).not.toMatch(/bearer /i);
    expect(all).not.toContain('session=abc');
  });

  it('on SIGTERM finishes the in-flight request, then exits 0', async () => {
    // Send the headers and half of a body, then SIGTERM, then the rest: the request must complete.
    const body = JSON.stringify({ userName: 'inflight@proc.test' });
    const sock = net.connect(proc.port, '127.0.0.1');
    await new Promise<void>((r) => sock.once('connect', () => r()));
    let response = '';
    sock.on('data', (d) => (response += String(d)));
    const closed = new Promise<void>((r) => sock.once('close', () => r()));
    sock.write(
      `POST /scim/v2/${tenant.id}/Users HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${tenant.token}\r\n` +
        `Content-Type: application/scim+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n` +
        body.slice(0, 10),
    );
    await new Promise((r) => setTimeout(r, 300));
    proc.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    // Not accepting new connections any more.
    await expect(fetch(`http://127.0.0.1:${proc.port}/healthz`)).rejects.toThrow();
    sock.write(body.slice(10));
    await closed;
    expect(response).toMatch(/^HTTP\/1\.1 201/);
    expect(await proc.exited).toBe(0);
  }, 30_000);
});

describe('configuration errors', () => {
  it('a bad value stops the process with exit code 2 and names the key', async () => {
    const child = spawn(process.execPath, [TSX, path.join(ROOT, 'server/main.ts')], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', PORT: 'eighty', DATA_DIR: os.tmpdir() },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d) => (err += String(d)));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(2);
    expect(err).toMatch(/PORT must be a whole number/);
  }, 30_000);
});

describe('METRICS_PORT', () => {
  it('serves /metrics on its own listener on 127.0.0.1 without a token (with process metrics), and not on the main port', async () => {
    const db = await dbEnv();
    const metricsPort = await freePort();
    const proc = await startProcess({ ...db.env, METRICS_PORT: String(metricsPort) });
    try {
      const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(text).toContain('provisio_http_requests_total');
      expect(text).toContain('provisio_process_resident_memory_bytes');
      const main = await fetch(`http://127.0.0.1:${proc.port}/metrics`, { headers: { Authorization: `Bearer ${OPERATOR}` } });
      expect(main.status).toBe(404);
      const line = proc.out.map((l) => JSON.parse(l.startsWith('{') ? l : '{}')).find((l) => l.msg === 'metrics listening');
      expect(line).toMatchObject({ host: '127.0.0.1', port: metricsPort });
    } finally {
      proc.child.kill('SIGTERM');
      expect(await proc.exited).toBe(0);
      await db.cleanup();
    }
  }, 60_000);
});
