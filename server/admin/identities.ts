// Admin API: a person's sign-in identities at the tenant's SSO connections (issue 9 point 5).
//
//   GET    /api/v1/users/{id}/identities                 → {"identities": [{connectionId, issuer, subject, linkedAt, linkedBy}]}
//   DELETE /api/v1/users/{id}/identities/{connectionId}  → 204 (the person signs in with the IdP
//                                                            again only through a new link)
//
// Unlinking is audited (user.identity.unlink, sso/identities.ts) and follows the authority rule
// (resources/authority.ts): nobody but the primary admin unlinks the primary admin, and a
// credential bound to a sub-account sees only its subtree's people (others are 404) and unlinks
// only those it fully administers (403).
// A user or link that does not exist, or another tenant's, is 404. docs/admin-api.md;
// test/api/sso-policy.test.ts.
import type { Router } from 'express';
import { notFound } from '../errors';
import { isUuid } from '../scim/members';
import type { IdentityLinks } from '../sso/identities';
import type { ApiSection } from '../openapi/describe';
import { handle } from './admin-router';

export function identityAdminRoutes(deps: { links: IdentityLinks }) {
  const { links } = deps;
  const userId = (raw: unknown) => {
    const id = String(raw).toLowerCase();
    if (!isUuid(id)) throw notFound(`User ${String(raw)} not found`);
    return id;
  };
  return (router: Router, api: ApiSection) => {
    api.describe(router, {
      method: 'get',
      path: '/users/:id/identities',
      summary: "A user's identities linked at SSO connections",
      responses: { 200: { description: 'The identities', schema: { type: 'object', properties: { identities: { type: 'array', items: { type: 'object', properties: { connectionId: { type: 'string' }, issuer: { type: 'string' }, subject: { type: 'string' }, linkedAt: { type: 'string' } } } } } } }, 404: { description: 'No such user' } },
    });
    router.get(
      '/users/:id/identities',
      handle(async (req, res) => {
        const id = userId(req.params.id);
        const rows = await links.list(req.tenantId!, id, req.scope!.actor);
        if (!rows) throw notFound(`User ${id} not found`);
        res.json({
          identities: rows.map((r) => ({ connectionId: r.connection_id, issuer: r.issuer, subject: r.subject, linkedAt: new Date(r.linked_at).toISOString(), linkedBy: r.linked_by })),
        });
      }),
    );
    api.describe(router, { method: 'delete', path: '/users/:id/identities/:connectionId', summary: "Unlink a user's identity at an SSO connection", responses: { 204: { description: 'Unlinked' }, 404: { description: 'No such user, or no identity linked there' } } });
    router.delete(
      '/users/:id/identities/:connectionId',
      handle(async (req, res) => {
        const id = userId(req.params.id);
        const connectionId = String(req.params.connectionId);
        const outcome = await links.unlink(req.tenantId!, id, connectionId, req.scope!.actor);
        if (outcome === 'no-user') throw notFound(`User ${id} not found`);
        if (outcome === 'no-link') throw notFound(`User ${id} has no identity linked at SSO connection ${connectionId}`);
        res.status(204).end();
      }),
    );
  };
}
