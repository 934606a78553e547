// One generic service for every resource type: create, read, replace, delete and query
// (RFC 7644 §3.3, §3.4, §3.5.1, §3.6), over the declarations in resources/kinds.ts. It owns the
// transaction boundaries; repositories own the SQL. Every call carries the tenant.
import type { Knex } from 'knex';
import { v7 as uuidv7 } from 'uuid';
import { invalidFilter, invalidValue, notFound, preconditionFailed, ScimError } from '../errors';
import { decodeCursor, encodeCursor, queryDigest } from '../scim/cursor';
import { LIST_RESPONSE_URN, PATCH_OP_URN } from '../scim/urns';
import { Filter, parseFilter } from '../scim/filter';
import { ListQuery } from '../scim/list-query';
import { foldResource, isObject, Json, JsonObject, normalizeResource, requireAttributes, sameJson } from '../scim/normalize';
import { Projection, ProjectionCache } from '../scim/projection';
import { applyPatch, parsePatchRequest } from '../scim/patch';
import { isUniqueViolation } from '../store/db';
import { inTenant, TenantReads } from '../store/scope';
import { visibleIds, visibleTo } from '../store/visibility';
import { AuditEntry, auditInsertSql, AuditRepo } from '../store/audit-repo';
import type { Sql } from '../store/filter-sql';
import { assertMayChangeMembers } from './authority';
import type { Scope } from './actor';
import { isUuid, MemberRef, parseMemberRefs } from '../scim/members';
import { groupRefsFromListed, MembersRepo } from '../store/members-repo';
import { ResourceRow } from '../store/resource-repo';
import { ResourceKind, WriteContext } from './kinds';
import { References } from './references';

export type { Actor, Scope } from './actor';

export interface ServiceDeps {
  knex: Knex;
  members: MembersRepo;
  audit: AuditRepo;
  clock: () => Date;
  cursorTimeoutSeconds: number;
  /**
   * SCIM events (events/producer.ts): every committed change enqueues its events in its own
   * transaction, from here, the one place all resource writes go through.
   */
  events?: ChangeRecorder;
  /**
   * The references between the stored types (resources/references.ts: an application's agents,
   * an agent's owners), checked, resolved and dropped alike for all; none when absent.
   */
  references?: References;
  /** Compiled projections, reused across requests (scim/projection.ts); a fresh one when absent. */
  projections?: ProjectionCache;
  /** Reads without a transaction (store/scope.ts); a fresh one on `knex` when absent. */
  reads?: TenantReads;
}

/** A committed-to-be change of one resource, as the event producer (events/producer.ts) hears of it. */
export interface ResourceChange {
  kind: { name: string; endpoint: string };
  verb: 'create' | 'put' | 'patch' | 'delete';
  id: string;
  before?: ResourceRow;
  after?: ResourceRow;
  /** Top-level attributes added, changed or removed (the notice form's `attributes`). */
  attributes: string[];
  /** The resource as it now is (the full form's `data`); asked for only when a stream wants it. */
  data?: () => Promise<JsonObject>;
}

export interface ChangeRecorder {
  /** `streams`: the value of streamsSql's subquery when the write read it in its own statement. */
  record(trx: Knex.Transaction, tenantId: string, change: ResourceChange, streams?: unknown): Promise<void>;
  /** What record() reads first, as a scalar subquery a write may fold into its own statement. */
  streamsSql?(tenantId: string): Sql;
  /** Resources changed by a statement of their own, not a write here (groups losing a deleted member). */
  rewritten(trx: Knex.Transaction, tenantId: string, kind: 'User' | 'Group', ids: string[], attributes: string[]): Promise<void>;
}

export interface Written {
  resource: JsonObject;
  version: string;
}

export interface CreateOptions {
  /** Run inside this transaction instead of a new one. */
  trx?: Knex.Transaction;
  /** Server-owned columns (e.g. is_primary_admin) set on the new row. */
  columns?: Record<string, unknown>;
  /** What the caller tells the kind's hooks about this write (the admin API's activation choice). */
  context?: WriteContext;
}

/** Most operations in one PATCH; member changes inside one operation's value are not limited here. */
export const MAX_PATCH_OPERATIONS = 10_000;

export const etagOf = (version: string | number) => `W/"${version}"`;

