// Group kinds (issue 4, "Kinds of groups"): what a sub-account carries (parent, active, limits,
// admins), and the tenant's rules that give IdP-pushed groups a kind from their displayName
// (IdPs can only push a name). Checked inside the write's transaction on every path.
import type { Knex } from 'knex';
import { invalidValue } from '../errors';
import { isObject, Json, JsonObject } from '../scim/normalize';
import { isUuid } from '../scim/members';
import { PROVISIO_GROUP_URN } from '../scim/urns';
import { ResourceRow } from '../store/resource-repo';
import * as tenancy from '../store/tenancy-repo';
import { CompiledGlob, compileGlob, compilePrefix, foldText, matchFolded, StepCounter } from './glob';

const SUB_ACCOUNT_ONLY = ['parent', 'active', 'dailyLimit', 'monthlyLimit', 'admins'];

export interface KindRule {
  kind: 'group' | 'subAccount' | 'company';
  /** displayName starts with this (case-insensitive; every character literal). */
  prefix?: string;
  /** displayName matches this glob (`*` any characters, `?` one), case-insensitive. */
  pattern?: string;
}

/**
 * The longest displayName a group may have, in characters (code points): what the IdPs send
 * (Entra ID and Okta cap group names at 256). It also bounds the work of the tenant's kind rules,
 * which is linear in the name (resources/glob.ts). test/api/sub-accounts.test.ts
 */
export const MAX_DISPLAY_NAME = 256;

/** Refuses a new or changed displayName longer than MAX_DISPLAY_NAME (an unchanged old one stays). */
export function checkDisplayName(displayName: string, existing?: ResourceRow): void {
  if (existing && existing.data.displayName === displayName) return;
  let n = 0;
  for (const _ of displayName) if (++n > MAX_DISPLAY_NAME) throw invalidValue(`displayName must be at most ${MAX_DISPLAY_NAME} characters`);
}

/**
 * The kind the first matching rule gives this displayName, if any. Globs, not regular
 * expressions (an admin-written regex could hang the server), matched in linear time by
 * resources/glob.ts: no RegExp is ever built from a rule. `counter` counts the steps
 * (test/unit/glob.test.ts).
 */
export function kindByRules(rules: KindRule[], displayName: string, counter?: StepCounter): KindRule['kind'] | undefined {
  const name = foldText(displayName, counter);
  for (const rule of rules) {
    const glob = rule.prefix !== undefined ? compiled('prefix', rule.prefix, counter) : rule.pattern !== undefined ? compiled('pattern', rule.pattern, counter) : undefined;
    if (glob && matchFolded(glob, name, counter)) return rule.kind;
  }
  return undefined;
}

// Compiled rules, by text: preparing a pattern costs more than matching it (Shift-And masks for
// every segment), and a tenant's rules are the same on every group create. A compiled glob is a
// pure function of its text and is never changed by matching, so sharing it across tenants shows
// nothing. Bounded: the oldest entry goes first (Map keeps insertion order).
const COMPILED = new Map<string, CompiledGlob>();
const MAX_COMPILED = 2000;

function compiled(type: 'prefix' | 'pattern', text: string, counter?: StepCounter): CompiledGlob {
  const key = `${type}:${text}`;
  let glob = COMPILED.get(key);
  if (!glob) {
    glob = type === 'prefix' ? compilePrefix(text, counter) : compileGlob(text, counter);
    if (COMPILED.size >= MAX_COMPILED) COMPILED.delete(COMPILED.keys().next().value!);
    COMPILED.set(key, glob);
  }
  return glob;
}

async function tenantRules(trx: Knex.Transaction, tenantId: string): Promise<KindRule[]> {
  const rules = (await tenancy.settings(trx, tenantId)).groupKindRules;
  return Array.isArray(rules) ? rules : [];
}

