// The admin API's sub-accounts, companies and delegated managers (docs/admin-api.md, "Sub-accounts",
// "Companies", "Delegated managers"): a form's fields turned into the SCIM Group or PatchOp the
// resource service takes — so tenancy, the authority rule (resources/authority.ts), the primary
// admin and audit hold exactly as on SCIM /Groups — and a group's SCIM representation turned back
// into the row these endpoints answer. Pure; test/api/sub-accounts-api.test.ts.
import { FieldError, invalidFields, invalidValue, notFound } from '../errors';
import { PURGE_AFTER_MONTHS } from '../jobs/purge';
import { isUuid } from '../scim/members';
import { ids, text } from '../openapi/schema-kit';
import { isObject, Json, JsonObject } from '../scim/normalize';
import { GROUP_URN, PATCH_OP_URN, PROVISIO_GROUP_URN } from '../scim/urns';

export type GroupKindName = 'subAccount' | 'company';

export const MAX_GROUP_NAME = 256;
/** Limits are whole numbers; beyond 2^31 they are a typo, not a limit. */
export const MAX_LIMIT = 2_147_483_647;
/** Without `count` or `cursor`, these list endpoints answer the whole list up to this many (as before paging). */
export const MAX_LISTED = 500;

export const kindFilter = (kind: GroupKindName) => `${PROVISIO_GROUP_URN}:kind eq "${kind}"`;

export const extOf = (r: JsonObject): JsonObject => (isObject(r[PROVISIO_GROUP_URN]) ? (r[PROVISIO_GROUP_URN] as JsonObject) : {});

/** 404 unless the resource is a group of this kind (a plain group is not a company). */
export function requireKind(r: JsonObject, kind: GroupKindName, id: string): JsonObject {
  if (extOf(r).kind !== kind) throw notFound(`${kind === 'company' ? 'Company' : 'Sub-account'} ${id} not found`);
  return r;
}

export function groupId(raw: unknown, kind: GroupKindName): string {
  const id = String(raw).toLowerCase();
  if (!isUuid(id)) throw notFound(`${kind === 'company' ? 'Company' : 'Sub-account'} ${raw} not found`);
  return id;
}

/** When a switched-off sub-account is purged (jobs/purge.ts: PURGE_AFTER_MONTHS after deactivatedAt). */
export function purgeAt(deactivatedAt: string): string {
  const d = new Date(deactivatedAt);
  d.setUTCMonth(d.getUTCMonth() + PURGE_AFTER_MONTHS);
  return d.toISOString();
}

/** The body schemas of these endpoints' fields (openapi/describe.ts validates a body before its handler). */
export const GROUP_NAME = text(MAX_GROUP_NAME, 'trimmed');
export const LIMIT = { type: ['integer', 'null'], minimum: 0, maximum: MAX_LIMIT, description: 'a whole number from 0, or null for no limit' };
export const IDS = ids(10_000);

/**
 * Reads the fields of a body its schema accepted, as stored (names trimmed, ids lower-cased and
 * without repeats), and collects what is wrong by the handler's own rules (a schema cannot say
 * them: an address mail can go to, an id that is a company of this account), by name.
 */
export class GroupFields {
  readonly errors: FieldError[] = [];
  readonly body: JsonObject;

  // The members allowed and the kind's name are the body schema's now (api.describe); the
  // parameters stay so the call sites read as before.
  constructor(body: unknown, _allowed?: string[], _what?: string) {
    this.body = isObject(body) ? body : {};
  }

  fail(field: string, detail: string, code = 'invalid'): undefined {
    this.errors.push({ field, path: `/${field}`, code, detail });
    return undefined;
  }

  has(field: string): boolean {
    return this.body[field] !== undefined;
  }

  name(field: string, _required?: boolean): string | undefined {
    const v = this.body[field];
    return typeof v === 'string' ? v.trim() : undefined;
  }

