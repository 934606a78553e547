// The resource types as declarations over one generic service (resources/service.ts): which
// table, which columns are derived from the resource, what is checked beyond the schema, who may
// change it (resources/authority.ts), which multi-valued attribute lives in membership rows, and
// the hooks other parts register on its writes (accounts/write-hooks.ts on users). Users and
// groups carry rules of their own; documentKind() declares a type from data alone (its schema,
// table and unique name), as the agent extension's Agent and AgenticApplication are.
import { invalidValue, mutability, ScimError, uniqueness } from '../errors';
import { isObject, JsonObject } from '../scim/normalize';
import { PROVISIO_GROUP_URN, PROVISIO_USER_URN } from '../scim/urns';
import { ResourceSchema, ResourceTypeDef, SchemaDef } from '../scim/schema';
import { FilterCompiler, TableMap } from '../store/filter-sql';
import { groupMembersCompiler, MembersRepo, userGroupsCompiler } from '../store/members-repo';
import { userEmailsIndex } from '../store/user-emails';
import { ResourceRepo, ResourceRow } from '../store/resource-repo';
import type { Knex } from 'knex';
import type { Scope } from './actor';
import { forbidden } from '../errors';
import { priceListExists } from '../store/price-lists-repo';
import { sameJson } from '../scim/normalize';
import { assertMayChangeSubAccount, assertMayChangeTenantWide, assertMayChangeUser } from './authority';
import { DEFAULT_ROLE, normalizeRoles, roleOf } from './roles';
import { checkDisplayName, checkGroupRules, deactivatedAt, verifyAdminsAreMembers } from './group-rules';
import { requireAddress } from '../scim/email-address';
import { checkAssignments } from './assignments';

/** Attributes only tenant-wide credentials and tenant admins may set (issue 4, "Licence management"). */
const TENANT_WIDE_ONLY = ['canManageLicences', 'priceList'];

async function checkUserRules(trx: Knex.Transaction, scope: Scope, r: JsonObject, existing?: ResourceRow): Promise<void> {
  const ext = (isObject(r[PROVISIO_USER_URN]) ? r[PROVISIO_USER_URN] : {}) as JsonObject;
  const before = (existing && isObject(existing.data[PROVISIO_USER_URN]) ? existing.data[PROVISIO_USER_URN] : {}) as JsonObject;
  for (const name of TENANT_WIDE_ONLY) {
    if (scope.actor.subAccountId && !sameJson(ext[name], before[name])) {
      throw forbidden(`${name} can only be set by tenant-wide credentials or tenant admins`);
    }
  }
  // Granting or removing `admin` makes or unmakes a tenant admin: not for a sub-account's credential (issue 10).
  if (scope.actor.subAccountId && roleOf(r) !== (existing ? roleOf(existing.data) : DEFAULT_ROLE)) {
    throw forbidden('The admin role can only be granted or removed by tenant-wide credentials or tenant admins');
  }
  if (ext.priceList !== undefined && ext.priceList !== before.priceList && !(await priceListExists(trx, scope.tenantId, ext.priceList))) {
    throw invalidValue(`${PROVISIO_USER_URN}:priceList must be the id of one of the tenant's price lists`);
  }
  // Services (entitlements) and the permission profile (issue 10): resources/assignments.ts.
  await checkAssignments(trx, scope.tenantId, r, existing);
}

/**
 * Every address of a user the server may send mail to follows the one rule of scim/email-address.ts
 * (issue 9): a userName holding an '@' (its sign-in email), and the extension's credentialsEmail
 * and notificationEmail. On replace and PATCH only a changed value is checked, so a user stored
 * before the rule can still be deactivated by its IdP. test/api/addresses.test.ts
 */
