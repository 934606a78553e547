// Whom people kept out should contact (issue 11): the tenant setting `supportContact`
// ({name, email, phone}; admin/settings.ts validates it when written), read by the pages that keep
// someone out — the front door's kept-out messages (front-door/front-pages.ts keptOut) and the
// console's error pages (console/console-router.ts). Unset, they name the organisation instead.
import { isObject } from '../scim/normalize';

export interface SupportContact {
  name: string;
  email: string | null;
  phone: string | null;
}

/** The stored contact, or undefined when unset. */
export function supportContactOf(settings: Record<string, unknown> | undefined): SupportContact | undefined {
  const c = settings?.supportContact;
  if (!isObject(c) || typeof c.name !== 'string' || !c.name) return undefined;
  return { name: c.name, email: typeof c.email === 'string' ? c.email : null, phone: typeof c.phone === 'string' ? c.phone : null };
}
