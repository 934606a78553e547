// The platform's permission catalogue (issue 10, "Permission profiles"): what a person may do in
// the partner's product, set by the operator — config/permissions.json as shipped, or the file
// PERMISSIONS_FILE names (docs/configuration.md). Read once at start by config.ts: a bad file
// stops the process with a message naming the key and the entry at fault. Permission profiles
// (admin/permission-profiles.ts) grant subsets of it; the built-in `enterprise` profile grants
// all of it. Pure; table-tested in test/unit/permission-catalogue.test.ts.

export interface Permission {
  key: string;
  description: string;
}

/** Dotted lower-case words, like `servers.manage` or `support.open`. */
export const PERMISSION_KEY = /^[a-z][a-z0-9_-]*(\.[a-z][a-z0-9_-]*)*$/;
export const MAX_PERMISSION_KEY = 100;
export const MAX_PERMISSION_DESCRIPTION = 500;
/** A catalogue is a short list a console shows whole; far more is a mistake in the file. */
export const MAX_PERMISSIONS = 1000;

/**
 * Reads a catalogue: `{"permissions": [{"key", "description"}, …]}`, at least one permission,
 * keys unique. Throws an Error whose message says what is wrong and where (`permissions[2].key
 * …`); the caller adds which file.
 */
export function parsePermissionCatalogue(value: unknown): Permission[] {
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObject(value)) throw new Error('must be a JSON object {"permissions": [{"key": …, "description": …}, …]}');
  const extra = Object.keys(value).filter((k) => k !== 'permissions');
  if (extra.length) throw new Error(`has an unknown field "${extra[0]}"; the object holds "permissions" only`);
  const list = value.permissions;
  if (!Array.isArray(list) || list.length === 0) throw new Error('"permissions" must be a non-empty array');
  if (list.length > MAX_PERMISSIONS) throw new Error(`"permissions" holds ${list.length} entries; at most ${MAX_PERMISSIONS}`);
  const seen = new Set<string>();
  return list.map((entry, i) => {
    const at = `permissions[${i}]`;
    if (!isObject(entry)) throw new Error(`${at} must be an object {"key": …, "description": …}`);
    const unknown = Object.keys(entry).filter((k) => k !== 'key' && k !== 'description');
    if (unknown.length) throw new Error(`${at} has an unknown field "${unknown[0]}"; accepted: key, description`);
    const { key, description } = entry;
    if (typeof key !== 'string' || key.length > MAX_PERMISSION_KEY || !PERMISSION_KEY.test(key)) {
      throw new Error(`${at}.key must be dotted lower-case words such as "servers.manage" (letters, digits, "_" and "-"; at most ${MAX_PERMISSION_KEY} characters), got ${JSON.stringify(key)}`);
    }
    if (seen.has(key)) throw new Error(`${at}.key "${key}" appears twice`);
    seen.add(key);
    if (typeof description !== 'string' || description.trim() === '' || description.length > MAX_PERMISSION_DESCRIPTION) {
      throw new Error(`${at}.description must be a non-empty string of at most ${MAX_PERMISSION_DESCRIPTION} characters`);
    }
    return { key, description: description.trim() };
  });
}