function checkUserAddresses(r: JsonObject, existing?: ResourceRow): void {
  const changed = (now: unknown, before: unknown) => !existing || now !== before;
  if (typeof r.userName === 'string' && r.userName.includes('@') && changed(r.userName, existing?.data.userName)) {
    requireAddress('userName', r.userName, " holds an '@', so it is a sign-in email and");
  }
  const ext = isObject(r[PROVISIO_USER_URN]) ? (r[PROVISIO_USER_URN] as JsonObject) : {};
  const before = existing && isObject(existing.data[PROVISIO_USER_URN]) ? (existing.data[PROVISIO_USER_URN] as JsonObject) : {};
  for (const name of ['credentialsEmail', 'notificationEmail']) {
    if (ext[name] !== undefined && changed(ext[name], before[name])) requireAddress(`${PROVISIO_USER_URN}:${name}`, ext[name]);
  }
}

export const GROUP_KINDS = ['group', 'subAccount', 'company'] as const;
export type GroupKind = (typeof GROUP_KINDS)[number];

/**
 * What the caller of a create tells the kind's hooks (the admin API's choices for a new user:
 * send no activation email yet; use this generated password, which it answers once).
 */
export interface WriteContext {
  sendActivationEmail?: boolean;
  generatedPassword?: string;
}

/** What other parts do in the transaction of a write to a resource of a kind (registered in deps.ts). */
export interface KindHooks {
  /**
   * After the row was created (`before` undefined) or written — changed or not: the request may
   * carry what a hook acts on beside the resource — in the write's transaction; `body` is the
   * request's resource (or PatchOp) as sent. A hook that changes something on an unchanged write
   * asks the authority rule itself. May return the row as it now stands, when the hook
   * changed server-owned columns (a user activated with generated credentials).
   */
  written?(trx: Knex.Transaction, scope: Scope, before: ResourceRow | undefined, after: ResourceRow, body: unknown, context?: WriteContext): Promise<ResourceRow | void>;
  /** After the write's transaction committed (caches to forget). */
  committed?(scope: Scope, before: ResourceRow | undefined, after: ResourceRow | undefined): void;
}

export interface ResourceKind {
  /** The resource type's name (meta.resourceType): User, Group, Agent, AgenticApplication. */
  name: string;
  /** Path segment: "Users", "Groups", "Agents", "AgenticApplications". */
  endpoint: string;
  schema: ResourceSchema;
  repo: ResourceRepo;
  /**
   * The multi-valued attribute kept in membership rows: Group.members (writable) or User.groups
   * (read-only); none for a type that is not a group member (agents, agentic applications).
   */
  membership?: 'members' | 'groups';
  /**
   * What a credential bound to a sub-account sees of the type (store/visibility.ts): its subtree
   * (users, groups), or nothing — a tenant-wide type (agents) is invisible to it and it may not
   * create one (resources/authority.ts assertMayChangeTenantWide).
   */
  subAccounts: 'subtree' | 'none';
  /** Columns derived from the canonical resource, stored beside data/folded. */
  columns(resource: JsonObject, existing: ResourceRow | undefined, now: Date): Record<string, unknown>;
  /** Checks beyond the schema; `existing` is set on replace. May fill server defaults. */
  validate(resource: JsonObject, existing?: ResourceRow): void;
  /**
   * Tenancy rules that need the database (issue 4), run inside the write's transaction on every
   * path (SCIM, Bulk, admin API); `existing` is set on replace and PATCH.
   */
  check(trx: Knex.Transaction, scope: Scope, resource: JsonObject, existing?: ResourceRow): Promise<void>;
  /** Rules checked once the write (memberships included) is done, before commit. */
  verify(trx: Knex.Transaction, scope: Scope, id: string, resource: JsonObject): Promise<void>;
  /** Read-only values kept in columns, merged into the representation. */
  computed(row: ResourceRow): JsonObject;
  /** Maps a unique violation to the client's error. */
  conflict(constraint: string | undefined): ScimError;
  /**
   * Who may make this change (resources/authority.ts), before it is written: `next` is the
   * resource as it will be, undefined for a delete; `changed` false for a write that changes nothing.
   */
  authorize(trx: Knex.Transaction, scope: Scope, existing: ResourceRow, next: JsonObject | undefined, changed: boolean): Promise<void>;
  /** Who may create one (resources/authority.ts); absent: whoever may write at all. */
  authorizeCreate?(scope: Scope): void;
  /** Makes a new resource a member of the sub-account a bound credential works in, so it stays in its subtree. */
  joinSubAccount?(trx: Knex.Transaction, members: MembersRepo, tenantId: string, subAccountId: string, id: string): Promise<void>;
  /** The resource as a member of groups (which groups contain it); absent for a type groups cannot contain. */
  asMember?(id: string): { userId: string } | { groupId: string };
  /** Registered by the composition root (deps.ts). */
  hooks: KindHooks[];
  /**
   * Whether a PATCH answers 200 with the resource by default (RFC 7644 §3.5.2 leaves it to the
   * server): users yes, as Okta and Entra read them back; groups answer 204 (Entra expects it,
   * and a large group's representation is costly).
   */
  patchAnswersWithResource: boolean;
}

