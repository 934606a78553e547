// Shared helpers of the unit tables: the real catalogue (schemas/*.json) and a ScimError matcher.
import { ScimError, ScimType } from '../../server/errors';
import { loadCatalog } from '../../server/resources/catalog';

export const USER_URN = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const GROUP_URN = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const PROVISIO_USER = 'urn:provisio:params:scim:schemas:extension:2.0:User';
export const PROVISIO_GROUP = 'urn:provisio:params:scim:schemas:extension:2.0:Group';

export const catalog = loadCatalog();
export const userSchema = catalog.users.schema;
export const groupSchema = catalog.groups.schema;

/** Runs fn and returns the ScimError it throws; fails the test if it returns or throws anything else. */
export function scimErrorOf(fn: () => unknown): ScimError {
  let result: unknown;
  try {
    result = fn();
  } catch (e) {
    if (e instanceof ScimError) return e;
    throw new Error(`expected a ScimError, got ${String(e)}`);
  }
  throw new Error(`expected a ScimError, but it returned ${JSON.stringify(result)}`);
}

/** Asserts fn throws a ScimError with this status and scimType. */
export function expectScimError(fn: () => unknown, status: number, scimType?: ScimType): ScimError {
  const e = scimErrorOf(fn);
  expect({ status: e.status, scimType: e.scimType }).toEqual({ status, scimType });
  expect(e.message).not.toBe('');
  return e;
}