/**
 * Fills in the kind of a new group (explicit, else by the tenant's rules, else "group") and
 * checks sub-account attributes: only on sub-accounts; parent an existing sub-account without a
 * cycle; admins users of the tenant; limits not negative; active defaults to true.
 */
export async function checkGroupRules(trx: Knex.Transaction, tenantId: string, r: JsonObject, existing?: ResourceRow): Promise<void> {
  const ext = (isObject(r[PROVISIO_GROUP_URN]) ? r[PROVISIO_GROUP_URN] : {}) as JsonObject;
  if (!existing && ext.kind === undefined) ext.kind = kindByRules(await tenantRules(trx, tenantId), String(r.displayName)) ?? 'group';
  r[PROVISIO_GROUP_URN] = ext;
  if (ext.kind !== 'subAccount') {
    const stray = SUB_ACCOUNT_ONLY.find((a) => ext[a] !== undefined);
    if (stray) throw invalidValue(`${PROVISIO_GROUP_URN}:${stray} applies to sub-accounts only; this group is a "${ext.kind}"`);
    return;
  }
  if (ext.active === undefined) ext.active = true;
  for (const limit of ['dailyLimit', 'monthlyLimit']) {
    if (typeof ext[limit] === 'number' && (ext[limit] as number) < 0) throw invalidValue(`${PROVISIO_GROUP_URN}:${limit} cannot be negative`);
  }
  if (ext.parent !== undefined) {
    const parent = ext.parent;
    if (!isUuid(parent)) throw invalidValue(`${PROVISIO_GROUP_URN}:parent must be the id of a sub-account of this tenant`);
    if ((await tenancy.groupKind(trx, tenantId, parent)) !== 'subAccount') throw invalidValue(`${PROVISIO_GROUP_URN}:parent must be the id of a sub-account of this tenant`);
    if (existing) {
      // Walk up from the new parent: meeting this sub-account would close a cycle.
      if (await tenancy.parentChainReaches(trx, tenantId, parent, existing.id)) throw invalidValue(`${PROVISIO_GROUP_URN}:parent would make this sub-account its own ancestor`);
    }
  }
  if (ext.admins !== undefined) {
    const ids = (ext.admins as Json[]).map((a) => (isObject(a) ? a.value : undefined));
    if (ids.some((id) => !isUuid(id))) throw invalidValue(`${PROVISIO_GROUP_URN}:admins must be ids of users of this tenant`);
    const unique = [...new Set((ids as string[]).map((id) => id.toLowerCase()))];
    ext.admins = unique.map((value) => ({ value }));
    if ((await tenancy.countUsers(trx, tenantId, unique)) !== unique.length) throw invalidValue(`${PROVISIO_GROUP_URN}:admins must be ids of users of this tenant`);
  }
}

/** After the membership is written: a sub-account's admins must be among its user members. */
export async function verifyAdminsAreMembers(trx: Knex.Transaction, tenantId: string, groupId: string, r: JsonObject): Promise<void> {
  const ext = isObject(r[PROVISIO_GROUP_URN]) ? (r[PROVISIO_GROUP_URN] as JsonObject) : undefined;
  const admins = (ext?.admins as JsonObject[] | undefined)?.map((a) => a.value as string) ?? [];
  if (!admins.length) return;
  if ((await tenancy.countUserMembers(trx, tenantId, groupId, admins)) !== admins.length) throw invalidValue(`${PROVISIO_GROUP_URN}:admins must be members of the sub-account`);
}

/** deactivated_at follows `active`: set when it turns false (kept while it stays false), cleared when true. */
export function deactivatedAt(r: JsonObject, existing: ResourceRow | undefined, now: Date): Date | null {
  const ext = isObject(r[PROVISIO_GROUP_URN]) ? (r[PROVISIO_GROUP_URN] as JsonObject) : {};
  if (ext.kind !== 'subAccount' || ext.active !== false) return null;
  return (existing?.deactivated_at as Date | null | undefined) ?? now;
}
