// Single sign-on (issue 11, "Single sign-on (connections, domain proof with the DNS record to add,
// "require SSO")"): the tenant's OIDC connections — create, change, delete behind a confirmation;
// per email domain the TXT record that proves it and a "Check now" button (the admin API reads
// DNS, never this page); the "require SSO" switch, whose switching on is confirmed because it
// takes passwords away. Client secrets are write-only: the API never answers them and the forms
// never show one back, not even after an error (docs/sso.md; docs/admin-api.md, "SSO
// connections"). Tenant-wide only. test/api/console-admin-pages.test.ts, "Single sign-on".
import type { Request, Response } from 'express';
import type { ApiAnswer } from '../admin-client';
import { formValue, type ConsoleKit, type ConsolePage } from '../kit';
import { confirmedDelete, fieldProblems, NOT_FOUND, refused, segment, when } from './admin-forms';

const FIELDS = ['issuer', 'clientId', 'clientSecret', 'emailDomains', 'trustEmail', 'requireSso'];

interface Values {
  issuer: string;
  clientId: string;
  emailDomains: string;
  trustEmail: boolean;
}
interface Form {
  values: Values;
  errors: Record<string, string>;
  message?: string;
}
const blank = (): Form => ({ values: { issuer: '', clientId: '', emailDomains: '', trustEmail: false }, errors: {} });
/** What was typed, never the client secret (issue 11: keep what was typed, never a secret). */
const values = (req: Request): Values => ({
  issuer: formValue(req, 'issuer'),
  clientId: formValue(req, 'clientId'),
  emailDomains: formValue(req, 'emailDomains'),
  trustEmail: formValue(req, 'trustEmail') === 'yes',
});
const domainList = (v: string) => v.split(/[\s,;]+/).filter(Boolean);

/** An SSO refusal beside its field: the API names it (issuer: discovery; emailDomains: domain, taken). */
const problems = (kit: ConsoleKit, res: Response, answer: ApiAnswer) => fieldProblems(kit, res, answer, FIELDS);

async function listPage(kit: ConsoleKit, req: Request, res: Response, form = blank(), status = 200, domainError?: { id: string; domain: string; message: string }) {
  const c = kit.ctx(res);
  const answer = await kit.api(req).get('/sso-connections');
  if (!answer.ok) return refused(kit, req, res, answer);
  kit.render(req, res, 'console/sso/index', { title: c.t('sso:title'), connections: answer.body.ssoConnections, form, domainError, when: (iso: string) => when(iso, c.lang) }, status);
}

async function editPage(kit: ConsoleKit, req: Request, res: Response, id: string, form?: Form, status = 200) {
  const answer = await kit.api(req).get(`/sso-connections/${id}`);
  if (!answer.ok) return refused(kit, req, res, answer);
  const s = answer.body;
  const f = form ?? { values: { issuer: s.issuer, clientId: s.clientId, emailDomains: s.emailDomains.join(', '), trustEmail: s.trustEmail }, errors: {} };
  kit.render(req, res, 'console/sso/edit', { title: kit.ctx(res).t('sso:edit.title', { issuer: s.issuer }), connection: s, form: f }, status);
}

export const ssoPage: ConsolePage = {
  nav: { path: '/sso', label: 'nav.sso', order: 80, tenantWideOnly: true },
  routes(router, kit) {
    router.get(
      '/sso',
      kit.wrap((req, res) => listPage(kit, req, res)),
    );

    router.post(
      '/sso',
      kit.wrap(async (req, res) => {
        const v = values(req);
        const answer = await kit.api(req).send('POST', '/sso-connections', {
          issuer: v.issuer.trim(),
          clientId: v.clientId.trim(),
          clientSecret: formValue(req, 'clientSecret'),
          emailDomains: domainList(v.emailDomains),
          trustEmail: v.trustEmail,
          // Never on creation: requiring SSO takes passwords away, so it goes through the confirmed switch.
          requireSso: false,
        });
        if (!answer.ok) {
          if (![400, 409].includes(answer.status)) return refused(kit, req, res, answer);
          const p = problems(kit, res, answer);
          return listPage(kit, req, res, { values: v, errors: p.fields, message: p.message }, answer.status);
        }
        kit.done(res, '/sso', 'sso.created');
      }),
    );

    router.get(
      '/sso/:id',
      kit.wrap(async (req, res) => {
        const id = segment(req.params.id);
        return id ? editPage(kit, req, res, id) : refused(kit, req, res, NOT_FOUND);
      }),
    );

    router.post(
      '/sso/:id',
      kit.wrap(async (req, res) => {
        const id = segment(req.params.id);
        if (!id) return refused(kit, req, res, NOT_FOUND);
        const v = values(req);
        const secret = formValue(req, 'clientSecret');
        const change: Record<string, unknown> = { issuer: v.issuer.trim(), clientId: v.clientId.trim(), emailDomains: domainList(v.emailDomains), trustEmail: v.trustEmail };
        // Empty: keep the current secret (it is never shown, so the form cannot hold it).
        if (secret) change.clientSecret = secret;
        const answer = await kit.api(req).send('PATCH', `/sso-connections/${id}`, change);
        if (!answer.ok) {
          if (![400, 409].includes(answer.status)) return refused(kit, req, res, answer);
          const p = problems(kit, res, answer);
          return editPage(kit, req, res, id, { values: v, errors: p.fields, message: p.message }, answer.status);
        }
        kit.done(res, '/sso', 'sso.changed');
      }),
    );

    // "Require SSO": switching it on takes local passwords away, so it is confirmed first.
    router.post(
      '/sso/:id/require',
      kit.wrap(async (req, res) => {
        const c = kit.ctx(res);
        const id = segment(req.params.id);
        if (!id) return refused(kit, req, res, NOT_FOUND);
        const on = formValue(req, 'requireSso') === 'yes';
        const api = kit.api(req);
        if (on && formValue(req, 'confirm') !== 'yes') {
          const found = await api.get(`/sso-connections/${id}`);
          if (!found.ok) return refused(kit, req, res, found);
          return kit.confirm(req, res, {
            title: c.t('sso:require.title'),
            message: c.t('sso:require.message', { domains: found.body.emailDomains.join(', ') }),
            action: `/console/sso/${id}/require`,
            fields: { requireSso: 'yes' },
            confirmLabel: c.t('sso:require.confirm'),
            cancelHref: '/console/sso',
            danger: true,
          });
        }
        const answer = await api.send('PATCH', `/sso-connections/${id}`, { requireSso: on });
        if (!answer.ok) return refused(kit, req, res, answer);
        kit.done(res, '/sso', on ? 'sso.required' : 'sso.notRequired');
      }),
    );

    // "Check now": the admin API looks the domain's TXT record up and proves the domain.
    router.post(
      '/sso/:id/domains/:domain/verify',
      kit.wrap(async (req, res) => {
        const id = segment(req.params.id);
        const domain = segment(req.params.domain);
        if (!id || !domain) return refused(kit, req, res, NOT_FOUND);
        const answer = await kit.api(req).send('POST', `/sso-connections/${id}/domains/${domain}/verify`);
        if (answer.ok) return kit.done(res, '/sso', 'sso.verified');
        if (![400, 409].includes(answer.status)) return refused(kit, req, res, answer);
        return listPage(kit, req, res, blank(), answer.status, { id, domain, message: kit.problems(res, answer).message });
      }),
    );

    confirmedDelete(router, kit, { page: '/sso', api: '/sso-connections', ns: 'sso', words: async (_api, found) => ({ issuer: found.issuer, domains: (found.emailDomains as string[]).join(', ') }) });
  },
};
