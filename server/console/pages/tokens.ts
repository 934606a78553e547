// API tokens (issue 11, "API tokens (the secret shown once)"): every credential that can call the
// tenant's APIs — tokens, SCIM clients (client credentials and authorization code), the grants
// tenant admins consented to for authorization code clients (who, when, last use), the trusted
// external issuer — with its last use; creating
// a token (name, scopes, expiry, optional sub-account) whose secret is shown in the answer to the
// creating POST only (never in a URL, never again: the admin API keeps only its hash); revoking
// behind a confirmation step. A sub-account admin works with their sub-account's tokens only —
// the admin API decides (docs/admin-api.md, "Tokens bound to a sub-account").
// test/api/console-admin-pages.test.ts, "API tokens".
import type { Request, Response } from 'express';
import { formValue, formValues, type ConsoleKit, type ConsolePage } from '../kit';
import { dateInput, fieldProblems, refused, when } from './admin-forms';

const FIELDS = ['name', 'scopes', 'expiresAt', 'subAccount'] as const;

interface Form {
  values: { name: string; scopes: string[]; expiresAt: string; subAccount: string };
  errors: Record<string, string>;
  message?: string;
}

async function listPage(kit: ConsoleKit, req: Request, res: Response, form: Form, status = 200, created?: Record<string, unknown>) {
  const c = kit.ctx(res);
  const answer = await kit.api(req).get('/tokens');
  if (!answer.ok) return refused(kit, req, res, answer);
  const now = Date.now();
  const state = (x: { revokedAt?: string | null; expiresAt?: string | null }) =>
    x.revokedAt ? 'revoked' : x.expiresAt && Date.parse(x.expiresAt) <= now ? 'expired' : 'active';
  kit.render(
    req,
    res,
    'console/tokens/index',
    {
      title: c.t('tokens:title'),
      tokens: answer.body.tokens ?? [],
      clients: answer.body.scimClients ?? [],
      grants: answer.body.oauthGrants ?? [],
      issuer: answer.body.scimIssuer ?? null,
      state,
      when: (iso: string | null) => when(iso, c.lang),
      form,
      created,
      bound: c.tenantWide ? null : c.current,
    },
    status,
  );
}

const emptyForm = (): Form => ({ values: { name: '', scopes: ['scim'], expiresAt: '', subAccount: '' }, errors: {} });

export const tokensPage: ConsolePage = {
  nav: { path: '/tokens', label: 'nav.tokens', order: 90 },
  routes(router, kit) {
    router.get(
      '/tokens',
      kit.wrap((req, res) => listPage(kit, req, res, emptyForm())),
    );

    router.post(
      '/tokens',
      kit.wrap(async (req, res) => {
        const c = kit.ctx(res);
        const values = { name: formValue(req, 'name'), scopes: formValues(req, 'scopes'), expiresAt: formValue(req, 'expiresAt'), subAccount: formValue(req, 'subAccount') };
        // A sub-account admin's tokens are bound to the sub-account they work in (the API refuses any other).
        const subAccount = c.tenantWide ? values.subAccount.trim() || null : c.current.id;
        const answer = await kit.api(req).send('POST', '/tokens', { name: values.name, scopes: values.scopes, expiresAt: dateInput(values.expiresAt) ?? null, subAccount });
        if (!answer.ok) {
          const p = fieldProblems(kit, res, answer, FIELDS);
          return listPage(kit, req, res, { values, errors: p.fields, message: p.message }, answer.status === 403 ? 403 : 400);
        }
        // The secret is in this answer only: not cached, never put in a URL, never read again.
        res.set('Cache-Control', 'no-store');
        return listPage(kit, req, res, emptyForm(), 201, answer.body);
      }),
    );

    // No longer trusting the external issuer (DELETE /scim-issuer): the same confirmation step.
    router.post(
      '/tokens/issuer/revoke',
      kit.wrap(async (req, res) => {
        const c = kit.ctx(res);
        if (formValue(req, 'confirm') !== 'yes') {
          const found = await kit.api(req).get('/scim-issuer');
          if (!found.ok) return refused(kit, req, res, found);
          return kit.confirm(req, res, {
            title: c.t('tokens:revoke.title', { name: found.body.issuer }),
            message: c.t('tokens:revoke.issuerMessage', { name: found.body.issuer }),
            action: '/console/tokens/issuer/revoke',
            fields: {},
            confirmLabel: c.t('tokens:revoke.confirm'),
            cancelHref: '/console/tokens',
            danger: true,
          });
        }
        const answer = await kit.api(req).send('DELETE', '/scim-issuer');
        if (!answer.ok) return refused(kit, req, res, answer);
        kit.done(res, '/tokens', 'tokens.revoked');
      }),
    );

    // Revoking a token, a SCIM client or an authorization grant: a confirmation step first (works without scripts).
    const PATHS = { tokens: '/tokens', clients: '/scim-clients', grants: '/oauth-grants' } as const;
    const MESSAGES = { tokens: 'tokens:revoke.message', clients: 'tokens:revoke.clientMessage', grants: 'tokens:revoke.grantMessage' } as const;
    router.post(
      '/tokens/:kind/:id/revoke',
      kit.wrap(async (req, res) => {
        const c = kit.ctx(res);
        const kind = Object.keys(PATHS).find((k) => k === req.params.kind) as keyof typeof PATHS | undefined;
        const id = String(req.params.id);
        if (!kind || !/^[0-9a-fA-F-]{36}$/.test(id)) return refused(kit, req, res, { status: 404, ok: false, body: { detail: c.t('errors.notFound') } });
        const path = `${PATHS[kind]}/${id}`;
        if (formValue(req, 'confirm') !== 'yes') {
          const found = await kit.api(req).get(path);
          if (!found.ok) return refused(kit, req, res, found);
          // A grant has no name of its own: its client's, and who consented.
          const name = kind === 'grants' ? c.t('tokens:grantName', { client: found.body.client?.name, person: found.body.consentedBy?.name ?? found.body.consentedBy?.id }) : found.body.name;
          return kit.confirm(req, res, {
            title: c.t('tokens:revoke.title', { name }),
            message: c.t(MESSAGES[kind], { name }),
            action: `/console/tokens/${kind}/${id}/revoke`,
            fields: {},
            confirmLabel: c.t('tokens:revoke.confirm'),
            cancelHref: '/console/tokens',
            danger: true,
          });
        }
        const answer = await kit.api(req).send('DELETE', path);
        if (!answer.ok) return refused(kit, req, res, answer);
        kit.done(res, '/tokens', 'tokens.revoked');
      }),
    );
  },
};
