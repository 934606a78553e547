// Prometheus metrics (issue 13, "Operators"): GET /metrics in the text exposition format
// (operator/metrics-router.ts serves it). Why prom-client: it is the Prometheus client for
// Node — counters, gauges, histograms, the text format and process metrics — maintained, with
// one registry object per owner, so each app instance (and each test server in one process)
// has its own registry and no module-level singleton is used.
//
// Labels are bounded by construction: a route is the TEMPLATE the request matched
// ("/scim/v2/:tenantId/Users/:id"), never the raw path; SCIM operations are labelled by resource
// type and verb; nothing carries a tenant id, an email, a client id or any value a caller
// chooses. test/api/metrics.test.ts checks that no label value of a scrape holds a tenant id or
// an email after traffic that used them.
import type { NextFunction, Request, Response } from 'express';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export interface PoolStats {
  used: number;
  free: number;
  pendingAcquires: number;
  pendingCreates: number;
  max: number;
}

export interface MetricsSources {
  /** The knex pool's connections now, when the pool says. */
  pool(): PoolStats | undefined;
  /** The outbox across tenants: pending messages and the age in seconds of the oldest (a query per scrape). */
  outbox(): Promise<{ pending: number; oldestAgeSeconds: number }>;
  /** SCIM events across tenants: events waiting, the oldest's age, paused push streams (a query per scrape). */
  events?(): Promise<{ pending: number; oldestAgeSeconds: number; pausedStreams: number }>;
  /** SCIM endpoint → resource type ("Users" → "User"). */
  scimEndpoints: Record<string, string>;
}

/** Where a router is mounted, as a template; the request metric's route label starts with it. */
const BASE = Symbol('metricsBase');
type Tagged = Request & { [BASE]?: string };

const SCIM_BASE = '/scim/v2/:tenantId';
const DISCOVERY = new Set(['ServiceProviderConfig', 'ResourceTypes', 'Schemas']);

/** The SCIM operation a route template and method stand for (RFC 7644 §3), or undefined. */
export function scimOperation(path: string, method: string, endpoints: Record<string, string>): { resourceType: string; operation: string } | undefined {
  const parts = path.split('/').filter(Boolean);
  const [first, second] = parts;
  if (!first) return undefined;
  if (DISCOVERY.has(first)) return { resourceType: first, operation: 'discovery' };
  if (first === 'Bulk') return { resourceType: 'Bulk', operation: 'bulk' };
  if (first === '.search') return { resourceType: 'all', operation: 'search' };
  if (first === 'Me') return { resourceType: 'Me', operation: method.toLowerCase() };
  const resourceType = Object.entries(endpoints).find(([endpoint]) => endpoint.toLowerCase() === first.toLowerCase())?.[1];
  if (!resourceType) return undefined;
  if (second === '.search') return { resourceType, operation: 'search' };
  const verbs: Record<string, string> = second ? { GET: 'get', HEAD: 'get', PUT: 'replace', PATCH: 'patch', DELETE: 'delete' } : { GET: 'list', HEAD: 'list', POST: 'create' };
  const operation = verbs[method];
  return operation ? { resourceType, operation } : undefined;
}

