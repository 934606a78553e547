// The tenant's event endpoints (issue 13, docs/events.md):
//   POST {PUBLIC_URL}/events/v1/{tenantId}/streams/{streamId}/poll   RFC 8936 poll delivery
//
// Authenticated by one of the tenant's API tokens with the `events` scope, tenant-wide only (a
// stream carries the whole tenant's changes; a token bound to a sub-account gets 403). A token of
// another tenant reads as a missing stream (404), like every other tenant's object. The body is
// read only once the caller is known, as on the admin API.
import express, { Router } from 'express';
import type { Logger } from 'pino';
import { forbidden, methodNotAllowed, notFound, unauthorized } from '../errors';
import { bearerToken } from '../secrets';
import type { Authenticator } from '../tenancy/authenticator';
import { EventPoll, parsePollRequest } from '../events/poll';
import { jsonErrorHandler } from './error-handler';
import { handle } from './handle';

export const EVENTS_SCOPE = 'events';

export interface EventsRouterDeps {
  authenticator: Authenticator;
  poll: EventPoll;
  logger: Logger;
  maxBodyBytes: number;
}

export const pollUrl = (publicUrl: string, tenantId: string, streamId: string) => `${publicUrl}/events/v1/${tenantId}/streams/${streamId}/poll`;

export function createEventsRouter(deps: EventsRouterDeps): Router {
  const router = express.Router({ mergeParams: true });
  router.all('/streams/:streamId/poll', (req, _res, next) => next(req.method === 'POST' ? undefined : methodNotAllowed(['POST'])));
  router.use(
    handle(async (req, _res, next) => {
      const token = bearerToken(req.headers.authorization);
      if (!token) throw unauthorized();
      const cred = await deps.authenticator.authenticate(token, { api: 'admin' });
      if (!cred) throw unauthorized('The bearer token is not valid');
      const tenantId = String((req.params as Record<string, string>).tenantId ?? '').toLowerCase();
      if (cred.tenantId !== tenantId) throw notFound('No such event stream');
      if (!cred.scopes.includes(EVENTS_SCOPE)) throw forbidden(`This token does not have the "${EVENTS_SCOPE}" scope`);
      if (cred.subAccountId) throw forbidden('Event streams carry the whole tenant: poll with a tenant-wide token');
      next();
    }),
  );
  router.use(express.json({ type: () => true, limit: deps.maxBodyBytes }));
  router.post(
    '/streams/:streamId/poll',
    handle(async (req, res) => {
      const body = parsePollRequest(req.body);
      const tenantId = String((req.params as Record<string, string>).tenantId).toLowerCase();
      const answer = await deps.poll.poll(tenantId, req.params.streamId as string, body);
      res.set('Cache-Control', 'no-store').json(answer);
    }),
  );
  router.use((req, _res, next) => next(notFound(`Nothing at ${req.method} ${req.path}`)));
  router.use(jsonErrorHandler(deps.logger));
  return router;
}
