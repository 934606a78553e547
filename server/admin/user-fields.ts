// The admin API's users (docs/admin-api.md, "Users"): the fields a form sends, turned into the
// SCIM resource or PatchOp operations the resource service takes (so every rule of a SCIM write
// holds here too — tenancy, the primary admin, the authority rule, audit, the account hooks),
// and a user's SCIM representation turned back into the row a users list shows. Every field at
// fault is reported by name (FieldError), so a form can show each error next to its field.
// Pure; test/unit/user-fields.test.ts.
import { FieldError, invalidFields, ScimError } from '../errors';
import { isObject, Json, JsonObject } from '../scim/normalize';
import { parseAddress } from '../scim/email-address';
import { PATCH_OP_URN, PROVISIO_USER_URN, USER_URN } from '../scim/urns';
import { ROLES } from '../resources/roles';
import { NOT_BLANK } from '../openapi/describe';
import { bool, object, patch, text } from '../openapi/schema-kit';
import { EMAIL_ADDRESS_FORMAT } from '../openapi/validator';

export const ACTIVATIONS = ['email', 'now', 'later'] as const;
export type Activation = (typeof ACTIVATIONS)[number];
export const USER_STATES = ['pending', 'active', 'inactive'] as const;
export type UserState = (typeof USER_STATES)[number];

const MAX_NAME = 200;

/** The Provisio extension attributes a form sets directly, by field name. */
const EXTENSION_FIELDS = ['notificationEmail', 'externalContact', 'priceList', 'permissionProfile', 'credentialsEmail'];

const NAME = { type: ['string', 'null'], maxLength: MAX_NAME, description: 'trimmed' };
const ADDRESS = { type: ['string', 'null'], maxLength: 254, format: EMAIL_ADDRESS_FORMAT, description: 'an email address mail can go to' };
const TEXT = { type: ['string', 'null'], maxLength: 1000 };
const USER_FIELDS = {
  givenName: NAME,
  familyName: NAME,
  email: { ...ADDRESS, description: 'an email address mail can go to (the sign-in email and work email)' },
  role: { enum: [...ROLES, null] },
  notificationEmail: ADDRESS,
  externalContact: TEXT,
  priceList: { ...TEXT, description: 'the id of a price list' },
  services: { type: ['array', 'null'], items: { type: 'string', pattern: NOT_BLANK }, maxItems: 1000, description: 'service keys' },
  permissionProfile: { ...TEXT, description: 'the key of a permission profile' },
  credentialsEmail: ADDRESS,
};

/** The body schemas of a user's creation and change (openapi/describe.ts validates them before the handlers). */
export const NEW_USER_SCHEMA = object({
  ...USER_FIELDS,
  // A new user has names and an email: none may be empty here (a change may clear the optional fields only).
  givenName: text(MAX_NAME, 'trimmed'),
  familyName: text(MAX_NAME, 'trimmed'),
  email: { ...USER_FIELDS.email, type: 'string', minLength: 1 },
  activation: { enum: [...ACTIVATIONS, null], description: '"email" (an activation email), "now" (active, with a generated password) or "later" (pending)' } }, ['givenName', 'familyName', 'email']);
export const USER_PATCH_SCHEMA = patch({ ...USER_FIELDS, active: bool('false switches the person off') });

/**
 * Reads the fields of a body its schema accepted, as stored (trimmed), and records what is wrong
 * by the rules a schema cannot say: an address mail can go to (scim/email-address.ts), a name or
 * email that must not be empty. Returns undefined for absent, null for null or empty.
 */
class Fields {
  readonly errors: FieldError[] = [];

  constructor(readonly body: JsonObject) {}

  fail(field: string, code: string, detail: string): undefined {
    this.errors.push({ field, path: `/${field}`, code, detail });
    return undefined;
  }

  name(field: string, required: boolean): string | null | undefined {
    const v = this.body[field];
    if (v === undefined || v === null || (typeof v === 'string' && v.trim() === '')) return required ? this.fail(field, 'required', 'is required') : v === undefined ? undefined : null;
    return String(v).trim();
  }