export function userKind(rt: ResourceTypeDef, schemas: SchemaDef[]): ResourceKind {
  const schema = new ResourceSchema(rt, schemas);
  const map: TableMap = {
    alias: 'u',
    columns: {
      id: { column: 'id', type: 'uuid' },
      username: { column: 'user_name_ci', type: 'text_ci' },
      externalid: { column: 'external_id', type: 'text' },
      'meta.created': { column: 'created_at', type: 'timestamptz' },
      'meta.lastmodified': { column: 'updated_at', type: 'timestamptz' },
      active: { column: 'active', type: 'boolean' },
      // The Provisio extension's readOnly attributes live only in columns (computed() below), never
      // in `folded`: without these, filters on them would be refused (store/filter-sql.ts).
      [`${PROVISIO_USER_URN}:activationState`.toLowerCase()]: { column: 'activation_state', type: 'text' },
      [`${PROVISIO_USER_URN}:primaryAdmin`.toLowerCase()]: { column: 'is_primary_admin', type: 'boolean' },
      [`${PROVISIO_USER_URN}:privacyPolicyAcceptedAt`.toLowerCase()]: { column: 'privacy_accepted_at', type: 'timestamptz' },
    },
    memberships: { groups: userGroupsCompiler },
    // Okta's and Entra's email matching, indexed under row-level security (store/user-emails.ts).
    valueIndexes: { emails: userEmailsIndex },
    // Every user carries the Provisio extension (computed()), so `schemas eq` it matches every user.
    computedExtensions: [PROVISIO_USER_URN],
  };
  const compiler = new FilterCompiler(schema, map);
  const repo = new ResourceRepo(
    { table: 'users', map, extraColumns: ['active', 'activation_state', 'is_primary_admin', 'privacy_accepted_at', 'role'], display: { attribute: 'displayName', column: 'user_name' }, counted: 'users' },
    compiler,
  );
  return {
    name: 'User',
    endpoint: 'Users',
    schema,
    repo,
    membership: 'groups',
    subAccounts: 'subtree',
    columns: (r) => ({
      user_name: r.userName,
      external_id: r.externalId ?? null,
      active: r.active !== false,
      role: roleOf(r),
    }),
    validate(r, existing) {
      if (typeof r.userName !== 'string' || r.userName.trim() === '') throw invalidValue('userName is required');
      checkUserAddresses(r, existing);
      normalizeRoles(r, existing && { data: existing.data, isPrimaryAdmin: existing.is_primary_admin === true });
      // RFC 7643 §4.1.1 `active`: an omitted value keeps the current one on replace (Okta custom
      // apps PUT without it; test/api/users.test.ts) and defaults to true on create.
      if (r.active === undefined) r.active = existing ? existing.active !== false : true;
    },
    check: (trx, scope, r, existing) => checkUserRules(trx, scope, r, existing),
    verify: async () => {},
    computed(row) {
      const ext: JsonObject = {
        activationState: String(row.activation_state ?? 'pending'),
        primaryAdmin: row.is_primary_admin === true,
      };
      if (row.privacy_accepted_at) ext.privacyPolicyAcceptedAt = new Date(row.privacy_accepted_at as string).toISOString();
      return { [PROVISIO_USER_URN]: ext };
    },
    authorize: (trx, scope, existing, next, changed) => assertMayChangeUser(trx, scope.tenantId, scope.actor, existing, changed, next === undefined),
    joinSubAccount: async (trx, members, tenantId, sub, id) => {
      await members.addUsers(trx, tenantId, sub, [id]);
    },
    asMember: (id) => ({ userId: id }),
    hooks: [],
    patchAnswersWithResource: true,
    conflict: (constraint) =>
      constraint === 'users_one_primary_admin'
        ? uniqueness('The tenant already has a primary admin')
        : // The same words whether the holder is in this tenant or another (users_login_email):
          // a conflict never names or hints at another partner (issue 4). test/api/isolation.test.ts
          uniqueness('userName is already in use (a sign-in email can belong to one account only; a "+alias" address works)'),
  };
}

