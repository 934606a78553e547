// The fields the services and permission-profiles parts of the admin API share (issue 10): a
// body that is an object of known attributes, a trimmed name, an optional description, and an
// audit entry in the write's transaction. docs/admin-api.md, "Services", "Permission profiles".
import { invalidValue } from '../errors';
import { isObject } from '../scim/normalize';
import type { AuditRepo } from '../store/audit-repo';
import type { Tx } from '../store/scope';
import type { AdminRequest } from './admin-router';

export const MAX_NAME = 200;
export const MAX_DESCRIPTION = 1000;

export function parseBody(body: unknown, allowed: string[]): Record<string, unknown> {
  if (!isObject(body)) throw invalidValue(`The body must be a JSON object with ${allowed.join(', ')}`);
  const unknown = Object.keys(body).filter((k) => !allowed.includes(k));
  if (unknown.length) throw invalidValue(`Unknown attribute ${unknown.map((k) => `"${k}"`).join(', ')}; accepted: ${allowed.join(', ')}`);
  return body;
}

export function parseName(value: unknown): string {
  if (typeof value !== 'string' || !value.trim()) throw invalidValue('name is required and must be a non-empty string');
  const name = value.trim();
  if ([...name].length > MAX_NAME) throw invalidValue(`name must be at most ${MAX_NAME} characters`);
  return name;
}

/** A description: a string of at most MAX_DESCRIPTION characters, trimmed; null or "" clear it. */
export function parseDescription(value: unknown): string | null {
  if (value === null) return null;
  if (typeof value !== 'string') throw invalidValue('description must be a string or null');
  const text = value.trim();
  if ([...text].length > MAX_DESCRIPTION) throw invalidValue(`description must be at most ${MAX_DESCRIPTION} characters`);
  return text === '' ? null : text;
}

/** `key` in a PATCH body: the same key (any case) changes nothing; another is refused. */
export function checkSameKey(sent: unknown, key: string, what: string): void {
  if (sent === undefined) return;
  if (typeof sent !== 'string' || sent.toLowerCase() !== key) {
    throw invalidValue(`key is immutable: users hold this ${what} by its key "${key}"; create a new ${what} with the key you want instead`);
  }
}

export type Audit = Pick<AuditRepo, 'record' | 'recordMany'>;

/** Records a change in the audit log, in the transaction that makes it. */
export async function auditIn(
  audit: Audit | undefined,
  trx: Tx,
  req: AdminRequest,
  at: Date,
  action: string,
  target: { type: string; id: string },
  changes: Record<string, unknown>,
): Promise<void> {
  if (!audit) return;
  const actor = req.scope!.actor;
  await audit.record(trx, req.tenantId!, at, { actorType: actor.type, actorId: actor.id, action, targetType: target.type, targetId: target.id, changes });
}

/** One `user.patch` entry per user a catalogue change rewrote, in one batch. */
export async function auditUsers(audit: Audit | undefined, trx: Tx, req: AdminRequest, at: Date, users: { id: string; changes: Record<string, unknown> }[]): Promise<void> {
  if (!audit || !users.length) return;
  const actor = req.scope!.actor;
  await audit.recordMany(
    trx,
    req.tenantId!,
    at,
    users.map((u) => ({ actorType: actor.type, actorId: actor.id, action: 'user.patch', targetType: 'User', targetId: u.id, changes: u.changes })),
  );
}