  address(field: string, required: boolean): string | null | undefined {
    const v = this.body[field];
    if (v === undefined || v === null || v === '') return required ? this.fail(field, 'required', 'is required: an email address such as name@example.com') : v === undefined ? undefined : null;
    const parsed = parseAddress(v);
    if (!parsed.ok) return this.fail(field, 'address', `is not an email address mail can go to: ${parsed.reason}`);
    return parsed.address;
  }

  text(field: string): string | null | undefined {
    const v = this.body[field];
    if (v === undefined || v === null || v === '') return v === undefined ? undefined : null;
    return String(v).trim();
  }

  keys(field: string): string[] | undefined {
    const v = this.body[field];
    if (v === undefined || v === null) return v === null ? [] : undefined;
    return [...new Set((v as string[]).map((k) => k.trim()))];
  }

  done(): void {
    if (this.errors.length) throw invalidFields(this.errors);
  }
}

const asObject = (body: unknown): JsonObject => (isObject(body) ? body : {});

const servicesValue = (keys: string[]): Json => keys.map((value) => ({ type: 'service', value }));

export interface NewUserForm {
  /** The SCIM User to create. */
  resource: JsonObject;
  activation: Activation;
}

/** A create request's fields → the SCIM User to create, and how the person gets in. */
export function parseNewUser(body: unknown): NewUserForm {
  const f = new Fields(asObject(body));
  const givenName = f.name('givenName', true);
  const familyName = f.name('familyName', true);
  const email = f.address('email', true);
  const role = (f.body.role as string | null | undefined) ?? 'user';
  const ext: JsonObject = {};
  for (const name of EXTENSION_FIELDS) {
    const v = name === 'notificationEmail' || name === 'credentialsEmail' ? f.address(name, false) : f.text(name);
    if (v !== undefined && v !== null) ext[name] = v;
  }
  const services = f.keys('services');
  const activation = (f.body.activation as Activation | null | undefined) ?? 'email';
  f.done();
  const resource: JsonObject = {
    schemas: [USER_URN, PROVISIO_USER_URN],
    userName: email!,
    name: { givenName: givenName!, familyName: familyName!, formatted: `${givenName} ${familyName}` },
    displayName: `${givenName} ${familyName}`,
    emails: [{ value: email!, type: 'work', primary: true }],
    roles: [{ value: role }],
    [PROVISIO_USER_URN]: { ...ext, activationMode: activation === 'now' ? 'generatedCredentials' : 'activationEmail' },
  };
  if (services?.length) resource.entitlements = servicesValue(services);
  return { resource, activation };
}

/** A change request's fields → PatchOp operations (RFC 7644 §3.5.2) on the user. */
export function parseUserPatch(body: unknown): JsonObject {
  const f = new Fields(asObject(body));
  const ops: JsonObject[] = [];
  const set = (path: string, value: Json | null | undefined) => {
    if (value === undefined) return;
    ops.push(value === null ? { op: 'remove', path } : { op: 'replace', path, value });
  };
  const givenName = f.name('givenName', false);
  const familyName = f.name('familyName', false);
  if (givenName === null) f.fail('givenName', 'required', 'cannot be emptied: a user has a name');
  if (familyName === null) f.fail('familyName', 'required', 'cannot be emptied: a user has a name');
  set('name.givenName', givenName);
  set('name.familyName', familyName);
  const email = f.address('email', false);
  if (email === null) f.fail('email', 'required', 'cannot be emptied: it is how the person signs in');
  if (email) {
    set('userName', email);
    set('emails[type eq "work"].value', email);
  }
  const role = f.body.role as string | null | undefined;
  if (role) set('roles', [{ value: role }]);
  for (const name of EXTENSION_FIELDS) set(`${PROVISIO_USER_URN}:${name}`, name === 'notificationEmail' || name === 'credentialsEmail' ? f.address(name, false) : f.text(name));
  const services = f.keys('services');
  if (services) set('entitlements', services.length ? servicesValue(services) : null);
  set('active', f.body.active as boolean | undefined);
  f.done();
  return { schemas: [PATCH_OP_URN], Operations: ops };
}

