// Admin API: the tenant's SCIM event streams (issue 13, RFC 9967; docs/events.md) —
// /api/v1/event-streams, tenant-wide credentials only (a stream carries every change of the
// tenant, so a credential bound to a sub-account gets 403 before anything is read).
//
//   POST   /event-streams        {"name", "delivery": "poll"|"push", "endpointUrl"?, "audience"?,
//                                 "events": ["create", …], "form": "full"|"notice"}   → 201 the stream
//   GET    /event-streams                                         → {"eventStreams": [...]}
//   GET    /event-streams/{id}                                    → the stream, with its state
//   PATCH  /event-streams/{id}   {"state": "enabled"|"paused"}    → 200; enabling a paused stream resumes it
//   DELETE /event-streams/{id}                                    → 204, with the events it still held
//
// A push endpoint must keep to the outbound rules of sso/network.ts (https on a public address;
// plain http and loopback only with SSO_ALLOW_INSECURE_ISSUERS / SSO_ALLOW_PRIVATE_ISSUERS),
// checked here and again at every delivery (events/push-worker.ts). The audience (the SETs'
// `aud`) defaults to the push endpoint, or to the poll URL. Every change is audited
// (eventStream.create, eventStream.state, eventStream.delete). Another tenant's stream is 404.
import type { Knex } from 'knex';
import type { Router } from 'express';
import type { Logger } from 'pino';
import { v7 as uuidv7 } from 'uuid';
import { fieldRule, methodNotAllowed, notFound } from '../errors';
import type { ApiSection } from '../openapi/describe';
import { DATE, DATEN, list, object, S, shape, SN, text, URL_WITHOUT_CREDENTIALS } from '../openapi/schema-kit';
import { isUuid } from '../scim/members';
import * as repo from '../store/events-repo';
import { inTenant } from '../store/scope';
import { checkScheme, egressDetail, EgressRules, pickAddress } from '../sso/network';
import { EVENT_FORMS, EventForm, PROVISIONING_EVENTS, ProvisioningEvent } from '../events/catalog';
import { pollUrl } from '../http/events-router';
import { AdminRequest, handle, tenantWideOnly } from './admin-router';
import { Audit, auditIn, NAME_SCHEMA, nameOf } from './catalogue-fields';

export interface EventStreamRoutesDeps {
  knex: Knex;
  egress: EgressRules;
  publicUrl: string;
  clock: () => Date;
  logger: Logger;
  audit?: Audit;
}

const MAX_URL = 2000;
const iso = (d: Date | string | null) => (d ? new Date(d).toISOString() : null);

export interface StreamInput {
  name: string;
  delivery: 'poll' | 'push';
  endpointUrl: string | null;
  audience?: string;
  events: ProvisioningEvent[];
  form: EventForm;
}

/** The POST body (openapi/describe.ts validates it before the handler). */
export const STREAM_SCHEMA = object(
  {
    name: NAME_SCHEMA,
    delivery: { enum: ['poll', 'push'], description: '"poll" (RFC 8936) or "push" (RFC 8935)' },
    endpointUrl: { type: 'string', format: 'uri', maxLength: MAX_URL, pattern: URL_WITHOUT_CREDENTIALS, description: 'an absolute URL without credentials or a fragment (push only: where SETs are POSTed, https)' },
    audience: { ...text(MAX_URL), description: "the SETs' aud; by default the push endpoint or the poll URL" },
    events: { type: 'array', items: { enum: [...PROVISIONING_EVENTS] }, minItems: 1 },
    form: { enum: [...EVENT_FORMS], description: '"full" (the resource in each event) or "notice" (the names of the changed attributes)' },
  },
  ['name', 'delivery', 'events', 'form'],
  // endpointUrl is required for push and refused for poll (a poll stream is read at its pollUrl).
  { if: { properties: { delivery: { const: 'push' } } }, then: { required: ['endpointUrl'] }, else: { properties: { endpointUrl: false } } },
);