/** Compares an If-Match / If-None-Match header with a version (RFC 7232 §3.1, weak comparison). */
export function etagMatches(header: string | undefined, version: string): boolean {
  if (!header) return false;
  return header.split(',').some((t) => {
    const tag = t.trim();
    return tag === '*' || tag.replace(/^W\//, '') === `"${version}"`;
  });
}

export class ResourceService {
  private readonly references: References;
  private readonly projections: ProjectionCache;
  private readonly reads: TenantReads;

  constructor(private readonly deps: ServiceDeps) {
    this.references = deps.references ?? new References([]);
    this.projections = deps.projections ?? new ProjectionCache();
    this.reads = deps.reads ?? new TenantReads(deps.knex);
  }

  private get knex() {
    return this.deps.knex;
  }

  location(scope: Scope, kind: ResourceKind, id: string) {
    return `${scope.baseUrl}/${kind.endpoint}/${id}`;
  }

  /** Whether the projection returns the kind's membership attribute (members / groups). */
  private wantsMemberships(kind: ResourceKind, projection: Projection): boolean {
    if (!kind.membership) return false;
    return this.projections.get(kind.schema, projection).wants(kind.schema.core.id, kind.schema.coreAttribute(kind.membership)!);
  }

  /** The membership attribute for the repository to select with the rows, when returned. */
  private membershipsToSelect(kind: ResourceKind, projection: Projection): string | undefined {
    return this.wantsMemberships(kind, projection) ? kind.membership : undefined;
  }

  private memberJson(scope: Scope, x: { value: string; type: 'User' | 'Group'; display?: string }): Json {
    const m: JsonObject = { value: x.value, $ref: `${scope.baseUrl}/${x.type === 'User' ? 'Users' : 'Groups'}/${x.value}`, type: x.type };
    if (x.display !== undefined && x.display !== null) m.display = x.display;
    return m;
  }

  /**
   * The full representation of rows, with memberships only when the projection returns them
   * (and never when `skipMemberships`, for a caller that streams them).
   */
  async represent(
    db: Knex | Knex.Transaction,
    scope: Scope,
    kind: ResourceKind,
    rows: ResourceRow[],
    projection: Projection,
    skipMemberships = false,
  ): Promise<JsonObject[]> {
    const withMembers = rows.length > 0 && !skipMemberships && this.wantsMemberships(kind, projection);
    const ids = rows.map((r) => r.id);
    let memberships: Map<string, Json[]> | undefined;
    if (withMembers) {
      if (kind.membership === 'members') {
        const m = await this.deps.members.membersOf(db, scope.tenantId, ids);
        memberships = new Map([...m].map(([gid, list]) => [gid, list.map((x) => this.memberJson(scope, x))]));
      } else {
        // Selected with the rows when the caller asked the repository for them (one query less).
        const m = rows.every((r) => r.__memberships !== undefined)
          ? new Map(rows.map((r) => [r.id, groupRefsFromListed(r.__memberships)]))
          : await this.deps.members.groupsOfUsers(db, scope.tenantId, ids);
        // A sub-account-bound credential sees only the groups of its subtree (store/visibility.ts).
        const seen = scope.actor.subAccountId ? await this.visibleGroupIds(db, scope, [...m.values()].flat().map((g) => g.value)) : undefined;
        memberships = new Map(
          [...m].map(([uid, list]) => [
            uid,
            list.filter((g) => !seen || seen.has(g.value)).map((g) => ({ value: g.value, $ref: `${scope.baseUrl}/Groups/${g.value}`, display: g.display, type: g.type }) as Json),
          ]),
        );
      }
    }
    const full = rows.map((row) => {
      const data = row.data as JsonObject;
      const resource: JsonObject = { id: row.id };
      for (const [k, v] of Object.entries(data)) resource[k] = v;
      for (const [urn, ext] of Object.entries(kind.computed(row))) {
        resource[urn] = { ...((resource[urn] as JsonObject) ?? {}), ...(ext as JsonObject) };
      }
      const list = memberships?.get(row.id);
      if (list && list.length && kind.membership) resource[kind.membership] = list;
      resource.meta = {
        resourceType: kind.name,
        created: new Date(row.created_at).toISOString(),
        lastModified: new Date(row.updated_at).toISOString(),
        location: this.location(scope, kind, row.id),
        version: etagOf(row.version),
      };
      return resource;
    });
    // $ref and display of references, and inverse attributes (none for users and groups).
    const compiled = this.projections.get(kind.schema, projection);
    await this.references.resolve(db, scope.tenantId, scope.baseUrl, kind, full, (a) => compiled.wants(kind.schema.core.id, a));
    return full.map((resource) => compiled.apply(resource));
  }

  /**
   * Group.members as the client sent it, read from the raw body (any key case, or URN-qualified).
   * Normalization cannot be used here: it turns `members: []` into "absent" (so a PUT could not
   * clear a group) and silently drops an element without `value` (so a bad member would vanish
   * instead of being 400 invalidValue, RFC 7644 §3.12). `null` means absent (Entra sends it so; docs/entra.md).
   */
  private rawMembers(kind: ResourceKind, body: unknown): Json[] | undefined {
    if (kind.membership !== 'members' || !isObject(body)) return undefined;
    const urnKey = `${kind.schema.core.id}:members`.toLowerCase();
    let raw: Json | undefined;
    for (const [k, v] of Object.entries(body)) {
      const key = k.toLowerCase();
      if (key === 'members' || key === urnKey) raw = v;
    }
    if (raw === undefined || raw === null) return undefined;
    return Array.isArray(raw) ? raw : [raw];
  }

  /** Splits Group.members out of a normalized body and checks every member exists in the tenant. */
  private async resolveMembers(db: Knex | Knex.Transaction, scope: Scope, kind: ResourceKind, resource: JsonObject, raw: Json[] | undefined) {
    if (kind.membership !== 'members') return undefined;
    delete resource.members;
    if (raw === undefined) return undefined;
    return this.classifyMembers(db, scope, parseMemberRefs(raw));
  }

  /** Sorts member references into users and groups of the tenant; any other id is 400 invalidValue. */
  private async classifyMembers(db: Knex | Knex.Transaction, scope: Scope, refs: MemberRef[]) {
    const ids = [...new Set(refs.map((w) => w.id))];
    const { users: userSet, groups: groupSet } = await this.deps.members.classify(db, scope.tenantId, ids);
    const sub = scope.actor.subAccountId;
    if (sub) {
      // A credential bound to a sub-account names only what it can see (store/visibility.ts).
      const [u, g] = await Promise.all([visibleIds(db, 'User', scope.tenantId, sub, [...userSet]), visibleIds(db, 'Group', scope.tenantId, sub, [...groupSet])]);
      for (const id of [...userSet]) if (!u.has(id)) userSet.delete(id);
      for (const id of [...groupSet]) if (!g.has(id)) groupSet.delete(id);
    }
    const userIds: string[] = [];
    const groupIds: string[] = [];
    for (const w of refs) {
      const isUser = userSet.has(w.id) && w.type !== 'group';
      const isGroup = groupSet.has(w.id) && w.type !== 'user';
      // Unknown and other tenants' ids read the same (RFC 7644 §3.12 invalidValue; no hint of existence).
      if (!isUser && !isGroup) throw invalidValue(`members: ${w.id} is not the id of a ${w.type === 'group' ? 'group' : w.type === 'user' ? 'user' : 'user or group'} of this tenant`);
      (isUser ? userIds : groupIds).push(w.id);
    }
    return { userIds: [...new Set(userIds)], groupIds: [...new Set(groupIds)] };
  }

  private async writeMembers(
    trx: Knex.Transaction,
    scope: Scope,
    groupId: string,
    members: { userIds: string[]; groupIds: string[] },
    replace: boolean,
  ) {
    if (await this.deps.members.wouldCycle(trx, scope.tenantId, groupId, members.groupIds)) {
      throw invalidValue('members: a group cannot contain itself, directly or through other groups');
    }
    if (replace) await this.deps.members.removeAll(trx, scope.tenantId, groupId);
    await this.deps.members.addUsers(trx, scope.tenantId, groupId, members.userIds);
    await this.deps.members.addGroups(trx, scope.tenantId, groupId, members.groupIds);
  }

  private rowValues(kind: ResourceKind, resource: JsonObject, existing?: ResourceRow) {
    return {
      ...kind.columns(resource, existing, this.deps.clock()),
      data: JSON.stringify(resource),
      folded: JSON.stringify(foldResource(kind.schema, resource)),
    };
  }

  /**
   * The resource to change, locked for the transaction; undefined when it does not exist or the
   * credential cannot see it (a sub-account-bound one sees its subtree only): both read as 404.
   */
  private async findVisible(trx: Knex | Knex.Transaction, scope: Scope, kind: ResourceKind, id: string, lock = true): Promise<ResourceRow | undefined> {
    const row = await kind.repo.get(trx, scope.tenantId, id.toLowerCase(), lock);
    return row && (await this.isVisible(trx, scope, kind, row.id)) ? row : undefined;
  }

  /** Whether the credential may see this resource (always, unless it is bound to a sub-account). */
  private async isVisible(trx: Knex | Knex.Transaction, scope: Scope, kind: ResourceKind, id: string): Promise<boolean> {
    const sub = scope.actor.subAccountId;
    if (!sub) return true;
    // A tenant-wide type (agents) is not in any sub-account's subtree (resources/authority.ts, point 5).
    if (kind.subAccounts === 'none') return false;
    return (await visibleIds(trx, kind.name as 'User' | 'Group', scope.tenantId, sub, [id])).has(id);
  }

  /** The list condition for a sub-account-bound credential; undefined for tenant-wide ones. */
  private visibility(scope: Scope, kind: ResourceKind) {
    const sub = scope.actor.subAccountId;
    if (!sub) return undefined;
    if (kind.subAccounts === 'none') return { sql: 'FALSE', bindings: [] };
    return visibleTo(kind.name as 'User' | 'Group', kind.repo.spec.map.alias, scope.tenantId, sub);
  }

  private async visibleGroupIds(db: Knex | Knex.Transaction, scope: Scope, ids: string[]): Promise<Set<string>> {
    return visibleIds(db, 'Group', scope.tenantId, scope.actor.subAccountId!, [...new Set(ids)]);
  }

  /** What a sub-account-bound credential creates joins its sub-account, so it stays in its subtree. */
  private async joinSubAccount(trx: Knex.Transaction, scope: Scope, kind: ResourceKind, id: string): Promise<void> {
    const sub = scope.actor.subAccountId;
    if (sub) await kind.joinSubAccount?.(trx, this.deps.members, scope.tenantId, sub, id);
  }

  /** Runs the kind's hooks on a written row; returns the row as they leave it. */
  private async written(trx: Knex.Transaction, scope: Scope, kind: ResourceKind, before: ResourceRow | undefined, after: ResourceRow, body: unknown, context?: WriteContext): Promise<ResourceRow> {
    let row = after;
    for (const hook of kind.hooks) row = (await hook.written?.(trx, scope, before, row, body, context)) ?? row;
    return row;
  }

  /** After the transaction committed (only for transactions this service opened). */
  private committed(scope: Scope, kind: ResourceKind, before: ResourceRow | undefined, after: ResourceRow | undefined): void {
    for (const hook of kind.hooks) hook.committed?.(scope, before, after);
  }

  /** Records a change in the audit log, in the transaction that makes it. */
  private audit(trx: Knex.Transaction, scope: Scope, kind: ResourceKind, verb: string, targetId: string, changes: Record<string, unknown>, at: Date) {
    return this.deps.audit.record(trx, scope.tenantId, at, this.auditEntry(scope, kind, verb, targetId, changes));
  }

  /** The audit entry of a change to a resource. */
  private auditEntry(scope: Scope, kind: ResourceKind, verb: string, targetId: string, changes: Record<string, unknown>): AuditEntry {
    return {
      actorType: scope.actor.type,
      actorId: scope.actor.id,
      // user.create, group.patch, agent.delete, agenticApplication.replace (as priceList.create).
      action: `${kind.name[0].toLowerCase()}${kind.name.slice(1)}.${verb}`,
      targetType: kind.name,
      targetId,
      changes,
    };
  }

  /**
   * Enqueues the change's SCIM events in the write's transaction (events/producer.ts). The full
   * form's data is the resource as a tenant-wide credential reads it (a stream serves the whole
   * tenant), without a group's members: a large group's list does not fit an event, and the
   * notice form names `members` when they changed (docs/events.md).
   */
  private async produce(
    trx: Knex.Transaction,
    scope: Scope,
    kind: ResourceKind,
    verb: ResourceChange['verb'],
    before: ResourceRow | undefined,
    after: ResourceRow | undefined,
    attributes: string[],
    streams?: unknown,
  ): Promise<void> {
    if (!this.deps.events) return;
    const wide: Scope = { ...scope, actor: { ...scope.actor, subAccountId: null } };
    await this.deps.events.record(trx, scope.tenantId, {
      kind,
      verb,
      id: (after ?? before)!.id,
      before,
      after,
      attributes,
      data: after ? async () => (await this.represent(trx, wide, kind, [after], {}, kind.membership === 'members'))[0] : undefined,
    }, streams);
  }

  private translate(kind: ResourceKind, err: unknown): unknown {
    if (isUniqueViolation(err)) return kind.conflict((err as { constraint?: string }).constraint);
    return err;
  }

  async create(scope: Scope, kind: ResourceKind, body: unknown, projection: Projection, opts: CreateOptions = {}): Promise<Written> {
    kind.authorizeCreate?.(scope);
    const resource = normalizeResource(kind.schema, body);
    const rawMembers = this.rawMembers(kind, body);
    requireAttributes(kind.schema, resource);
    kind.validate(resource);
    const now = this.deps.clock();
    const id = uuidv7();
    const work = async (trx: Knex.Transaction) => {
      await kind.check(trx, scope, resource);
      await this.references.check(trx, scope.tenantId, kind, resource, id);
      const members = await this.resolveMembers(trx, scope, kind, resource, rawMembers);
      // The audit entry is complete before the insert (the resource as stored, the members
      // added), so it is written by the insert's own statement, a CTE: one round trip less per
      // create, and still in this transaction — a later refusal (a hook, verify) rolls both back.
      // test/api/audit-create.test.ts
      const entry = this.auditEntry(scope, kind, 'create', id, { set: resource, ...(members ? { members: { added: [...members.userIds, ...members.groupIds] } } : {}) });
      let row = await kind.repo.insert(
        trx,
        scope.tenantId,
        {
          id,
          ...this.rowValues(kind, resource),
          ...opts.columns,
          created_at: now,
          updated_at: now,
        },
        [this.deps.audit.entryStatement(scope.tenantId, now, entry)],
      );
      if (members) {
        await assertMayChangeMembers(trx, scope.tenantId, scope.actor, id, { added: members.userIds });
        await this.writeMembers(trx, scope, id, members, false);
      }
      await this.joinSubAccount(trx, scope, kind, id);
      row = await this.written(trx, scope, kind, undefined, row, body, opts.context);
      await kind.verify(trx, scope, id, resource);
      await this.produce(trx, scope, kind, 'create', undefined, row, ['id', ...Object.keys(resource), ...(members ? ['members'] : [])]);
      // A user that has just been created belongs to no group (unless a sub-account-bound
      // credential created it into its sub-account): no need to ask the database.
      const [out] = await this.represent(trx, scope, kind, [row], projection, kind.membership === 'groups' && !scope.actor.subAccountId);
      return { resource: out, version: String(row.version) };
    };
    try {
      const out = await inTenant(this.knex, scope.tenantId, work, opts.trx);
      if (!opts.trx) this.committed(scope, kind, undefined, undefined);
      return out;
    } catch (err) {
      throw this.translate(kind, err);
    }
  }

  async get(scope: Scope, kind: ResourceKind, id: string, projection: Projection): Promise<Written> {
    if (!isUuid(id)) throw notFound(`${kind.name} ${id} not found`);
    return this.reads.run(scope.tenantId, async (trx) => {
      const row = await kind.repo.get(trx, scope.tenantId, id.toLowerCase(), false, this.membershipsToSelect(kind, projection));
      if (!row || !(await this.isVisible(trx, scope, kind, row.id))) throw notFound(`${kind.name} ${id} not found`);
      const [out] = await this.represent(trx, scope, kind, [row], projection);
      return { resource: out, version: String(row.version) };
    });
  }

  /**
   * GET of one resource whose members are streamed: the resource without its members, plus the
   * members as batches already projected, or undefined when the projection leaves them out.
   */
  async getStreaming(scope: Scope, kind: ResourceKind, id: string, projection: Projection): Promise<Written & { members?: AsyncIterable<Json[]> }> {
    if (kind.membership !== 'members' || !this.wantsMemberships(kind, projection)) return this.get(scope, kind, id, projection);
    if (!isUuid(id)) throw notFound(`${kind.name} ${id} not found`);
    const { row, head } = await this.reads.run(scope.tenantId, async (trx) => {
      const found = await this.findVisible(trx, scope, kind, id, false);
      if (!found) throw notFound(`${kind.name} ${id} not found`);
      const [h] = await this.represent(trx, scope, kind, [found], projection, true);
      return { row: found, head: h };
    });
    // Each batch is its own read (TenantReads: its statements each with the tenant, no transaction):
    // a slow reader never holds a connection.
    const batches = this.deps.members.streamMembers((fn) => this.reads.run(scope.tenantId, fn), scope.tenantId, row.id);
    const service = this;
    const unchanged = projectsMembersUnchanged(kind, projection);
    const compiled = this.projections.get(kind.schema, projection);
    async function* members(): AsyncGenerator<Json[]> {
      for await (const batch of batches) {
        const list = batch.map((m) => service.memberJson(scope, m));
        // Project each batch as the whole resource would be (attributes=members.value, …).
        const projected = unchanged ? list : compiled.apply({ members: list }).members;
        if (Array.isArray(projected) && projected.length) yield projected;
      }
    }
    return { resource: head, version: String(row.version), members: members() };
  }

  /** PUT (RFC 7644 §3.5.1): replaces read-write attributes; readOnly input is ignored. */
  async replace(scope: Scope, kind: ResourceKind, id: string, body: unknown, ifMatch: string | undefined, projection: Projection): Promise<Written> {
    if (!isUuid(id)) throw notFound(`${kind.name} ${id} not found`);
    const resource = normalizeResource(kind.schema, body);
    const rawMembers = this.rawMembers(kind, body);
    requireAttributes(kind.schema, resource);
    try {
      const { out, before, after } = await inTenant(this.knex, scope.tenantId, async (trx) => {
        const existing = await this.findVisible(trx, scope, kind, id);
        if (!existing) throw notFound(`${kind.name} ${id} not found`);
        if (ifMatch && !etagMatches(ifMatch, String(existing.version))) throw preconditionFailed();
        kind.validate(resource, existing);
        await kind.check(trx, scope, resource, existing);
        await this.references.check(trx, scope.tenantId, kind, resource, existing.id, existing.data);
        const members = await this.resolveMembers(trx, scope, kind, resource, rawMembers);
        const changed = !sameJson(resource, existing.data);
        await kind.authorize(trx, scope, existing, resource, changed);
        if (members) await assertMayChangeMembers(trx, scope.tenantId, scope.actor, existing.id, { added: members.userIds, cleared: true, kept: members.userIds });
        const now = this.deps.clock();
        let row: ResourceRow | undefined = existing;
        if (changed || members) {
          row = await kind.repo.update(trx, scope.tenantId, existing.id, this.rowValues(kind, resource, existing), now);
          if (!row) throw notFound(`${kind.name} ${id} not found`);
          // A PUT without `members` keeps the membership (docs/scim-support.md): a rename must
          // never empty a large group by accident. `members: []` clears it.
          if (members) await this.writeMembers(trx, scope, existing.id, members, true);
          row = await this.written(trx, scope, kind, existing, row, body);
          await kind.verify(trx, scope, existing.id, resource);
          await this.audit(trx, scope, kind, 'replace', existing.id, { ...diffAttributes(existing.data, resource), ...(members ? { members: { replacedWith: [...members.userIds, ...members.groupIds] } } : {}) }, now);
          await this.produce(trx, scope, kind, 'put', existing, row, [...changedNames(existing.data, resource), ...(members ? ['members'] : [])]);
        } else {
          // Hooks hear of unchanged writes too: the request may carry what they act on beside the
          // resource (a password an IdP pushes, accounts/write-hooks.ts).
          row = await this.written(trx, scope, kind, existing, existing, body);
        }
        const [represented] = await this.represent(trx, scope, kind, [row], projection);
        return { out: { resource: represented, version: String(row.version) }, before: existing, after: row };
      });
      this.committed(scope, kind, before, after);
      return out;
    } catch (err) {
      throw this.translate(kind, err);
    }
  }

  /**
   * PATCH (RFC 7644 §3.5.2). The row is locked for the transaction, so concurrent PATCHes of one
   * resource apply one after another and none is lost (test/api/patch.test.ts, 50 concurrent
   * adds). Group members change by row inserts and deletes only: the member list is never read.
   * Any failing operation fails the whole request and nothing changes.
   */
  async patch(
    scope: Scope,
    kind: ResourceKind,
    id: string,
    body: unknown,
    ifMatch: string | undefined,
    /** undefined: the caller answers 204 and needs no representation (nothing is read). */
    projection: Projection | undefined,
  ): Promise<Written> {
    if (!isUuid(id)) throw notFound(`${kind.name} ${id} not found`);
    const ops = parsePatchRequest(body, MAX_PATCH_OPERATIONS);
    try {
      const { out, before, after } = await inTenant(this.knex, scope.tenantId, (trx) => this.patchIn(trx, scope, kind, id, body, ops, ifMatch, projection, true));
      this.committed(scope, kind, before, after);
      return out;
    } catch (err) {
      throw this.translate(kind, err);
    }
  }

  /**
   * One PATCH inside the caller's transaction. `audited` false: the caller records one audit
   * entry for the whole of its change (changeGroupsOf).
   */
  private async patchIn(
    trx: Knex.Transaction,
    scope: Scope,
    kind: ResourceKind,
    id: string,
    body: unknown,
    ops: ReturnType<typeof parsePatchRequest>,
    ifMatch: string | undefined,
    projection: Projection | undefined,
    audited: boolean,
  ): Promise<{ out: Written; before: ResourceRow; after: ResourceRow; membersTouched: number; changed: boolean }> {
    const existing = await this.findVisible(trx, scope, kind, id);
    if (!existing) throw notFound(`${kind.name} ${id} not found`);
    if (ifMatch && !etagMatches(ifMatch, String(existing.version))) throw preconditionFailed();
    const result = applyPatch(kind.schema, existing.data, ops, {
      id: existing.id,
      membership: kind.membership === 'members' ? 'members' : undefined,
    });
    const now = this.deps.clock();
    let row: ResourceRow | undefined = existing;
    if (result.changed) {
      requireAttributes(kind.schema, result.resource);
      kind.validate(result.resource, existing);
      await kind.check(trx, scope, result.resource, existing);
      await this.references.check(trx, scope.tenantId, kind, result.resource, existing.id, existing.data);
      await kind.authorize(trx, scope, existing, result.resource, true);
      row = await kind.repo.update(trx, scope.tenantId, existing.id, this.rowValues(kind, result.resource, existing), now);
      if (row) row = await this.written(trx, scope, kind, existing, row, body);
    } else {
      // As on PUT: hooks hear of a PATCH that changes no attribute (a pushed password).
      row = await this.written(trx, scope, kind, existing, existing, body);
    }
    let touched = 0;
    let streams: unknown;
    if (result.members) {
      const d = result.members;
      const add = await this.classifyMembers(trx, scope, d.add);
      if (await this.deps.members.wouldCycle(trx, scope.tenantId, existing.id, add.groupIds)) {
        throw invalidValue('members: a group cannot contain itself, directly or through other groups');
      }
      // The primary-admin rule runs only for a change that removes (resources/authority.ts).
      await assertMayChangeMembers(trx, scope.tenantId, scope.actor, existing.id, { added: add.userIds, removed: d.remove, cleared: d.clear, kept: add.userIds });
      const members = { added: [...add.userIds, ...add.groupIds], removed: d.remove, ...(d.clear ? { cleared: true } : {}) };
      if (audited && !result.changed && !d.clear && !d.remove.length && !add.groupIds.length && add.userIds.length) {
        // Users added, nothing else (the PATCH an IdP sends per member): the rows, the version bump
        // and the audit entry in one statement, the last two only if a membership really was new.
        // The event streams the change is produced for are read in it too (produce() below).
        const r = await this.deps.members.addUsersAndRecord(trx, scope.tenantId, existing.id, add.userIds, (when) => ({
          bump: kind.repo.bumpSql(scope.tenantId, existing.id, now, when),
          record: auditInsertSql(scope.tenantId, now, this.auditEntry(scope, kind, 'patch', existing.id, { members }), when),
          read: this.deps.events?.streamsSql?.(scope.tenantId),
        }));
        touched += r.added;
        streams = r.read;
        if (r.row) row = r.row as unknown as ResourceRow;
      } else {
        if (d.clear) touched += await this.deps.members.removeAll(trx, scope.tenantId, existing.id);
        touched += await this.deps.members.removeMembers(trx, scope.tenantId, existing.id, d.remove);
        touched += await this.deps.members.addUsers(trx, scope.tenantId, existing.id, add.userIds);
        touched += await this.deps.members.addGroups(trx, scope.tenantId, existing.id, add.groupIds);
        // The representation changed only if a membership really did (adds and removes are idempotent).
        if (touched > 0 && !result.changed) row = await kind.repo.update(trx, scope.tenantId, existing.id, {}, now);
        if (touched > 0 && audited) await this.audit(trx, scope, kind, 'patch', existing.id, { members }, now);
      }
    }
    if (result.changed || result.members) await kind.verify(trx, scope, existing.id, result.resource);
    if (result.changed && audited) await this.audit(trx, scope, kind, 'patch', existing.id, diffAttributes(existing.data, result.resource), now);
    if (!row) throw notFound(`${kind.name} ${id} not found`);
    if (result.changed || touched > 0) {
      await this.produce(trx, scope, kind, 'patch', existing, row, [...(result.changed ? changedNames(existing.data, result.resource) : []), ...(touched > 0 ? ['members'] : [])], streams);
    }
    const done = { before: existing, after: row, membersTouched: touched, changed: result.changed };
    if (!projection) return { out: { resource: {}, version: String(row.version) }, ...done };
    const [represented] = await this.represent(trx, scope, kind, [row], projection);
    return { out: { resource: represented, version: String(row.version) }, ...done };
  }

  /**
   * Puts one user into some groups and takes them out of others — and, first, PATCHes the user
   * (`userPatch`) — all in one transaction: every rule of a PATCH of each group holds (the group
   * visible to the credential, else 404; the authority rule over the user, else 403), any refusal
   * changes nothing, and one audit entry on the user (`action`) names the groups really added
   * and removed (an add of a membership already there is none). The admin API's
   * PUT /managers/{id}/companies (admin/managers.ts); test/api/manager-companies.test.ts.
   */
  async changeGroupsOf(
    scope: Scope,
    users: ResourceKind,
    groups: ResourceKind,
    userId: string,
    change: { add: string[]; remove: string[]; userPatch?: JsonObject[]; action: string },
  ): Promise<{ added: string[]; removed: string[] }> {
    if (!isUuid(userId)) throw notFound(`${users.name} ${userId} not found`);
    const written: { kind: ResourceKind; before: ResourceRow; after: ResourceRow }[] = [];
    try {
      const out = await inTenant(this.knex, scope.tenantId, async (trx) => {
        const person = await this.findVisible(trx, scope, users, userId, false);
        if (!person) throw notFound(`${users.name} ${userId} not found`);
        const now = this.deps.clock();
        let userChanges: Record<string, unknown> = {};
        if (change.userPatch?.length) {
          const body = { schemas: [PATCH_OP_URN], Operations: change.userPatch };
          const p = await this.patchIn(trx, scope, users, person.id, body, parsePatchRequest(body, MAX_PATCH_OPERATIONS), undefined, undefined, false);
          if (p.changed) userChanges = diffAttributes(p.before.data, p.after.data);
          written.push({ kind: users, before: p.before, after: p.after });
        }
        const added: string[] = [];
        const removed: string[] = [];
        const member = [{ value: person.id }];
        // In id order, so two such changes lock the same groups in the same order.
        const steps = [...change.add.map((g) => ({ g, add: true })), ...change.remove.map((g) => ({ g, add: false }))].sort((a, b) => (a.g < b.g ? -1 : a.g > b.g ? 1 : 0));
        for (const { g, add } of steps) {
          if (!isUuid(g)) throw notFound(`${groups.name} ${g} not found`);
          const body = { schemas: [PATCH_OP_URN], Operations: [add ? { op: 'add', path: 'members', value: member } : { op: 'remove', path: `members[value eq "${person.id}"]` }] };
          const p = await this.patchIn(trx, scope, groups, g, body, parsePatchRequest(body, MAX_PATCH_OPERATIONS), undefined, undefined, false);
          if (p.membersTouched > 0) (add ? added : removed).push(p.before.id);
          written.push({ kind: groups, before: p.before, after: p.after });
        }
        if (added.length || removed.length || Object.keys(userChanges).length) {
          await this.audit(trx, scope, users, change.action, person.id, { ...userChanges, groups: { added, removed } }, now);
        }
        return { added, removed };
      });
      for (const w of written) this.committed(scope, w.kind, w.before, w.after);
      return out;
    } catch (err) {
      throw this.translate(groups, err);
    }
  }

  async delete(scope: Scope, kind: ResourceKind, id: string, ifMatch: string | undefined): Promise<void> {
    if (!isUuid(id)) throw notFound(`${kind.name} ${id} not found`);
    const before = await inTenant(this.knex, scope.tenantId, async (trx) => {
      const existing = await this.findVisible(trx, scope, kind, id);
      if (!existing) throw notFound(`${kind.name} ${id} not found`);
      if (ifMatch && !etagMatches(ifMatch, String(existing.version))) throw preconditionFailed();
      await kind.authorize(trx, scope, existing, undefined, true);
      await this.remove(trx, scope, kind, existing);
      return existing;
    });
    this.committed(scope, kind, before, undefined);
  }

  /**
   * Deletes all of these or none (the console's bulk delete): every id must name a resource the
   * credential sees (else 404 naming the missing ones) and may delete (else the authority rule's
   * 403) — checked for all before anything is deleted, in one transaction. Returns how many.
   */
  async deleteAll(scope: Scope, kind: ResourceKind, ids: string[]): Promise<number> {
    const unique = [...new Set(ids.map((i) => i.toLowerCase()))];
    const bad = unique.filter((i) => !isUuid(i));
    if (bad.length) throw notFound(`No such ${kind.name.toLowerCase()}: ${bad.join(', ')}`);
    const removed = await inTenant(this.knex, scope.tenantId, async (trx) => {
      const rows: ResourceRow[] = [];
      const missing: string[] = [];
      for (const id of unique) {
        const row = await this.findVisible(trx, scope, kind, id);
        if (row) rows.push(row);
        else missing.push(id);
      }
      if (missing.length) throw notFound(`No such ${kind.name.toLowerCase()}: ${missing.join(', ')}`);
      for (const row of rows) await kind.authorize(trx, scope, row, undefined, true);
      for (const row of rows) await this.remove(trx, scope, kind, row);
      return rows;
    });
    for (const row of removed) this.committed(scope, kind, row, undefined);
    return removed.length;
  }

  /** Deletes a row the caller found and authorised, with its audit entry. */
  private async remove(trx: Knex.Transaction, scope: Scope, kind: ResourceKind, existing: ResourceRow): Promise<void> {
    // The groups that lose this member change representation: bump their versions.
    const touched = kind.asMember ? await this.deps.members.touchGroupsContaining(trx, scope.tenantId, kind.asMember(existing.id), this.deps.clock()) : [];
    await kind.repo.delete(trx, scope.tenantId, existing.id);
    await this.audit(trx, scope, kind, 'delete', existing.id, {}, this.deps.clock());
    await this.produce(trx, scope, kind, 'delete', existing, undefined, []);
    // ...and each of them is a patch of its members (the delete event comes first: same order as committed).
    await this.deps.events?.rewritten(trx, scope.tenantId, 'Group', touched, ['members']);
    await this.dropReferencesTo(trx, scope, kind, existing.id);
  }

  /**
   * References to resources deleted outside this service (the sub-account purge, jobs/purge.ts),
   * dropped in that delete's transaction as dropReferencesTo does for the service's own deletes.
   */
  async referencesGone(trx: Knex.Transaction, scope: Scope, typeName: string, ids: string[]): Promise<void> {
    const kind = this.references.kindNamed(typeName);
    if (!kind) return;
    for (const id of ids) await this.dropReferencesTo(trx, scope, kind, id);
  }

  /**
   * Every resource naming a deleted one in a reference (an application's agents, an agent's owners
   * or parent; resources/references.ts) loses that value in the delete's transaction: a change of
   * that resource like a PATCH — new version, audit entry, patch event — so no reference dangles.
   */
  private async dropReferencesTo(trx: Knex.Transaction, scope: Scope, kind: ResourceKind, id: string): Promise<void> {
    for (const ref of this.references.to(kind)) {
      const rows = await ref.from.repo.referencing(trx, scope.tenantId, ref.attribute.name, ref.attribute.multiValued, id);
      for (const row of rows) {
        const next = References.without(row.data, ref.attribute, id);
        if (sameJson(next, row.data)) continue;
        const now = this.deps.clock();
        const after = await ref.from.repo.update(trx, scope.tenantId, row.id, this.rowValues(ref.from, next, row), now);
        if (!after) continue;
        await this.audit(trx, scope, ref.from, 'patch', row.id, { ...diffAttributes(row.data, next), cause: { referenceDeleted: { type: kind.name, id } } }, now);
        await this.produce(trx, scope, ref.from, 'patch', row, after, [ref.attribute.name]);
      }
    }
  }

  /** A list or search (RFC 7644 §3.4.2) with index or cursor paging (RFC 9865). */
  async query(scope: Scope, kind: ResourceKind, q: ListQuery): Promise<JsonObject> {
    const filter: Filter | undefined = q.filter ? parseFilter(q.filter) : undefined;
    const descending = q.sortOrder === 'descending';
    const projection = { attributes: q.attributes, excludedAttributes: q.excludedAttributes };
    if (q.cursor === undefined) {
      const { page, resources } = await this.reads.run(scope.tenantId, async (trx) => {
        const p = await kind.repo.list(trx, scope.tenantId, {
          filter,
          sortBy: q.sortBy,
          descending,
          offset: (q.startIndex ?? 1) - 1,
          limit: q.count,
          withTotal: true,
          visible: this.visibility(scope, kind),
          memberships: this.membershipsToSelect(kind, projection),
        });
        return { page: p, resources: await this.represent(trx, scope, kind, p.rows, projection) };
      });
      return { schemas: [LIST_RESPONSE_URN], totalResults: page.total ?? 0, itemsPerPage: resources.length, startIndex: q.startIndex ?? 1, Resources: resources };
    }

    const digest = queryDigest([kind.name, q.filter, q.sortBy?.toLowerCase(), q.sortOrder]);
    const nowMs = this.deps.clock().getTime();
    const position = q.cursor === '' ? undefined : decodeCursor(q.cursor, digest, nowMs, this.deps.cursorTimeoutSeconds);
    const { page, resources } = await this.reads.run(scope.tenantId, async (trx) => {
      const p = await kind.repo.list(trx, scope.tenantId, {
        filter,
        sortBy: q.sortBy,
        descending,
        limit: q.count,
        after: position,
        // Counting every row on every page would make deep paging cost O(n); RFC 9865 §2 lets a
        // cursor response omit totalResults, so it is given on the first page only.
        withTotal: position === undefined,
        visible: this.visibility(scope, kind),
        memberships: this.membershipsToSelect(kind, projection),
      });
      return { page: p, resources: await this.represent(trx, scope, kind, p.rows, projection) };
    });
    const out: JsonObject = { schemas: [LIST_RESPONSE_URN] };
    if (page.total !== undefined) out.totalResults = page.total;
    out.itemsPerPage = resources.length;
    const first = page.rows[0];
    const last = page.rows[page.rows.length - 1];
    const hasNext = position?.dir === 'prev' ? true : page.more;
    const hasPrev = position === undefined ? false : position.dir === 'prev' ? page.more : true;
    if (hasNext && last) out.nextCursor = encodeCursor({ dir: 'next', key: [last.__sort, last.id] }, digest, nowMs);
    if (hasPrev && first) out.previousCursor = encodeCursor({ dir: 'prev', key: [first.__sort, first.id] }, digest, nowMs);
    out.Resources = resources;
    return out;
  }

  /** POST /.search at the root (RFC 7644 §3.4.3): every resource type, index paging over the concatenation. */
  async searchAll(scope: Scope, kinds: ResourceKind[], q: ListQuery): Promise<JsonObject> {
    if (q.cursor !== undefined) throw invalidValue(`Cursor paging is offered per resource type; search ${kinds.map((k) => `/${k.endpoint}`).join(', ')}`);
    if (q.sortBy) throw invalidValue('sortBy is not supported on a search across resource types');
    const filter = q.filter ? parseFilter(q.filter) : undefined;
    const projection = { attributes: q.attributes, excludedAttributes: q.excludedAttributes };
    let skip = (q.startIndex ?? 1) - 1;
    let remaining = q.count;
    let total = 0;
    let applicable = 0;
    let firstError: ScimError | undefined;
    const resources: JsonObject[] = [];
    for (const kind of kinds) {
      let page;
      let represented: JsonObject[];
      try {
        // A filter on an attribute a type does not have matches none of that type.
        ({ page, represented } = await this.reads.run(scope.tenantId, async (trx) => {
          const p = await kind.repo.list(trx, scope.tenantId, {
            filter,
            descending: false,
            offset: skip,
            limit: remaining,
            withTotal: true,
          visible: this.visibility(scope, kind),
            memberships: this.membershipsToSelect(kind, projection),
          });
          return { page: p, represented: await this.represent(trx, scope, kind, p.rows, projection) };
        }));
      } catch (err) {
        // Nor does one its type cannot compare as asked: `name eq "x"` is a string test on an
        // agent's name, and meaningless on a user's complex name (test/api/agents.test.ts). When
        // no type can answer the filter, the first type's error is the client's.
        if (err instanceof ScimError && err.scimType === 'invalidFilter') {
          firstError ??= err;
          continue;
        }
        throw err;
      }
      applicable++;
      const n = page.total ?? 0;
      total += n;
      skip = Math.max(0, skip - n);
      resources.push(...represented);
      remaining = Math.max(0, q.count - resources.length);
    }
    if (!applicable && firstError) throw invalidFilter(firstError.message.replace(/ for \w+$/, ' for any resource type'));
    return { schemas: [LIST_RESPONSE_URN], totalResults: total, itemsPerPage: resources.length, startIndex: q.startIndex ?? 1, Resources: resources };
  }
}

/** The keys memberJson writes into a member. */
const MEMBER_KEYS = ['value', '$ref', 'type', 'display'];

/**
 * True when projecting streamed members would return them as they are: no attributes or
 * excludedAttributes, and every key of a member is a sub-attribute returned by default. Skipping
 * project() then saves a copy of each of the 510,500 members of the bench's largest group read.
 */
function projectsMembersUnchanged(kind: ResourceKind, projection: Projection): boolean {
  if (projection.attributes || projection.excludedAttributes) return false;
  const subs = (kind.membership && kind.schema.coreAttribute(kind.membership)?.subAttributes) || [];
  return MEMBER_KEYS.every((k) => subs.some((s) => s.name === k && (s.returned === 'default' || s.returned === 'always')));
}

/** The names of the top-level attributes set or removed between two stored resources (the notice form). */
function changedNames(before: JsonObject, after: JsonObject): string[] {
  const d = diffAttributes(before, after);
  return [...Object.keys(d.set ?? {}), ...(d.removed ?? [])];
}

/** Top-level attributes set or removed between two stored resources (for the audit log). */
export function diffAttributes(before: JsonObject, after: JsonObject): { set?: JsonObject; removed?: string[] } {
  const set: JsonObject = {};
  const removed: string[] = [];
  for (const [k, v] of Object.entries(after)) if (!sameJson(before[k], v)) set[k] = v;
  for (const k of Object.keys(before)) if (!(k in after)) removed.push(k);
  return { ...(Object.keys(set).length ? { set } : {}), ...(removed.length ? { removed } : {}) };
}