export function groupKind(rt: ResourceTypeDef, schemas: SchemaDef[]): ResourceKind {
  const schema = new ResourceSchema(rt, schemas);
  const map: TableMap = {
    alias: 'g',
    columns: {
      id: { column: 'id', type: 'uuid' },
      displayname: { column: 'display_name_ci', type: 'text_ci' },
      externalid: { column: 'external_id', type: 'text' },
      'meta.created': { column: 'created_at', type: 'timestamptz' },
      'meta.lastmodified': { column: 'updated_at', type: 'timestamptz' },
    },
    memberships: { members: groupMembersCompiler },
  };
  const compiler = new FilterCompiler(schema, map);
  const repo = new ResourceRepo({ table: 'groups', map, extraColumns: ['kind', 'deactivated_at'], display: { column: 'display_name' }, counted: 'groups' }, compiler);
  const kindOf = (r: JsonObject): unknown => (isObject(r[PROVISIO_GROUP_URN]) ? (r[PROVISIO_GROUP_URN] as JsonObject).kind : undefined);
  return {
    name: 'Group',
    endpoint: 'Groups',
    schema,
    repo,
    membership: 'members',
    subAccounts: 'subtree',
    columns: (r, existing, now) => ({
      display_name: r.displayName,
      external_id: r.externalId ?? null,
      kind: kindOf(r) ?? 'group',
      deactivated_at: deactivatedAt(r, existing, now),
    }),
    validate(r, existing) {
      if (typeof r.displayName !== 'string' || r.displayName.trim() === '') throw invalidValue('displayName is required');
      checkDisplayName(r.displayName, existing);
      const ext = (isObject(r[PROVISIO_GROUP_URN]) ? r[PROVISIO_GROUP_URN] : {}) as JsonObject;
      const given = ext.kind;
      if (given !== undefined) {
        const match = GROUP_KINDS.find((k) => k.toLowerCase() === String(given).toLowerCase());
        if (!match) throw invalidValue(`${PROVISIO_GROUP_URN}:kind must be one of ${GROUP_KINDS.join(', ')}`);
        ext.kind = match;
      }
      // kind is immutable (RFC 7643 §2.2 "immutable"): set at creation, never changed after.
      if (existing) {
        if (given !== undefined && ext.kind !== existing.kind) {
          throw mutability(`${PROVISIO_GROUP_URN}:kind is immutable; this group is a "${existing.kind}"`);
        }
        ext.kind = existing.kind as string;
        const before = (isObject(existing.data[PROVISIO_GROUP_URN]) ? existing.data[PROVISIO_GROUP_URN] : {}) as JsonObject;
        // A replace (PUT) from an IdP knows nothing of our extension: without it, every Provisio
        // attribute is kept (PingFederate updates groups by PUT only); with it, an omitted
        // `active` keeps its value like User.active does, so a PUT never switches a sub-account
        // back on by leaving the attribute out. test/api/authority.test.ts
        if (!isObject(r[PROVISIO_GROUP_URN])) Object.assign(ext, before, { kind: existing.kind });
        else if (ext.active === undefined && before.active !== undefined) ext.active = before.active;
      }
      // On create, an absent kind is decided by the tenant's displayName rules (check below).
      r[PROVISIO_GROUP_URN] = ext;
    },
    check: (trx, scope, r, existing) => checkGroupRules(trx, scope.tenantId, r, existing),
    verify: (trx, scope, id, r) => verifyAdminsAreMembers(trx, scope.tenantId, id, r),
    computed: (row): JsonObject => {
      if (!row.deactivated_at) return {};
      return { [PROVISIO_GROUP_URN]: { deactivatedAt: new Date(row.deactivated_at as string).toISOString() } };
    },
    conflict: () => uniqueness('A group with these values already exists'),
    authorize: (trx, scope, existing, next) => assertMayChangeSubAccount(trx, scope.tenantId, scope.actor, existing, next),
    joinSubAccount: async (trx, members, tenantId, sub, id) => {
      if (id !== sub) await members.addGroups(trx, tenantId, sub, [id]);
    },
    asMember: (id) => ({ groupId: id }),
    hooks: [],
    patchAnswersWithResource: false,
  };
}

