// Discovery documents (server/scim/discovery.ts): ServiceProviderConfig (RFC 7643 §5, RFC 9865 §4),
// ResourceTypes (RFC 7643 §6) and Schemas (RFC 7643 §7) tell clients what the server really does.
import { Capabilities, listResponse, resourceTypeDocument, schemaDocument, serviceProviderConfig } from '../../server/scim/discovery';
import { JsonObject } from '../../server/scim/normalize';
import { catalog, ENTERPRISE, USER_URN } from './helpers';

const BASE = 'https://scim.example.com/scim/v2/t-1';
const DOCS = 'https://docs.example.com/scim';

const caps = (over: Partial<Capabilities> = {}): Capabilities => ({
  patch: true,
  bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
  filterMaxResults: 1000,
  changePassword: false,
  sort: true,
  etag: true,
  pagination: { cursor: true, index: true, defaultPaginationMethod: 'index', defaultPageSize: 100, maxPageSize: 1000, cursorTimeout: 3600 },
  rolesAndEntitlements: {
    roles: { supported: true, multipleRolesSupported: false, primarySupported: true, typeSupported: false },
    entitlements: { supported: true, multipleEntitlementsSupported: true, primarySupported: false, typeSupported: true, types: ['service'] },
  },
  agentExtension: { supported: true, agentsSupported: true, agenticApplicationsSupported: false },
  ...over,
});

describe('ServiceProviderConfig (RFC 7643 §5)', () => {
  const spc = serviceProviderConfig(BASE, caps(), DOCS);

  it('carries its schema, documentation and meta.location under the base URL', () => {
    expect(spc.schemas).toEqual(['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig']);
    expect(spc.documentationUri).toBe(DOCS);
    expect(spc.meta).toEqual({ resourceType: 'ServiceProviderConfig', location: `${BASE}/ServiceProviderConfig` });
  });

  it('advertises the agent extension as draft-abbey-scim-agent-extension-00 §4.1 asks, from the capabilities', () => {
    expect(spc.agentExtension).toEqual({ supported: true, agentsSupported: true, agenticApplicationsSupported: false });
  });

  it('has every attribute RFC 7643 §5 requires', () => {
    for (const k of ['patch', 'bulk', 'filter', 'changePassword', 'sort', 'etag', 'authenticationSchemes']) expect(spc).toHaveProperty(k);
  });

  it('pagination has the RFC 9865 §4 sub-attributes, as JSON integers and booleans', () => {
    expect(spc.pagination).toEqual({
      cursor: true,
      index: true,
      defaultPaginationMethod: 'index',
      defaultPageSize: 100,
      maxPageSize: 1000,
      cursorTimeout: 3600,
    });
  });

  it('RolesAndEntitlements is the object of draft-ietf-scim-roles-entitlements-01 §3.1, as the server advertises it', () => {
    expect(spc.RolesAndEntitlements).toEqual({
      roles: { supported: true, multipleRolesSupported: false, primarySupported: true, typeSupported: false },
      entitlements: { supported: true, multipleEntitlementsSupported: true, primarySupported: false, typeSupported: true, types: ['service'] },
    });
    const off = serviceProviderConfig(BASE, caps({ rolesAndEntitlements: { roles: { supported: false, multipleRolesSupported: false, primarySupported: false, typeSupported: false }, entitlements: { supported: false, multipleEntitlementsSupported: false, primarySupported: false, typeSupported: false, types: [] } } }));
    expect((off.RolesAndEntitlements as JsonObject).roles).toMatchObject({ supported: false });
  });

  it('securityEvents (RFC 9967 §4) is there only when the server produces events, as a copy', () => {
    expect(spc).not.toHaveProperty('securityEvents');
    const uris = ['urn:ietf:params:scim:event:prov:delete'];
    const on = serviceProviderConfig(BASE, caps({ securityEvents: { asyncRequest: 'none', eventUris: uris } }));
    expect(on.securityEvents).toEqual({ asyncRequest: 'none', eventUris: uris });
    expect((on.securityEvents as JsonObject).eventUris).not.toBe(uris);
  });

  it('authenticationSchemes names the bearer token (RFC 7643 §5)', () => {
    const schemes = spc.authenticationSchemes as JsonObject[];
    expect(schemes).toHaveLength(1);
    expect(schemes[0]).toMatchObject({ type: 'oauthbearertoken', primary: true });
    expect(typeof schemes[0].name).toBe('string');
    expect(typeof schemes[0].description).toBe('string');
  });

  it.each<[string, Partial<Capabilities>, (d: JsonObject) => unknown, unknown]>([
    ['patch supported', { patch: true }, (d) => d.patch, { supported: true }],
    ['patch not supported', { patch: false }, (d) => d.patch, { supported: false }],
    ['bulk off', {}, (d) => d.bulk, { supported: false, maxOperations: 0, maxPayloadSize: 0 }],
    ['bulk on with limits', { bulk: { supported: true, maxOperations: 50, maxPayloadSize: 1048576 } }, (d) => d.bulk, { supported: true, maxOperations: 50, maxPayloadSize: 1048576 }],
    ['filter.maxResults', { filterMaxResults: 200 }, (d) => d.filter, { supported: true, maxResults: 200 }],
    ['etag on', { etag: true }, (d) => d.etag, { supported: true }],
    ['etag off', { etag: false }, (d) => d.etag, { supported: false }],
    ['sort on', { sort: true }, (d) => d.sort, { supported: true }],
    ['sort off', { sort: false }, (d) => d.sort, { supported: false }],
    ['changePassword', { changePassword: true }, (d) => d.changePassword, { supported: true }],
    [
      'cursor-only pagination',
      { pagination: { cursor: true, index: false, defaultPaginationMethod: 'cursor', defaultPageSize: 50, maxPageSize: 200, cursorTimeout: 600 } },
      (d) => d.pagination,
      { cursor: true, index: false, defaultPaginationMethod: 'cursor', defaultPageSize: 50, maxPageSize: 200, cursorTimeout: 600 },
    ],
  ])('%s', (_note, over, pick, expected) => {
    expect(pick(serviceProviderConfig(BASE, caps(over), DOCS))).toEqual(expected);
  });

  it('is a copy: changing the document does not change the capabilities', () => {
    const c = caps();
    const d = serviceProviderConfig(BASE, c, DOCS);
    (d.pagination as JsonObject).maxPageSize = 1;
    expect(c.pagination.maxPageSize).toBe(1000);
  });
});