export class Metrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'route' | 'method' | 'status'>;
  private readonly duration: Histogram<'route' | 'method' | 'status'>;
  private readonly scim: Counter<'resource_type' | 'operation' | 'status'>;
  private readonly signIns: Counter<'method'>;
  private readonly refusals: Counter<'limit'>;
  private readonly poolConnections: Gauge<'state'>;
  private readonly poolMax: Gauge;
  private readonly outboxPending: Gauge;
  private readonly outboxAge: Gauge;
  private readonly eventsPending: Gauge;
  private readonly eventsAge: Gauge;
  private readonly eventStreamsPaused: Gauge;

  constructor(private readonly sources: MetricsSources) {
    const registers = [this.registry];
    this.requests = new Counter({ name: 'provisio_http_requests_total', help: 'HTTP requests answered, by route template, method and status', labelNames: ['route', 'method', 'status'], registers });
    this.duration = new Histogram({
      name: 'provisio_http_request_duration_seconds',
      help: 'Time to answer HTTP requests, by route template, method and status',
      labelNames: ['route', 'method', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.scim = new Counter({ name: 'provisio_scim_operations_total', help: 'SCIM operations, by resource type, operation and status', labelNames: ['resource_type', 'operation', 'status'], registers });
    this.signIns = new Counter({ name: 'provisio_sign_in_failures_total', help: 'Refused sign-ins on the front door, by method (password, oidc)', labelNames: ['method'], registers });
    this.refusals = new Counter({ name: 'provisio_rate_limit_refusals_total', help: 'Requests refused by a rate limit, by limit', labelNames: ['limit'], registers });
    this.poolConnections = new Gauge({ name: 'provisio_db_pool_connections', help: 'Database pool connections by state (used, free, pending_acquire, pending_create)', labelNames: ['state'], registers });
    this.poolMax = new Gauge({ name: 'provisio_db_pool_max', help: 'Largest number of connections the database pool opens', registers });
    this.outboxPending = new Gauge({ name: 'provisio_outbox_pending_messages', help: 'Emails waiting in the outbox, all tenants', registers });
    this.outboxAge = new Gauge({ name: 'provisio_outbox_oldest_pending_age_seconds', help: 'Age of the oldest pending email in the outbox (0 when none)', registers });
    this.eventsPending = new Gauge({ name: 'provisio_events_pending', help: 'SCIM events waiting to be polled or pushed, all tenants', registers });
    this.eventsAge = new Gauge({ name: 'provisio_events_oldest_pending_age_seconds', help: 'Age of the oldest waiting SCIM event (0 when none)', registers });
    this.eventStreamsPaused = new Gauge({ name: 'provisio_event_streams_paused', help: 'Push event streams paused after repeated failures, all tenants', registers });
  }

  /** Marks requests under a mount point with its template (before the router mounted there). */
  base(template: string) {
    return (req: Request, _res: Response, next: NextFunction) => {
      (req as Tagged)[BASE] = template;
      next();
    };
  }

  /** Times every request and counts it when answered, under the template of the route it matched. */
  middleware() {
    return (req: Request, res: Response, next: NextFunction) => {
      const start = process.hrtime.bigint();
      res.once('finish', () => {
        const base = (req as Tagged)[BASE] ?? '';
        const path = req.route?.path !== undefined ? String(req.route.path) : undefined;
        const route = path !== undefined ? `${base}${path === '/' && base ? '' : path}` : base ? `${base}/*` : '(unmatched)';
        const labels = { route, method: req.method, status: String(res.statusCode) };
        this.requests.inc(labels);
        this.duration.observe(labels, Number(process.hrtime.bigint() - start) / 1e9);
        if (base === SCIM_BASE && path !== undefined) {
          const op = scimOperation(path, req.method, this.sources.scimEndpoints);
          if (op) this.scim.inc({ resource_type: op.resourceType, operation: op.operation, status: String(res.statusCode) });
        }
      });
      next();
    };
  }

  signInFailed(method: 'password' | 'oidc'): void {
    this.signIns.inc({ method });
  }

  /** A request a rate limit refused: sign_in, reset, oauth_client. */
  rateLimited(limit: string): void {
    this.refusals.inc({ limit });
  }

  /** The exposition text; the pool and the outbox are read now. */
  async render(): Promise<{ contentType: string; body: string }> {
    const pool = this.sources.pool();
    if (pool) {
      this.poolConnections.set({ state: 'used' }, pool.used);
      this.poolConnections.set({ state: 'free' }, pool.free);
      this.poolConnections.set({ state: 'pending_acquire' }, pool.pendingAcquires);
      this.poolConnections.set({ state: 'pending_create' }, pool.pendingCreates);
      this.poolMax.set(pool.max);
    }
    const outbox = await this.sources.outbox();
    this.outboxPending.set(outbox.pending);
    this.outboxAge.set(outbox.oldestAgeSeconds);
    const events = await this.sources.events?.();
    if (events) {
      this.eventsPending.set(events.pending);
      this.eventsAge.set(events.oldestAgeSeconds);
      this.eventStreamsPaused.set(events.pausedStreams);
    }
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
