// Who acts, and in which tenant: carried by every write and recorded in the audit log. The
// authority rule (resources/authority.ts) decides what an actor may change.

export interface Actor {
  /** scimClient: an OAuth access token of a SCIM client; externalIssuer: a token of the tenant's trusted issuer (oauth/). */
  type: 'token' | 'operator' | 'user' | 'system' | 'scimClient' | 'externalIssuer';
  id: string;
  /** A credential bound to one sub-account sees and changes only that subtree. */
  subAccountId?: string | null;
  /**
   * Whether the credential administers: a token with the `admin` scope, an admin's session, the
   * operator, the system. A scim-only token (an IdP's) syncs people and groups but does not switch
   * sub-accounts on and off (issue 9, point 4).
   */
  admin: boolean;
}

export interface Scope {
  tenantId: string;
  /** The tenant's SCIM base URL, for meta.location and $ref. */
  baseUrl: string;
  actor: Actor;
}

/** Whether the actor is this very person (signed in as them). */
export const isSelf = (actor: Actor, userId: string) => actor.type === 'user' && actor.id === userId;
