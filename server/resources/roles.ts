// A user's role in the partner's account (issue 10): `admin` or `user`, carried in the SCIM core
// `roles` attribute (RFC 7643 §4.1.2) so identity providers can push it — Okta's `roles` array,
// and Entra's app-role forms (`{"value": "admin", "primary": "True", "type":
// "WindowsAzureActiveDirectoryRole"}`, PATCH paths such as `roles[primary eq "True"].value`).
// Pure; test/unit/roles.test.ts.
import { forbidden, invalidValue } from '../errors';
import { isObject, Json, JsonObject, sameJson } from '../scim/normalize';

export const ROLES = ['admin', 'user'] as const;
export type Role = (typeof ROLES)[number];

/** The default of a user who was given none. */
export const DEFAULT_ROLE: Role = 'user';

/** The role a stored resource carries: admin when any of its roles is admin, else user. */
export function roleOf(data: JsonObject): Role {
  const roles = Array.isArray(data.roles) ? data.roles : [];
  return roles.some((r) => isObject(r) && r.value === 'admin') ? 'admin' : DEFAULT_ROLE;
}

/**
 * Normalises `roles` in a resource about to be written, in place:
 * - on create, none given → `[{"value": "user"}]` (every user has a role);
 * - on replace, none given → the current roles are kept (an IdP that does not manage roles PUTs
 *   the profile without them; it must not demote an admin made in Provisio), like `active`;
 * - every value is `admin` or `user` in any case (stored lower-case); anything else → 400
 *   invalidValue — checked only when the roles changed, so people stored before the rule can
 *   still be deactivated by their IdP;
 * - the primary admin is always an admin (403 for a write that would take it away).
 */
export function normalizeRoles(r: JsonObject, existing?: { data: JsonObject; isPrimaryAdmin: boolean }): void {
  if (r.roles === undefined || r.roles === null) {
    if (existing?.data.roles !== undefined) r.roles = existing.data.roles;
    else if (!existing) r.roles = [{ value: DEFAULT_ROLE }];
    else return;
  }
  if (existing && sameJson(r.roles as Json, existing.data.roles as Json)) return;
  const list = Array.isArray(r.roles) ? r.roles : [r.roles];
  r.roles = list.map((item, i) => {
    const value = isObject(item) ? item.value : item;
    const role = typeof value === 'string' ? ROLES.find((x) => x === value.trim().toLowerCase()) : undefined;
    if (!role) throw invalidValue(`roles[${i}].value must be one of ${ROLES.map((x) => `"${x}"`).join(', ')}, got ${JSON.stringify(value ?? null)}`);
    return isObject(item) ? { ...item, value: role } : { value: role };
  });
  if (existing?.isPrimaryAdmin && roleOf(r) !== 'admin') throw forbidden("The tenant's primary admin is always an admin: its admin role cannot be removed");
}