describe('Schemas (RFC 7643 §7)', () => {
  it.each(catalog.schemas.map((s) => [s.id, s] as const))('%s', (_id, s) => {
    const d = schemaDocument(BASE, s);
    expect(d.schemas).toEqual(['urn:ietf:params:scim:schemas:core:2.0:Schema']);
    expect(d.id).toBe(s.id);
    expect(d.name).toBe(s.name);
    expect(d.attributes).toEqual(s.attributes);
    expect(d.meta).toEqual({ resourceType: 'Schema', location: `${BASE}/Schemas/${s.id}` });
  });

  it('the User schema has userName required and password writeOnly/never', () => {
    const d = schemaDocument(BASE, catalog.schemas.find((s) => s.id === USER_URN)!);
    const attrs = d.attributes as JsonObject[];
    expect(attrs.find((a) => a.name === 'userName')).toMatchObject({ required: true, caseExact: false, uniqueness: 'server' });
    expect(attrs.find((a) => a.name === 'password')).toMatchObject({ mutability: 'writeOnly', returned: 'never' });
  });
});

describe('ResourceTypes (RFC 7643 §6)', () => {
  it.each(catalog.resourceTypes.map((rt) => [rt.id, rt] as const))('%s', (_id, rt) => {
    const d = resourceTypeDocument(BASE, rt);
    expect(d).toMatchObject({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:ResourceType'],
      id: rt.id,
      name: rt.name,
      endpoint: rt.endpoint,
      schema: rt.schema,
      meta: { resourceType: 'ResourceType', location: `${BASE}/ResourceTypes/${rt.id}` },
    });
    expect(d.schemaExtensions).toEqual(rt.schemaExtensions);
  });

  it('User lists the enterprise extension as optional', () => {
    const d = resourceTypeDocument(BASE, catalog.resourceTypes.find((rt) => rt.id === 'User')!);
    expect(d.schemaExtensions).toContainEqual({ schema: ENTERPRISE, required: false });
  });

  it('a resource type without description has no description key', () => {
    const d = resourceTypeDocument(BASE, { id: 'X', name: 'X', endpoint: '/X', schema: 'urn:x', schemaExtensions: [] });
    expect(d).not.toHaveProperty('description');
  });
});

describe('listResponse (RFC 7644 §3.4.2 for /Schemas and /ResourceTypes)', () => {
  it.each<[string, JsonObject[]]>([
    ['empty', []],
    ['two', [{ id: 'a' }, { id: 'b' }]],
  ])('%s', (_note, resources) => {
    expect(listResponse(resources)).toEqual({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
      totalResults: resources.length,
      itemsPerPage: resources.length,
      startIndex: 1,
      Resources: resources,
    });
  });
});
