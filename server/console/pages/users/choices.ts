// What the users forms offer to choose from, read from the admin API as the signed-in person:
// services, permission profiles, price lists and the tenant's credentials address. Price lists
// and settings are tenant-wide parts of the admin API (a sub-account admin gets 403 there), so
// for a sub-account admin the form leaves the price list to its default and the credentials
// address to the server's rule (docs/admin-api.md, "Create — POST /users").
import type { AdminApi } from '../../admin-client';

export interface ServiceChoice {
  key: string;
  name: string;
}
export interface ProfileChoice {
  key: string;
  name: string;
  default: boolean;
}
export interface PriceListChoice {
  id: string;
  name: string;
  default: boolean;
}

export interface Choices {
  services: ServiceChoice[];
  profiles: ProfileChoice[];
  /** undefined: this person may not choose a price list (not tenant-wide). */
  priceLists?: PriceListChoice[];
  /** The tenant's credentials email (GET /settings), when this person may read it. */
  credentialsEmail: string | null;
  /** The key of the tenant's default permission profile. */
  defaultProfile?: string;
}

export async function loadChoices(api: AdminApi, tenantWide: boolean): Promise<Choices> {
  const [services, profiles, priceLists, settings] = await Promise.all([
    api.get<{ services: ServiceChoice[] }>('/services'),
    api.get<{ permissionProfiles: ProfileChoice[] }>('/permission-profiles'),
    tenantWide ? api.get<{ priceLists: PriceListChoice[] }>('/price-lists') : undefined,
    tenantWide ? api.get<{ credentialsEmail: string | null }>('/settings') : undefined,
  ]);
  const profileList = profiles.ok ? profiles.body.permissionProfiles.map((p) => ({ key: p.key, name: p.name, default: p.default })) : [];
  return {
    services: services.ok ? services.body.services.map((s) => ({ key: s.key, name: s.name })) : [],
    profiles: profileList,
    priceLists: priceLists?.ok ? priceLists.body.priceLists.map((p) => ({ id: p.id, name: p.name, default: p.default })) : undefined,
    credentialsEmail: settings?.ok ? settings.body.credentialsEmail : null,
    defaultProfile: profileList.find((p) => p.default)?.key,
  };
}
