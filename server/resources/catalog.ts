// The schema catalogue: the RFC 7643 schema JSON in schemas/ (served at /Schemas, and driving
// normalization, filters and projection) and the resource types built on it.
import userSchema from '../../schemas/User.json';
import groupSchema from '../../schemas/Group.json';
import enterpriseSchema from '../../schemas/EnterpriseUser.json';
import provisioUserSchema from '../../schemas/ProvisioUser.json';
import provisioGroupSchema from '../../schemas/ProvisioGroup.json';
import roleSchema from '../../schemas/Role.json';
import entitlementSchema from '../../schemas/Entitlement.json';
import agentSchema from '../../schemas/Agent.json';
import agenticApplicationSchema from '../../schemas/AgenticApplication.json';
import resourceTypes from '../../schemas/ResourceTypes.json';
import { ResourceSchema, ResourceTypeDef, SchemaDef } from '../scim/schema';
import { documentKind, groupKind, ResourceKind, userKind } from './kinds';
import { References } from './references';

export interface Catalog {
  schemas: SchemaDef[];
  resourceTypes: ResourceTypeDef[];
  users: ResourceKind;
  groups: ResourceKind;
  /** The agent extension's types (draft-abbey-scim-agent-extension-00), declared as data (kinds.ts documentKind). */
  agents: ResourceKind;
  agenticApplications: ResourceKind;
  /** The stored, writable types: User, Group, Agent, AgenticApplication. */
  kinds: ResourceKind[];
  /** The references between them, read from their schemas (resources/references.ts). */
  references: References;
  /** The read-only value lists of draft-ietf-scim-roles-entitlements-01 (resources/assignable-values.ts). */
  roles: ResourceSchema;
  entitlements: ResourceSchema;
}

export function loadCatalog(): Catalog {
  const schemas = [
    userSchema, groupSchema, enterpriseSchema, provisioUserSchema, provisioGroupSchema, agentSchema, agenticApplicationSchema, roleSchema, entitlementSchema,
  ] as unknown as SchemaDef[];
  const types = resourceTypes as unknown as ResourceTypeDef[];
  const rt = (id: string) => {
    const t = types.find((x) => x.id === id);
    if (!t) throw new Error(`schemas/ResourceTypes.json has no ${id}`);
    return t;
  };
  const users = userKind(rt('User'), schemas);
  const groups = groupKind(rt('Group'), schemas);
  const agents = documentKind(rt('Agent'), schemas, { table: 'agents', alias: 'ag', uniqueAttribute: 'name', noun: 'an agent' });
  const agenticApplications = documentKind(rt('AgenticApplication'), schemas, { table: 'agentic_applications', alias: 'aa', uniqueAttribute: 'name', noun: 'an agentic application' });
  return {
    schemas,
    resourceTypes: types,
    users,
    groups,
    agents,
    agenticApplications,
    kinds: [users, groups, agents, agenticApplications],
    references: new References([users, groups, agents, agenticApplications]),
    roles: new ResourceSchema(rt('Role'), schemas),
    entitlements: new ResourceSchema(rt('Entitlement'), schemas),
  };
}