/** What a document kind is, as data: where it is stored and what its unique name is called. */
export interface DocumentTypeSpec {
  /** Its table (migrations/0021_agents.ts): tenant_id, id, name (+ name_ci), external_id, data, folded, version, timestamps. */
  table: string;
  /** The table's alias in SQL. */
  alias: string;
  /** The required, server-unique (case-insensitive) string attribute kept in the `name` column. */
  uniqueAttribute: string;
  /** The type's words in errors, with their article ("an agent"). */
  noun: string;
}

/**
 * A resource type declared by data alone: every attribute lives in the JSON document (`data`,
 * `folded`), filters and sorting come from the schema (store/filter-sql.ts), references between
 * types from the schema's referenceTypes (resources/references.ts), and the one rule beyond the
 * schema is a required unique name and `active` defaulting to true as User.active does. Tenant-wide
 * (sub-account credentials neither see nor create them: resources/authority.ts). The agent
 * extension's Agent and AgenticApplication (draft-abbey-scim-agent-extension-00) are two of these.
 */
export function documentKind(rt: ResourceTypeDef, schemas: SchemaDef[], spec: DocumentTypeSpec): ResourceKind {
  const schema = new ResourceSchema(rt, schemas);
  const unique = spec.uniqueAttribute;
  const map: TableMap = {
    alias: spec.alias,
    columns: {
      id: { column: 'id', type: 'uuid' },
      [unique.toLowerCase()]: { column: 'name_ci', type: 'text_ci' },
      externalid: { column: 'external_id', type: 'text' },
      'meta.created': { column: 'created_at', type: 'timestamptz' },
      'meta.lastmodified': { column: 'updated_at', type: 'timestamptz' },
    },
  };
  const compiler = new FilterCompiler(schema, map);
  const repo = new ResourceRepo({ table: spec.table, map, extraColumns: [], display: { attribute: 'displayName', column: 'name' } }, compiler);
  return {
    name: rt.name,
    endpoint: rt.endpoint.replace(/^\//, ''),
    schema,
    repo,
    subAccounts: 'none',
    columns: (r) => ({ name: r[unique], external_id: r.externalId ?? null }),
    validate(r, existing) {
      if (typeof r[unique] !== 'string' || (r[unique] as string).trim() === '') throw invalidValue(`${unique} is required`);
      // An omitted `active` keeps its value on replace and is true on create (as User.active, kinds.ts userKind).
      if (schema.coreAttribute('active') && r.active === undefined) r.active = existing ? existing.data.active !== false : true;
    },
    // References (an application's agents, an agent's owners and parent) are checked by the service for every type.
    check: async () => {},
    verify: async () => {},
    computed: () => ({}),
    // RFC 7644 §3.3: uniqueness 409; the same words whatever holds the name (no hint of other tenants, isolation.test.ts).
    conflict: () => uniqueness(`${spec.noun[0].toUpperCase()}${spec.noun.slice(1)} with this ${unique} already exists (${unique} is unique, case-insensitively)`),
    authorize: async (_trx, scope) => assertMayChangeTenantWide(scope.actor, rt.name),
    authorizeCreate: (scope) => assertMayChangeTenantWide(scope.actor, rt.name),
    hooks: [],
    // As users: the agent probes and IdPs read the resource back from the PATCH answer.
    patchAnswersWithResource: true,
  };
}
