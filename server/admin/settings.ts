// Admin API: tenant settings — /api/v1/settings: groupKindRules (the rules that give IdP-pushed
// groups a kind from their displayName, issue 4), and for the front door (issue 5) how new users
// get in (activationMode, credentialsEmail), the language of their emails, and the privacy policy
// version they accept, and whom people kept out should contact (supportContact). Tenant-wide
// credentials only: a token bound to a sub-account gets 403.
import type { Knex } from 'knex';
import type { Router } from 'express';
import { FieldError, forbidden, invalidFields, methodNotAllowed } from '../errors';
import { isObject } from '../scim/normalize';
import type { ApiSection } from '../openapi/describe';
import { bool, patch, textOrNull } from '../openapi/schema-kit';
import type { AuditRepo } from '../store/audit-repo';
import { inTenant } from '../store/scope';
import * as tenancy from '../store/tenancy-repo';
import { AdminRequest, handle, tenantWideOnly } from './admin-router';
import { ACTIVATION_MODES } from '../accounts/person';
import { parseAddress } from '../scim/email-address';
import { SupportContact, supportContactOf } from '../accounts/support-contact';
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
  // Checked field by field by parseSupportContact (each fault named supportContact.<field>, which
  // the console's Settings page puts beside its input).
  supportContact: {
    type: ['object', 'null'],
    description: 'whom people kept out should contact: {name, email?, phone?}, or null (the pages name the organisation)',
    properties: { name: { type: 'string' }, email: { type: ['string', 'null'] }, phone: { type: ['string', 'null'] } },
  },
});

export const SUPPORT_NAME_MAX = 100;
export const SUPPORT_PHONE_MAX = 40;
/** Digits with the usual separators, an optional leading +: what people type as a phone number. */
const PHONE = /^\+?[0-9][0-9 ().\-/]*$/;
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/**
 * Reads `supportContact`: null (our pages name the organisation), or {name, email?, phone?} —
 * a name as people should read it ("the Acme help desk"), and how to reach it. A partner admin
 * fills a help-desk name and an address or number, not free prose: the pages compose the sentence
 * in the reader's language around it. Each field's fault is its own error (`supportContact.name`…).
 * test/api/support-contact.test.ts
 */
export function parseSupportContact(v: unknown): SupportContact | null {
  if (v === null) return null;
  const errors: FieldError[] = [];
  if (!isObject(v)) throw invalidFields([{ field: 'supportContact', path: '/supportContact', code: 'type', detail: 'must be an object {"name", "email", "phone"} or null' }]);
  const unknown = Object.keys(v).filter((k) => !['name', 'email', 'phone'].includes(k));
  for (const k of unknown) errors.push({ field: `supportContact.${k}`, path: `/supportContact/${k}`, code: 'unknown', detail: 'is not a field of supportContact; the fields are name, email, phone' });
  const text = (x: unknown) => (typeof x === 'string' ? x.trim() : x);
  const name = text(v.name);
  if (typeof name !== 'string' || name === '') errors.push({ field: 'supportContact.name', path: '/supportContact/name', code: 'required', detail: 'is required: who to contact, such as "the Acme help desk"' });
  else if ([...name].length > SUPPORT_NAME_MAX) errors.push({ field: 'supportContact.name', path: '/supportContact/name', code: 'maxLength', params: { limit: SUPPORT_NAME_MAX }, detail: `must be at most ${SUPPORT_NAME_MAX} characters` });
  else if (CONTROL.test(name)) errors.push({ field: 'supportContact.name', path: '/supportContact/name', code: 'pattern', detail: 'must be one line, without control characters' });
  let email: string | null = null;
  const rawEmail = text(v.email);
  if (rawEmail !== undefined && rawEmail !== null && rawEmail !== '') {
    // The one address rule (scim/email-address.ts): the pages make it a mailto: link.
    const parsed = parseAddress(rawEmail);
    if (parsed.ok) email = parsed.address;
    else errors.push({ field: 'supportContact.email', path: '/supportContact/email', code: 'address', detail: `must be an email address: it ${parsed.reason}` });
  }
  let phone: string | null = null;
  const rawPhone = text(v.phone);
  if (rawPhone !== undefined && rawPhone !== null && rawPhone !== '') {
    const digits = typeof rawPhone === 'string' ? rawPhone.replace(/[^0-9]/g, '').length : 0;
    if (typeof rawPhone !== 'string' || rawPhone.length > SUPPORT_PHONE_MAX || !PHONE.test(rawPhone) || digits < 3) {
      errors.push({ field: 'supportContact.phone', path: '/supportContact/phone', code: 'pattern', detail: `must be a phone number: digits, spaces and + ( ) . - /, at most ${SUPPORT_PHONE_MAX} characters` });
    } else phone = rawPhone;
  }
  if (errors.length) throw invalidFields(errors);
  return { name: name as string, email, phone };
}

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
    // Whom people kept out should contact (issue 11): {name, email, phone}; null: the pages name
    // the organisation ("contact an administrator of Acme").
    supportContact: supportContactOf(s) ?? null,
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
        if ('supportContact' in body) patch.supportContact = parseSupportContact(body.supportContact);
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
