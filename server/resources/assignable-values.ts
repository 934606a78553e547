// What a tenant accepts in a user's `roles` and `entitlements`, published as the read-only /Roles
// and /Entitlements resource types of draft-ietf-scim-roles-entitlements-01 (§3.1–§3.3), so an
// IdP admin picks values instead of typing them (issue 10, "Discovery"). Roles are the two of
// resources/roles.ts; entitlements are the tenant's services (store/services-repo.ts), each
// {"type": "service", "value": <key>} as a user holds it (resources/assignments.ts). The lists are
// built per request from the same sources the write rules read, so what is listed is exactly what
// a write accepts. test/api/roles-entitlements.test.ts
import type { Knex } from 'knex';
import { notFound } from '../errors';
import { ListQuery } from '../scim/list-query';
import { JsonObject } from '../scim/normalize';
import { project, Projection } from '../scim/projection';
import { ResourceSchema } from '../scim/schema';
import { ENTITLEMENT_URN, ROLE_URN } from '../scim/urns';
import { listValues } from '../scim/value-list';
import { inTenant } from '../store/scope';
import { ServiceRow, ServicesRepo } from '../store/services-repo';
import { SERVICE_TYPE } from './assignments';
import { ROLES } from './roles';
import type { Scope } from './service';

export interface AssignableValuesDeps {
  knex: Knex;
  services: ServicesRepo;
  roleSchema: ResourceSchema;
  entitlementSchema: ResourceSchema;
  clock: () => Date;
  cursorTimeoutSeconds: number;
}

const ROLE_DISPLAY: Record<(typeof ROLES)[number], string> = { admin: 'Administrator', user: 'User' };

/** admin grants everything user does (issue 10: an admin is a user who also administers). */
const ROLE_HIERARCHY: Record<(typeof ROLES)[number], { contains: string[]; containedBy: string[] }> = {
  admin: { contains: ['user'], containedBy: [] },
  user: { contains: [], containedBy: ['admin'] },
};

export class AssignableValues {
  constructor(private readonly deps: AssignableValuesDeps) {}

  private context() {
    return { nowMs: this.deps.clock().getTime(), cursorTimeoutSeconds: this.deps.cursorTimeoutSeconds };
  }

  private roleDocuments(scope: Scope): JsonObject[] {
    return ROLES.map((role) => ({
      schemas: [ROLE_URN],
      id: role,
      value: role,
      display: ROLE_DISPLAY[role],
      supported: true,
      limitedAssignmentsPermitted: false,
      contains: ROLE_HIERARCHY[role].contains,
      containedBy: ROLE_HIERARCHY[role].containedBy,
      meta: { resourceType: 'Role', location: `${scope.baseUrl}/Roles/${role}` },
    }));
  }

  private entitlementDocument(scope: Scope, s: ServiceRow): JsonObject {
    return {
      schemas: [ENTITLEMENT_URN],
      id: s.key,
      value: s.key,
      display: s.name,
      type: SERVICE_TYPE,
      supported: true,
      limitedAssignmentsPermitted: false,
      contains: [],
      containedBy: [],
      meta: {
        resourceType: 'Entitlement',
        created: new Date(s.created_at).toISOString(),
        lastModified: new Date(s.updated_at).toISOString(),
        location: `${scope.baseUrl}/Entitlements/${encodeURIComponent(s.key)}`,
      },
    };
  }

  listRoles(scope: Scope, q: ListQuery): JsonObject {
    return listValues(this.deps.roleSchema, this.roleDocuments(scope), q, this.context());
  }

  role(scope: Scope, id: string, projection: Projection): JsonObject {
    const doc = this.roleDocuments(scope).find((r) => r.id === id.toLowerCase());
    if (!doc) throw notFound(`Role ${id} not found`);
    return project(this.deps.roleSchema, doc, projection);
  }

  async listEntitlements(scope: Scope, q: ListQuery): Promise<JsonObject> {
    const rows = await inTenant(this.deps.knex, scope.tenantId, (trx) => this.deps.services.list(trx, scope.tenantId));
    return listValues(this.deps.entitlementSchema, rows.map((s) => this.entitlementDocument(scope, s)), q, this.context());
  }

  async entitlement(scope: Scope, id: string, projection: Projection): Promise<JsonObject> {
    const row = await inTenant(this.deps.knex, scope.tenantId, (trx) => this.deps.services.get(trx, scope.tenantId, id));
    if (!row) throw notFound(`Entitlement ${id} not found`);
    return project(this.deps.entitlementSchema, this.entitlementDocument(scope, row), projection);
  }
}
