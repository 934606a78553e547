// Every schema and message URN the server speaks, declared once (RFC 7643 §8.7.1 and §3; RFC 7644
// §3.4.2, §3.4.3, §3.5.2, §3.7, §3.12, §4; the Provisio extensions of docs/scim-support.md).
export const USER_URN = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const GROUP_URN = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const ENTERPRISE_URN = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const PROVISIO_USER_URN = 'urn:provisio:params:scim:schemas:extension:2.0:User';
export const PROVISIO_GROUP_URN = 'urn:provisio:params:scim:schemas:extension:2.0:Group';
// draft-ietf-scim-roles-entitlements-01 §3.2, §3.3: the values a tenant accepts in roles and entitlements.
export const ROLE_URN = 'urn:ietf:params:scim:schemas:core:2.0:Role';
export const ENTITLEMENT_URN = 'urn:ietf:params:scim:schemas:core:2.0:Entitlement';

export const SERVICE_PROVIDER_CONFIG_URN = 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig';
export const RESOURCE_TYPE_URN = 'urn:ietf:params:scim:schemas:core:2.0:ResourceType';
export const SCHEMA_URN = 'urn:ietf:params:scim:schemas:core:2.0:Schema';

export const LIST_RESPONSE_URN = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
export const SEARCH_REQUEST_URN = 'urn:ietf:params:scim:api:messages:2.0:SearchRequest';
export const PATCH_OP_URN = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const BULK_REQUEST_URN = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';
export const BULK_RESPONSE_URN = 'urn:ietf:params:scim:api:messages:2.0:BulkResponse';
export const ERROR_URN = 'urn:ietf:params:scim:api:messages:2.0:Error';
