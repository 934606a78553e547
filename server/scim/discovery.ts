// Discovery documents (RFC 7644 §4; RFC 7643 §5, §6, §7; RFC 9865 §4): ServiceProviderConfig,
// ResourceTypes and Schemas, built from the JSON in schemas/ and from what the server really
// does, so that a client reading them is told the truth. Pure; test/unit/discovery.test.ts.
import { JsonObject } from './normalize';
import { ResourceTypeDef, SchemaDef } from './schema';

export interface Capabilities {
  patch: boolean;
  bulk: { supported: boolean; maxOperations: number; maxPayloadSize: number };
  filterMaxResults: number;
  changePassword: boolean;
  sort: boolean;
  etag: boolean;
  pagination: {
    cursor: boolean;
    index: boolean;
    defaultPaginationMethod: 'index' | 'cursor';
    defaultPageSize: number;
    maxPageSize: number;
    cursorTimeout: number;
  };
  /** draft-ietf-scim-roles-entitlements-01 §3.1: the "RolesAndEntitlements" object, as advertised. */
  rolesAndEntitlements: {
    roles: { supported: boolean; multipleRolesSupported: boolean; primarySupported: boolean; typeSupported: boolean };
    entitlements: { supported: boolean; multipleEntitlementsSupported: boolean; primarySupported: boolean; typeSupported: boolean; types: string[] };
  };
  /**
   * RFC 9967 §4: the "securityEvents" object — whether asynchronous requests are done ("none"
   * here: every request completes before its answer) and the event URIs the server can put on a
   * stream (events/catalog.ts). Absent means no events.
   */
  securityEvents?: { asyncRequest: 'none' | 'long' | 'request'; eventUris: string[] };
  /**
   * draft-abbey-scim-agent-extension-00 §4.1: a server supporting agents MUST say so here, so a
   * client does not provision an agent as a User.
   */
  agentExtension: { supported: boolean; agentsSupported: boolean; agenticApplicationsSupported: boolean };
}

import { LIST_RESPONSE_URN, RESOURCE_TYPE_URN as RT_URN, SCHEMA_URN, SERVICE_PROVIDER_CONFIG_URN as SPC_URN } from './urns';

export function serviceProviderConfig(baseUrl: string, caps: Capabilities, docsUrl?: string): JsonObject {
  return {
    schemas: [SPC_URN],
    ...(docsUrl ? { documentationUri: docsUrl } : {}),
    patch: { supported: caps.patch },
    bulk: { supported: caps.bulk.supported, maxOperations: caps.bulk.maxOperations, maxPayloadSize: caps.bulk.maxPayloadSize },
    filter: { supported: true, maxResults: caps.filterMaxResults },
    changePassword: { supported: caps.changePassword },
    sort: { supported: caps.sort },
    etag: { supported: caps.etag },
    pagination: { ...caps.pagination },
    RolesAndEntitlements: {
      roles: { ...caps.rolesAndEntitlements.roles },
      entitlements: { ...caps.rolesAndEntitlements.entitlements, types: [...caps.rolesAndEntitlements.entitlements.types] },
    },
    agentExtension: { ...caps.agentExtension },
    ...(caps.securityEvents ? { securityEvents: { asyncRequest: caps.securityEvents.asyncRequest, eventUris: [...caps.securityEvents.eventUris] } } : {}),
    authenticationSchemes: [
      {
        type: 'oauthbearertoken',
        name: 'OAuth Bearer Token',
        description: 'A tenant API token, a SCIM client\'s OAuth 2.0 access token (client credentials), or a token of the tenant\'s trusted issuer, sent as "Authorization: Bearer <token>" (RFC 6750).',
        specUri: 'https://www.rfc-editor.org/info/rfc6750',
        primary: true,
      },
    ],
    meta: { resourceType: 'ServiceProviderConfig', location: `${baseUrl}/ServiceProviderConfig` },
  };
}

export function resourceTypeDocument(baseUrl: string, rt: ResourceTypeDef): JsonObject {
  return {
    schemas: [RT_URN],
    id: rt.id,
    name: rt.name,
    endpoint: rt.endpoint,
    ...(rt.description ? { description: rt.description } : {}),
    schema: rt.schema,
    schemaExtensions: rt.schemaExtensions.map((e) => ({ schema: e.schema, required: e.required })),
    meta: { resourceType: 'ResourceType', location: `${baseUrl}/ResourceTypes/${rt.id}` },
  };
}

export function schemaDocument(baseUrl: string, s: SchemaDef): JsonObject {
  return {
    schemas: [SCHEMA_URN],
    id: s.id,
    name: s.name,
    ...(s.description ? { description: s.description } : {}),
    attributes: s.attributes as unknown as JsonObject[],
    meta: { resourceType: 'Schema', location: `${baseUrl}/Schemas/${s.id}` },
  };
}

export function listResponse(resources: JsonObject[]): JsonObject {
  return {
    schemas: [LIST_RESPONSE_URN],
    totalResults: resources.length,
    itemsPerPage: resources.length,
    startIndex: 1,
    Resources: resources,
  };
}
