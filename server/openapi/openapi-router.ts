// GET /api/v1/openapi.json: the OpenAPI 3.1 document of the admin and operator APIs
// (openapi/document.ts). Public, like any published API description: it says what the APIs
// accept, never what a tenant holds, and a client needs it before it has a credential
// (docs/admin-api.md, "OpenAPI description"). Mounted in front of the admin API's authentication.
import express, { Router } from 'express';
import type { ApiDescriptions, ApiSection } from './describe';
import { DocumentInfo, openApiDocument } from './document';

export function openApiRouter(d: { registry: ApiDescriptions; section: ApiSection; info: DocumentInfo }): Router {
  const router = express.Router();
  d.section.describe(router, {
    method: 'get',
    path: '/openapi.json',
    summary: 'This OpenAPI 3.1 description of the admin and operator APIs',
    tag: 'openapi',
    public: true,
    responses: { 200: { description: 'The OpenAPI document', schema: { type: 'object', required: ['openapi', 'info', 'paths'] } } },
  });
  // Built at the first request: every route has described itself by then (the app is assembled).
  let body: string | undefined;
  router.get('/openapi.json', (_req, res) => {
    body ??= JSON.stringify(openApiDocument(d.registry.all(), d.info));
    res.type('application/json').send(body);
  });
  return router;
}
