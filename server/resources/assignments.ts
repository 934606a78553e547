// What a user is assigned (issue 10): services, as SCIM `entitlements` of type `service` whose
// `value` is a key of the tenant's catalogue (/api/v1/services), and a permission profile, the
// Provisio User extension's `permissionProfile` (a key of /api/v1/permission-profiles). Checked
// and normalized on every write path — SCIM, Bulk, tenant creation, the admin API — inside the
// write's transaction (kinds.ts, the User kind's `check`). docs/scim-support.md, "Services and
// permission profiles". Proven by test/api/services.test.ts, test/api/permission-profiles.test.ts
// and the pure parts by test/unit/assignments.test.ts.
import type { Knex } from 'knex';
import { invalidValue } from '../errors';
import { isObject, Json, JsonObject, sameJson } from '../scim/normalize';
import { PROVISIO_USER_URN } from '../scim/urns';
import { defaultProfileKey, profileExists } from '../store/permission-profiles-repo';
import type { ResourceRow } from '../store/resource-repo';
import { existingServiceKeys } from '../store/services-repo';

/**
 * A service or profile key: a short slug, lower case, that IdPs type and filters compare. Keys
 * arrive in any case and are kept lower-cased, so `M365` and `m365` are one key.
 */
export const ASSIGNMENT_KEY = /^[a-z0-9][a-z0-9._-]{0,63}$/;
export const KEY_RULE = 'a lower-case letter or digit, then up to 63 letters, digits, ".", "_" or "-"';

/** The entitlement type that means a service; an element without a type is one too. */
export const SERVICE_TYPE = 'service';
export const SERVICES_ATTRIBUTE = 'entitlements';

/** A key as sent, lower-cased, or 400 invalidValue naming the field. */
export function parseKey(value: unknown, field: string): string {
  if (typeof value !== 'string' || !ASSIGNMENT_KEY.test(value.toLowerCase())) {
    throw invalidValue(`${field} must be ${KEY_RULE} (such as "m365" or "crm.basic"), got ${JSON.stringify(value ?? null)}`);
  }
  return value.toLowerCase();
}

/**
 * The service keys a user's normalized `entitlements` name, lower-cased, first occurrence first,
 * duplicates merged. Every element must have a `value`, and a `type` of `service` (any case) or
 * none: another type is 400 invalidValue naming it and the types supported, as nothing else
 * would ever be read back. A value that cannot be a key is kept, to be reported as unknown.
 */
export function serviceKeysOf(entitlements: Json | undefined): string[] {
  if (entitlements === undefined || entitlements === null) return [];
  const list = Array.isArray(entitlements) ? entitlements : [entitlements];
  const keys: string[] = [];
  list.forEach((el, i) => {
    const at = `${SERVICES_ATTRIBUTE}[${i}]`;
    if (!isObject(el) || typeof el.value !== 'string' || el.value.trim() === '') throw invalidValue(`${at}.value is required: the key of one of the tenant's services`);
    if (el.type !== undefined && String(el.type).toLowerCase() !== SERVICE_TYPE) {
      throw invalidValue(`${at}.type ${JSON.stringify(el.type)} is not supported: entitlements are services, with type "${SERVICE_TYPE}" or no type`);
    }
    const key = el.value.toLowerCase();
    if (!keys.includes(key)) keys.push(key);
  });
  return keys;
}

/**
 * The permissions a profile grants, in the catalogue's order: `enterprise` (built in) every
 * permission of the catalogue, including those the operator adds later; a custom profile those
 * of its list the catalogue still has (a permission the operator removed is granted by nobody).
 */
export function grantedPermissions(profile: { builtIn: boolean; permissions: readonly string[] }, catalogue: readonly string[]): string[] {
  if (profile.builtIn) return [...catalogue];
  const own = new Set(profile.permissions);
  return catalogue.filter((k) => own.has(k));
}

const extensionOf = (r: JsonObject | undefined): JsonObject | undefined =>
  r && isObject(r[PROVISIO_USER_URN]) ? (r[PROVISIO_USER_URN] as JsonObject) : undefined;

/**
 * The assignment rules of a user write, in its transaction; `existing` is set on PUT and PATCH.
 *
 * Services: a changed `entitlements` must name services of the tenant (400 invalidValue naming
 * the unknown keys) and is stored as `[{"value": <key>, "type": "service"}]`. An unchanged one
 * (a PUT re-sending what is stored, a PATCH of something else) is not checked again, so a user
 * stored before these rules can still be updated and deactivated by its IdP.
 *
 * Profile: a given `permissionProfile` must be a profile key of the tenant (400 invalidValue)
 * and is stored lower-cased. Absent on create: the tenant's default profile at that moment, kept
 * on the user, so a later change of the default moves nobody. Absent on PUT, or removed by
 * PATCH: the current profile stays (like `active`, RFC 7643 §4.1.1), since IdPs know nothing of
 * it — and a person always has a profile.
 */
export async function checkAssignments(trx: Knex.Transaction, tenantId: string, r: JsonObject, existing?: ResourceRow): Promise<void> {
  if (r[SERVICES_ATTRIBUTE] !== undefined && !(existing && sameJson(r[SERVICES_ATTRIBUTE], existing.data[SERVICES_ATTRIBUTE]))) {
    const keys = serviceKeysOf(r[SERVICES_ATTRIBUTE]);
    const found = await existingServiceKeys(trx, tenantId, keys.filter((k) => ASSIGNMENT_KEY.test(k)));
    const unknown = keys.filter((k) => !found.has(k));
    if (unknown.length) {
      const names = unknown.map((k) => JSON.stringify(k)).join(', ');
      throw invalidValue(`${SERVICES_ATTRIBUTE}: ${names} ${unknown.length === 1 ? 'is not a service' : 'are not services'} of this tenant (GET /api/v1/services lists them)`);
    }
    if (keys.length) r[SERVICES_ATTRIBUTE] = keys.map((value) => ({ value, type: SERVICE_TYPE }));
    else delete r[SERVICES_ATTRIBUTE];
  }

  const ext = extensionOf(r) ?? {};
  const current = extensionOf(existing?.data)?.permissionProfile;
  let profile: Json | undefined = ext.permissionProfile;
  if (profile === undefined) {
    profile = existing ? current : await defaultProfileKey(trx, tenantId);
  } else {
    const key = typeof profile === 'string' ? profile.toLowerCase() : '';
    if (key !== current && !(ASSIGNMENT_KEY.test(key) && (await profileExists(trx, tenantId, key)))) {
      throw invalidValue(`${PROVISIO_USER_URN}:permissionProfile ${JSON.stringify(profile)} is not a permission profile of this tenant (GET /api/v1/permission-profiles lists them)`);
    }
    profile = key;
  }
  if (profile === undefined) return;
  r[PROVISIO_USER_URN] = { ...ext, permissionProfile: profile };
}
