// Admin API: tenant settings — /api/v1/settings: groupKindRules (the rules that give IdP-pushed
// groups a kind from their displayName, issue 4), and for the front door (issue 5) how new users
// get in (activationMode, credentialsEmail), the language of their emails, and the privacy policy
// version they accept. Tenant-wide credentials only: a token bound to a sub-account gets 403.
import type { Knex } from 'knex';
import type { Router } from 'express';
import { forbidden, methodNotAllowed } from '../errors';
import type { ApiSection } from '../openapi/describe';
import { bool, patch, textOrNull } from '../openapi/schema-kit';
import type { AuditRepo } from '../store/audit-repo';
import { inTenant } from '../store/scope';
import * as tenancy from '../store/tenancy-repo';
import { AdminRequest, handle, tenantWideOnly } from './admin-router';
import { ACTIVATION_MODES } from '../accounts/person';
import { EMAIL_ADDRESS_FORMAT } from '../openapi/validator';

/** A tenant's own privacy policy text, shown as plain text on the front door's pages. */
export const PRIVACY_TEXT_MAX = 20_000;
const LANGUAGES = ['en', 'fr'];

/** A PATCH body (openapi/describe.ts validates it before the handler). */
const SETTINGS_SCHEMA = patch({
  groupKindRules: {
    type: 'array',
    maxItems: 100,
    description: 'rules giving IdP-pushed groups a kind from their displayName: each {kind, prefix} or {kind, pattern}',
    items: {
      type: 'object',
      properties: { kind: { enum: ['group', 'subAccount', 'company'] }, prefix: { type: 'string', minLength: 1, maxLength: 200 }, pattern: { type: 'string', minLength: 1, maxLength: 200 } },
      required: ['kind'],
      additionalProperties: false,
      // kind and exactly one of prefix or pattern.
      minProperties: 2,
      maxProperties: 2,
    },
  },
  activationMode: { enum: [...ACTIVATION_MODES] },
  // The one address rule (scim/email-address.ts, issue 9): a value the outbox would refuse later
  // makes every generatedCredentials create fail. test/api/addresses.test.ts
  credentialsEmail: { type: ['string', 'null'], minLength: 1, maxLength: 254, format: EMAIL_ADDRESS_FORMAT, description: 'an email address mail can go to, or null' },
  language: { enum: LANGUAGES },
  privacyPolicyVersion: textOrNull(50),
  // A link people follow from our pages: an absolute http(s) URL without credentials.
  privacyPolicyUrl: { type: ['string', 'null'], maxLength: 2000, pattern: '^\\s*[Hh][Tt][Tt][Pp][Ss]?://[^/?#@\\s]+([/?#]\\S*)?\\s*$', description: 'an absolute http or https URL without credentials, or null' },
  privacyPolicyText: textOrNull(PRIVACY_TEXT_MAX),
  passwordSync: bool('whether a password an IdP pushes over SCIM becomes the person’s'),
});

/** The settings as the API shows them, with their defaults. */
function view(s: Record<string, unknown>) {
  return {
    groupKindRules: s.groupKindRules ?? [],
    // How new users get in (accounts/write-hooks.ts): pending with an activation email, or active
    // with generated credentials sent to credentialsEmail (else the primary admin's email).
    activationMode: s.activationMode ?? 'activationEmail',
    credentialsEmail: s.credentialsEmail ?? null,
    // The language of emails for users without preferredLanguage/locale.
    language: s.language ?? 'en',
    // The privacy policy version people of this tenant accept; null: the server's
    // (PRIVACY_POLICY_VERSION). Raising it asks everyone to accept again at their next sign-in.
    privacyPolicyVersion: s.privacyPolicyVersion ?? null,
    // The tenant's own policy (issue 11): a link to it, or its text shown on /privacy, on the
    // activation page and on the privacy acceptance page; null: the operator's (PRIVACY_POLICY_URL).
    privacyPolicyUrl: s.privacyPolicyUrl ?? null,
    privacyPolicyText: s.privacyPolicyText ?? null,
    // Whether a password an IdP pushes over SCIM (Okta's password sync) becomes the person's
    // (accounts/write-hooks.ts); off: `password` is ignored, as RFC 7643 lets a server do.
    passwordSync: s.passwordSync === true,
  };
}

export function settingsRoutes(deps: { knex: Knex; audit: AuditRepo; clock: () => Date }) {
  return (router: Router, api: ApiSection) => {
    tenantWideOnly(router, '/settings');
    router.all('/settings', (req, _res, next) => next(['GET', 'PATCH'].includes(req.method) ? undefined : methodNotAllowed(['GET', 'PATCH'])));
    api.describe(router, { method: 'get', path: '/settings', summary: 'Read the tenant settings, with their defaults', responses: { 200: { description: 'The settings', schema: { type: 'object' } } } });
    router.get(
      '/settings',
      handle(async (req, res) => {
        const settings = await inTenant(deps.knex, req.tenantId!, (trx) => tenancy.settings(trx, req.tenantId!));
        res.json(view(settings));
      }),
    );
    api.describe(router, {
      method: 'patch',
      path: '/settings',
      summary: 'Change tenant settings (tenant-wide credentials)',
      body: { schema: SETTINGS_SCHEMA, examples: [{ language: 'fr', activationMode: 'activationEmail' }, { groupKindRules: [{ kind: 'company', prefix: 'CUST-' }], privacyPolicyUrl: 'https://example.com/privacy' }] },
      responses: { 200: { description: 'The settings', schema: { type: 'object' } } },
    });
    router.patch(
      '/settings',
      handle(async (req, res) => {
        if (req.scope!.actor.subAccountId) throw forbidden('Tenant settings can only be changed by tenant-wide credentials or tenant admins');
        const body = req.body as Record<string, unknown>;
        const patch: Record<string, unknown> = {};
        if ('groupKindRules' in body) patch.groupKindRules = body.groupKindRules;
        if ('activationMode' in body) patch.activationMode = body.activationMode;
        if ('credentialsEmail' in body) patch.credentialsEmail = body.credentialsEmail;
        for (const name of ['privacyPolicyVersion', 'privacyPolicyUrl', 'privacyPolicyText'] as const) {
          if (name in body) patch[name] = typeof body[name] === 'string' ? (body[name] as string).trim() : null;
        }
        if ('passwordSync' in body) patch.passwordSync = body.passwordSync;
        if ('language' in body) patch.language = body.language;
        const at = deps.clock();
        const settings = await inTenant(deps.knex, req.tenantId!, async (trx) => {
          const merged = await tenancy.mergeSettings(trx, req.tenantId!, patch);
          const actor = req.scope!.actor;
          await deps.audit.record(trx, req.tenantId!, at, { actorType: actor.type, actorId: actor.id, action: 'settings.update', targetType: 'Tenant', targetId: req.tenantId!, changes: { set: patch } });
          return merged;
        });
        res.json(view(settings));
      }),
    );
  };
}
