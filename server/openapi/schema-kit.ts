// Small builders for the JSON Schemas the routes describe (openapi/describe.ts), so every route
// says "a name" or "an id" the same way. Pure.
import { JsonSchema, NOT_BLANK } from './describe';

/** Text that says something (not only spaces), at most `max` characters (counted as code points, as ajv does). */
export const text = (max: number, description?: string): JsonSchema => ({ type: 'string', minLength: 1, maxLength: max, pattern: NOT_BLANK, ...(description ? { description } : {}) });

/** The same text, or null (to clear it). */
export const textOrNull = (max: number, description?: string): JsonSchema => ({ type: ['string', 'null'], minLength: 1, maxLength: max, pattern: NOT_BLANK, ...(description ? { description } : {}) });

/** An id: a UUID without the urn:uuid: prefix ajv-formats' `uuid` would take (scim/members.ts isUuid). */
export const UUID_PATTERN = '^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$';
export const uuid = (description = 'an id (UUID)'): JsonSchema => ({ type: 'string', pattern: UUID_PATTERN, description });

export const bool = (description?: string): JsonSchema => ({ type: 'boolean', ...(description ? { description } : {}) });

/** An object of exactly these members: an unknown member is an error (code `unknown`). */
export const object = (properties: Record<string, JsonSchema>, required: string[] = [], more: JsonSchema = {}): JsonSchema => ({
  type: 'object',
  properties,
  ...(required.length ? { required } : {}),
  additionalProperties: false,
  ...more,
});

/** A PATCH body: these members, at least one of them. */
export const patch = (properties: Record<string, JsonSchema>): JsonSchema => object(properties, [], { minProperties: 1 });

/** A list of ids, at most `max`. */
export const ids = (max: number, description?: string): JsonSchema => ({ type: 'array', items: uuid(), maxItems: max, ...(description ? { description } : {}) });

/** A key of a service or permission profile (resources/assignments.ts ASSIGNMENT_KEY, any case). */
export const KEY: JsonSchema = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$', description: 'a slug: a letter or digit, then letters, digits, ".", "_" or "-"; at most 64; kept lower-cased' };

/** A response that is a JSON object with these members (documented, not enforced). */
export const shape = (properties: Record<string, JsonSchema>): JsonSchema => ({ type: 'object', properties });
export const list = (member: string, item: JsonSchema): JsonSchema => ({ type: 'object', required: [member], properties: { [member]: { type: 'array', items: item } } });
export const S: JsonSchema = { type: 'string' };
export const SN: JsonSchema = { type: ['string', 'null'] };
export const DATE: JsonSchema = { type: 'string', format: 'date-time' };
export const DATEN: JsonSchema = { type: ['string', 'null'], format: 'date-time' };

/** An absolute URL without user:password@ or a #fragment (what the server fetches or posts to must carry neither). */
export const URL_WITHOUT_CREDENTIALS = '^[A-Za-z][A-Za-z0-9+.-]*://[^/?#@\\s]+([/?][^#\\s]*)?$';
