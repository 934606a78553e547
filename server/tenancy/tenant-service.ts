// Creating and listing tenants (the operator API and CLI share it). A tenant is born with its
// primary admin (a user whose userName and work email are the admin email) and a first API token
// with both scopes, shown once and stored as a hash, its default price list "Standard", and its
// built-in permission profile `enterprise`, the default (issue 10) — all in one transaction.
import type { Knex } from 'knex';
import { v7 as uuidv7 } from 'uuid';
import { invalidValue } from '../errors';
import { isObject } from '../scim/normalize';
import { Catalog } from '../resources/catalog';
import { ResourceService } from '../resources/service';
import { TenantsRepo, TokensRepo } from '../store/tenants-repo';
import { generateToken, hashToken } from '../secrets';
import { asOwner } from '../store/scope';
import { requireAddress } from '../scim/email-address';
import { DEFAULT_PRICE_LIST_NAME, PriceListsRepo } from '../store/price-lists-repo';
import { PermissionProfilesRepo } from '../store/permission-profiles-repo';

export interface NewTenant {
  name: string;
  adminEmail: string;
  adminName?: { givenName?: string; familyName?: string };
}

export interface CreatedTenant {
  id: string;
  name: string;
  scimBaseUrl: string;
  token: string;
  primaryAdminId: string;
  createdAt: string;
}

/** Validates an operator's request body; throws invalidValue with the field at fault. */
export function parseNewTenant(body: unknown): NewTenant {
  if (!isObject(body)) throw invalidValue('The body must be a JSON object with name and adminEmail');
  const name = typeof body.name === 'string' ? body.name.trim() : '';
  if (!name) throw invalidValue('name is required');
  if (name.length > 200) throw invalidValue('name must be at most 200 characters');
  const adminEmail = typeof body.adminEmail === 'string' ? body.adminEmail.trim() : '';
  // The primary admin's sign-in email and where their mail goes: the one address rule (issue 9),
  // here so the answer names adminEmail rather than the userName it becomes. test/api/addresses.test.ts
  requireAddress('adminEmail', adminEmail);
  let adminName: NewTenant['adminName'];
  if (body.adminName !== undefined && body.adminName !== null) {
    if (!isObject(body.adminName)) throw invalidValue('adminName must be an object with givenName and familyName');
    const { givenName, familyName } = body.adminName;
    if ((givenName !== undefined && typeof givenName !== 'string') || (familyName !== undefined && typeof familyName !== 'string')) {
      throw invalidValue('adminName.givenName and adminName.familyName must be strings');
    }
    adminName = {};
    if (typeof givenName === 'string' && givenName.trim()) adminName.givenName = givenName.trim();
    if (typeof familyName === 'string' && familyName.trim()) adminName.familyName = familyName.trim();
  }
  return { name, adminEmail, adminName };
}

export class TenantService {
  constructor(
    private readonly deps: {
      knex: Knex;
      tenants: TenantsRepo;
      tokens: TokensRepo;
      service: ResourceService;
      catalog: Catalog;
      scimBaseUrl: (tenantId: string) => string;
    },
  ) {}

  async create(input: NewTenant): Promise<CreatedTenant> {
    const { knex, tenants, tokens, service, catalog } = this.deps;
    const id = uuidv7();
    const token = generateToken();
    return asOwner(knex, async (trx) => {
      const tenant = await tenants.insert(trx, { id, name: input.name });
      await tokens.insert(trx, id, { id: uuidv7(), name: 'Initial token', tokenHash: hashToken(token), scopes: ['scim', 'admin'] });
      // Every tenant has exactly one default price list from birth (issue 4, "Price lists").
      await new PriceListsRepo().insert(trx, id, { id: uuidv7(), name: DEFAULT_PRICE_LIST_NAME, isDefault: true });
      // …and `enterprise`, before the primary admin, who gets the default profile like anyone.
      await new PermissionProfilesRepo().insertEnterprise(trx, id);
      const name = input.adminName && (input.adminName.givenName || input.adminName.familyName) ? { ...input.adminName } : undefined;
      const displayName = name ? [name.givenName, name.familyName].filter(Boolean).join(' ') : undefined;
      const admin = await service.create(
        { tenantId: id, baseUrl: this.deps.scimBaseUrl(id), actor: { type: 'operator', id: 'operator', admin: true } },
        catalog.users,
        {
          userName: input.adminEmail,
          ...(name ? { name } : {}),
          ...(displayName ? { displayName } : {}),
          emails: [{ value: input.adminEmail, type: 'work', primary: true }],
          // The primary admin is always an admin (resources/roles.ts).
          roles: [{ value: 'admin', primary: true }],
          active: true,
        },
        {},
        { trx, columns: { is_primary_admin: true } },
      );
      return {
        id,
        name: tenant.name,
        scimBaseUrl: this.deps.scimBaseUrl(id),
        token,
        primaryAdminId: admin.resource.id as string,
        createdAt: new Date(tenant.created_at).toISOString(),
      };
    });
  }

  async get(id: string) {
    const t = await asOwner(this.deps.knex, (trx) => this.deps.tenants.get(trx, id));
    return t && { id: t.id, name: t.name, scimBaseUrl: this.deps.scimBaseUrl(t.id), createdAt: new Date(t.created_at).toISOString() };
  }

  async list() {
    const rows = await asOwner(this.deps.knex, (trx) => this.deps.tenants.list(trx));
    return rows.map((t) => ({
      id: t.id,
      name: t.name,
      scimBaseUrl: this.deps.scimBaseUrl(t.id),
      users: t.users,
      groups: t.groups,
      createdAt: new Date(t.created_at).toISOString(),
    }));
  }
}