/** The name to show for a user: displayName, else the formatted or given and family names. */
function nameParts(r: JsonObject): { givenName: string | null; familyName: string | null; displayName: string | null } {
  const name = isObject(r.name) ? r.name : {};
  const givenName = typeof name.givenName === 'string' ? name.givenName : null;
  const familyName = typeof name.familyName === 'string' ? name.familyName : null;
  const displayName =
    (typeof r.displayName === 'string' && r.displayName) || (typeof name.formatted === 'string' && name.formatted) || [givenName, familyName].filter(Boolean).join(' ') || null;
  return { givenName, familyName, displayName };
}

/** The state a list shows: inactive (switched off), else pending (not activated yet), else active. */
export function stateOf(r: JsonObject): UserState {
  const ext = isObject(r[PROVISIO_USER_URN]) ? r[PROVISIO_USER_URN] : {};
  if (r.active === false) return 'inactive';
  return ext.activationState === 'pending' ? 'pending' : 'active';
}

/** A user's SCIM representation → the row the admin API answers. */
export function userRow(r: JsonObject, lastSignInAt: Date | null): JsonObject {
  const ext = isObject(r[PROVISIO_USER_URN]) ? r[PROVISIO_USER_URN] : {};
  const roles = Array.isArray(r.roles) ? r.roles : [];
  const services = (Array.isArray(r.entitlements) ? r.entitlements : []).filter((e) => isObject(e) && (e.type === undefined || e.type === 'service')).map((e) => (e as JsonObject).value as Json);
  const meta = isObject(r.meta) ? r.meta : {};
  return {
    id: r.id as string,
    ...nameParts(r),
    email: typeof r.userName === 'string' ? r.userName : null,
    role: roles.some((x) => isObject(x) && x.value === 'admin') ? 'admin' : 'user',
    state: stateOf(r),
    primaryAdmin: ext.primaryAdmin === true,
    services,
    notificationEmail: (ext.notificationEmail as string | undefined) ?? null,
    externalContact: (ext.externalContact as string | undefined) ?? null,
    priceList: (ext.priceList as string | undefined) ?? null,
    permissionProfile: (ext.permissionProfile as string | undefined) ?? null,
    credentialsEmail: (ext.credentialsEmail as string | undefined) ?? null,
    lastSignInAt: lastSignInAt ? lastSignInAt.toISOString() : null,
    createdAt: (meta.created as string | undefined) ?? null,
    updatedAt: (meta.lastModified as string | undefined) ?? null,
  };
}

/**
 * Which field of the form an error of the resource service is about, from the attribute its
 * detail names (the service speaks SCIM: `userName`, `…:priceList`, `roles[0].value`).
 */
const FIELD_OF: [RegExp, string][] = [
  [/^userName\b/, 'email'],
  [/:notificationEmail\b/, 'notificationEmail'],
  [/:credentialsEmail\b/, 'credentialsEmail'],
  [/:priceList\b/, 'priceList'],
  [/:permissionProfile\b/, 'permissionProfile'],
  [/:externalContact\b/, 'externalContact'],
  [/^roles\b|admin role/, 'role'],
  [/entitlements|service/i, 'services'],
  [/^name\b|givenName|familyName/, 'givenName'],
];

export function fieldOfError(err: ScimError): string | undefined {
  if (err.status >= 500 || err.fields) return undefined;
  return FIELD_OF.find(([re]) => re.test(err.message))?.[1];
}

/** The query of a users list, as a SCIM filter over the attributes the service knows. */
export function listFilter(q: { search?: string; state?: UserState; role?: string; group?: string }): string | undefined {
  const parts: string[] = [];
  if (q.search) {
    const s = JSON.stringify(q.search.trim());
    parts.push(`(userName co ${s} or name.givenName co ${s} or name.familyName co ${s} or displayName co ${s})`);
  }
  if (q.state === 'inactive') parts.push('active eq false');
  if (q.state === 'active') parts.push(`active eq true and ${PROVISIO_USER_URN}:activationState eq "active"`);
  if (q.state === 'pending') parts.push(`active eq true and ${PROVISIO_USER_URN}:activationState eq "pending"`);
  if (q.role) parts.push(`roles.value eq ${JSON.stringify(q.role)}`);
  if (q.group) parts.push(`groups.value eq ${JSON.stringify(q.group)}`);
  return parts.length ? parts.join(' and ') : undefined;
}