  /** A limit: a whole number from 0, or null to remove it. */
  limit(field: string): number | null | undefined {
    return this.body[field] as number | null | undefined;
  }

  flag(field: string): boolean | undefined {
    return this.body[field] as boolean | undefined;
  }

  /** A list of ids (users or groups), lower-cased and without repeats. */
  ids(field: string): string[] | undefined {
    const v = this.body[field];
    return Array.isArray(v) ? [...new Set((v as string[]).map((x) => x.toLowerCase()))] : undefined;
  }

  done(): void {
    if (this.errors.length) throw invalidFields(this.errors);
  }
}

export function newGroup(kind: GroupKindName, name: string, ext: JsonObject = {}, members: string[] = []): JsonObject {
  return {
    schemas: [GROUP_URN, PROVISIO_GROUP_URN],
    displayName: name,
    ...(members.length ? { members: members.map((value) => ({ value })) } : {}),
    [PROVISIO_GROUP_URN]: { kind, ...ext },
  };
}

export const patchOf = (ops: JsonObject[]): JsonObject => ({ schemas: [PATCH_OP_URN], Operations: ops });

export const setOp = (path: string, value: Json | null): JsonObject => (value === null ? { op: 'remove', path } : { op: 'replace', path, value });

/** Adds and removes turning a group's user members from `current` into `wanted` (groups inside are kept). */
export function memberOps(current: string[], wanted: string[]): JsonObject[] {
  const have = new Set(current);
  const want = new Set(wanted);
  const add = wanted.filter((id) => !have.has(id));
  const remove = current.filter((id) => !want.has(id));
  return [
    ...(add.length ? [{ op: 'add', path: 'members', value: add.map((value) => ({ value })) }] : []),
    ...remove.map((id) => ({ op: 'remove', path: `members[value eq "${id}"]` })),
  ];
}

/** The user members of a represented group, and the groups inside it. */
export function membersOf(r: JsonObject): { users: { id: string; name: string | null }[]; groups: { id: string; name: string | null }[] } {
  const list = Array.isArray(r.members) ? (r.members as JsonObject[]) : [];
  const row = (m: JsonObject) => ({ id: String(m.value), name: typeof m.display === 'string' ? m.display : null });
  return { users: list.filter((m) => m.type !== 'Group').map(row), groups: list.filter((m) => m.type === 'Group').map(row) };
}

/** Paging of the sub-account and manager lists, as GET /users pages (cursor, RFC 9865). */
export const LIST_PAGE = { defaultCount: 50, maxCount: 200 };

/**
 * The page a list request asks for: `count` (1–200) and/or `cursor` (from `nextCursor`) turn on
 * cursor paging; neither keeps the answer a client written before paging expects (the whole list,
 * up to MAX_LISTED). `q` searches the name (and email, for managers) and applies in both modes.
 * Bad values are 400 like GET /users's (test/api/list-paging.test.ts).
 */
export function listPage(query: unknown): { paged?: { count: number; cursor: string }; q?: string } {
  const q = (isObject(query) ? query : {}) as Record<string, unknown>;
  const text = (name: string) => (typeof q[name] === 'string' && (q[name] as string).trim() !== '' ? (q[name] as string).trim() : undefined);
  const search = text('q');
  if (search && search.length > 200) throw invalidValue('q must be at most 200 characters');
  const countText = text('count');
  const cursor = text('cursor');
  if (countText !== undefined && (!/^\d{1,4}$/.test(countText) || Number(countText) < 1 || Number(countText) > LIST_PAGE.maxCount)) {
    throw invalidValue(`count must be a whole number from 1 to ${LIST_PAGE.maxCount}`);
  }
  if (countText === undefined && cursor === undefined) return { q: search };
  return { paged: { count: Number(countText ?? LIST_PAGE.defaultCount), cursor: cursor ?? '' }, q: search };
}

/** A SCIM filter's string literal (RFC 7644 §3.4.2.2: JSON string syntax). */
export const filterString = (v: string) => JSON.stringify(v);
