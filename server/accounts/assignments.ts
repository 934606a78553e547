// What a person is assigned (issue 10), for GET /api/v1/users/{id}/permissions and the account
// page: their permission profile with the permissions it grants now, and their services by name.
// One statement (store/assignments-repo.ts): the permissions lookup is on the partner product's
// hot path. The catalogue comes in as data from the composition root (deps.ts hands over the
// operator's PERMISSIONS_FILE), so this layer reads no configuration. test/api/assignments.test.ts
import type { Knex } from 'knex';
import { grantedPermissions } from '../resources/assignments';
import { AssignmentsRow, assignmentsOf } from '../store/assignments-repo';
import { Db, inTenant } from '../store/scope';

export interface AssignedProfile {
  key: string;
  name: string;
  /** The permission keys the profile grants, in the catalogue's order. */
  permissions: string[];
}

export interface Assigned {
  /** Null only for a user whose profile is gone, which the write rules never leave. */
  profile: AssignedProfile | null;
  services: { key: string; name: string }[];
}

export class Assignments {
  private readonly catalogue: string[];

  constructor(private readonly deps: { knex: Knex; permissions: readonly { key: string }[] }) {
    this.catalogue = deps.permissions.map((p) => p.key);
  }

  /** In the caller's tenant transaction (the permissions answer reads more in the same one). */
  async read(trx: Db, tenantId: string, userId: string): Promise<Assigned | undefined> {
    const row = await assignmentsOf(trx, tenantId, userId);
    return row && this.present(row);
  }

  /** A stored profile and services as the product reads them: what the profile grants now. */
  present(row: AssignmentsRow): Assigned {
    return {
      profile: row.profile && { key: row.profile.key, name: row.profile.name, permissions: grantedPermissions(row.profile, this.catalogue) },
      services: row.services,
    };
  }

  /** In a transaction of its own; undefined when the tenant has no such user. */
  async of(tenantId: string, userId: string): Promise<Assigned | undefined> {
    return inTenant(this.deps.knex, tenantId, (trx) => this.read(trx, tenantId, userId));
  }
}