/** A POST body the schema accepted → the stream to make (the endpoint's address is checked by the route). */
export function parseStream(raw: unknown): StreamInput {
  const body = raw as Record<string, unknown>;
  const delivery = body.delivery as 'poll' | 'push';
  const events = PROVISIONING_EVENTS.filter((e) => (body.events as unknown[]).includes(e));
  return {
    name: nameOf(body.name),
    delivery,
    endpointUrl: delivery === 'push' ? new URL(String(body.endpointUrl).trim()).href : null,
    audience: typeof body.audience === 'string' ? body.audience.trim() : undefined,
    events,
    form: body.form as EventForm,
  };
}

const STREAM = shape({ id: S, name: S, delivery: S, endpointUrl: S, pollUrl: S, audience: S, events: { type: 'array', items: S }, form: S, state: S, failures: { type: 'integer' }, lastError: SN, pausedAt: DATEN, lastDeliveredAt: DATEN, pending: { type: 'integer' }, createdAt: DATE, updatedAt: DATE });

export function streamJson(row: repo.StreamRow, publicUrl: string, pending: number) {
  return {
    id: row.id,
    name: row.name,
    delivery: row.delivery,
    ...(row.delivery === 'push' ? { endpointUrl: row.endpoint_url } : { pollUrl: pollUrl(publicUrl, row.tenant_id, row.id) }),
    audience: row.audience,
    events: row.events,
    form: row.form,
    state: row.state,
    failures: Number(row.failures),
    lastError: row.last_error ?? null,
    pausedAt: iso(row.paused_at),
    lastDeliveredAt: iso(row.last_delivered_at),
    pending,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

export function eventStreamRoutes(deps: EventStreamRoutesDeps): (router: Router, api: ApiSection) => void {
  const { knex, clock } = deps;
  const missing = (id: string) => notFound(`Event stream ${id} not found`);
  const target = (id: string) => ({ type: 'EventStream', id });

  return (router, api) => {
    tenantWideOnly(router, '/event-streams');
    router.all('/event-streams', (req, _res, next) => next(['GET', 'POST'].includes(req.method) ? undefined : methodNotAllowed(['GET', 'POST'])));
    router.all('/event-streams/:id', (req, _res, next) => next(['GET', 'PATCH', 'DELETE'].includes(req.method) ? undefined : methodNotAllowed(['GET', 'PATCH', 'DELETE'])));

    api.describe(router, { method: 'get', path: '/event-streams', summary: 'List the SCIM event streams', responses: { 200: { description: 'The streams', schema: list('eventStreams', STREAM) } } });
    router.get(
      '/event-streams',
      handle(async (req, res) => {
        const { rows, counts } = await inTenant(knex, req.tenantId!, async (trx) => ({ rows: await repo.listStreams(trx, req.tenantId!), counts: await repo.pendingCounts(trx, req.tenantId!) }));
        res.json({ eventStreams: rows.map((r) => streamJson(r, deps.publicUrl, counts.get(r.id) ?? 0)) });
      }),
    );

    api.describe(router, { method: 'get', path: '/event-streams/:id', summary: 'Read an event stream, with its state', responses: { 200: { description: 'The stream', schema: STREAM }, 404: { description: 'No such stream' } } });
    router.get(
      '/event-streams/:id',
      handle(async (req, res) => {
        const id = String(req.params.id).toLowerCase();
        if (!isUuid(id)) throw missing(id);
        const found = await inTenant(knex, req.tenantId!, async (trx) => {
          const row = await repo.getStream(trx, req.tenantId!, id);
          return row && { row, pending: (await repo.pendingCounts(trx, req.tenantId!)).get(id) ?? 0 };
        });
        if (!found) throw missing(id);
        res.json(streamJson(found.row, deps.publicUrl, found.pending));
      }),
    );

    api.describe(router, {
      method: 'post',
      path: '/event-streams',
      summary: 'Create a SCIM event stream (RFC 9967)',
      body: {
        schema: STREAM_SCHEMA,
        examples: [
          { name: 'HR feed', delivery: 'poll', events: ['create', 'patch', 'delete'], form: 'notice' },
          { name: 'Push to CRM', delivery: 'push', endpointUrl: 'https://crm.example.com/scim-events', events: ['create'], form: 'full' },
        ],
      },
      responses: { 201: { description: 'Created', schema: STREAM } },
    });
    router.post(
      '/event-streams',
      handle(async (req: AdminRequest, res) => {
        const input = parseStream(req.body);
        if (input.endpointUrl) {
          const u = new URL(input.endpointUrl);
          try {
            checkScheme(u, deps.egress.allowInsecure);
            await pickAddress(u.hostname, deps.egress);
          } catch (err) {
            deps.logger.info({ detail: egressDetail(err) }, 'event stream endpoint refused');
            throw fieldRule('endpointUrl', 'notAllowedUrl', 'is not a URL this server may send to: https, on a public address (docs/events.md, "Network rules")');
          }
        }
        const now = clock();
        const id = uuidv7();
        const audience = input.audience ?? input.endpointUrl ?? pollUrl(deps.publicUrl, req.tenantId!, id);
        const row = await inTenant(knex, req.tenantId!, async (trx) => {
          const created = await repo.insertStream(trx, req.tenantId!, { id, name: input.name, delivery: input.delivery, endpointUrl: input.endpointUrl, audience, events: input.events, form: input.form, now });
          await auditIn(deps.audit, trx, req, now, 'eventStream.create', target(id), { set: { name: input.name, delivery: input.delivery, endpointUrl: input.endpointUrl, audience, events: input.events, form: input.form } });
          return created;
        });
        res.status(201).json(streamJson(row, deps.publicUrl, 0));
      }),
    );

    api.describe(router, {
      method: 'patch',
      path: '/event-streams/:id',
      summary: 'Pause or resume an event stream',
      body: { schema: object({ state: { enum: ['enabled', 'paused'], description: '"enabled" resumes a paused stream' } }, ['state']), examples: [{ state: 'paused' }] },
      responses: { 200: { description: 'The stream', schema: STREAM }, 404: { description: 'No such stream' } },
    });
    router.patch(
      '/event-streams/:id',
      handle(async (req: AdminRequest, res) => {
        const id = String(req.params.id).toLowerCase();
        if (!isUuid(id)) throw missing(id);
        const state = (req.body as { state: 'enabled' | 'paused' }).state;
        const now = clock();
        const found = await inTenant(knex, req.tenantId!, async (trx) => {
          const before = await repo.getStream(trx, req.tenantId!, id);
          if (!before) return undefined;
          const row = (await repo.setStreamState(trx, req.tenantId!, id, state, now))!;
          if (before.state !== state) await auditIn(deps.audit, trx, req, now, 'eventStream.state', target(id), { state: { from: before.state, to: state } });
          return { row, pending: (await repo.pendingCounts(trx, req.tenantId!)).get(id) ?? 0 };
        });
        if (!found) throw missing(id);
        res.json(streamJson(found.row, deps.publicUrl, found.pending));
      }),
    );

    api.describe(router, { method: 'delete', path: '/event-streams/:id', summary: 'Delete an event stream, with the events it still held', responses: { 204: { description: 'Deleted' }, 404: { description: 'No such stream' } } });
    router.delete(
      '/event-streams/:id',
      handle(async (req: AdminRequest, res) => {
        const id = String(req.params.id).toLowerCase();
        if (!isUuid(id)) throw missing(id);
        const now = clock();
        const removed = await inTenant(knex, req.tenantId!, async (trx) => {
          const r = await repo.deleteStream(trx, req.tenantId!, id);
          if (r) await auditIn(deps.audit, trx, req, now, 'eventStream.delete', target(id), { name: r.name, delivery: r.delivery });
          return r;
        });
        if (!removed) throw missing(id);
        res.status(204).end();
      }),
    );
  };
}
