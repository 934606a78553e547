// Group member references as clients send them (RFC 7643 §4.2 `members`): `{value, type}` in any
// key case, or a bare id (Entra). Shared by create/replace and PATCH so both paths accept and
// refuse the same things. Pure; test/unit/members.test.ts.
import { invalidValue } from '../errors';
import { isObject, Json, JsonObject } from './normalize';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (s: unknown): s is string => typeof s === 'string' && UUID.test(s);

export interface MemberRef {
  /** Lower-cased id. */
  id: string;
  /** 'user' or 'group' when the client said which. */
  type?: 'user' | 'group';
}

/** Reads member references; a missing or malformed `value` is 400 invalidValue (RFC 7644 §3.12). */
export function parseMemberRefs(raw: Json | undefined): MemberRef[] {
  if (raw === undefined || raw === null || raw === '') return [];
  const list = Array.isArray(raw) ? raw : [raw];
  const field = (m: JsonObject, name: string) => Object.entries(m).find(([k]) => k.toLowerCase() === name)?.[1];
  const out: MemberRef[] = [];
  for (const item of list) {
    if (item === null) continue;
    const m: JsonObject = typeof item === 'string' ? { value: item } : isObject(item) ? item : {};
    const value = field(m, 'value');
    if (typeof value !== 'string' || !isUuid(value)) {
      throw invalidValue(`members: ${JSON.stringify(value ?? item)} is not the id of a user or group of this tenant`);
    }
    const rawType = field(m, 'type');
    if (rawType !== undefined && rawType !== null && typeof rawType !== 'string') throw invalidValue('members: type must be "User" or "Group"');
    const type = typeof rawType === 'string' && rawType !== '' ? rawType.toLowerCase() : undefined;
    if (type !== undefined && type !== 'user' && type !== 'group') throw invalidValue(`members: type must be "User" or "Group", got "${rawType}"`);
    out.push({ id: value.toLowerCase(), type });
  }
  return out;
}
