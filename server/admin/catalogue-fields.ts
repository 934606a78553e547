// The fields the services and permission-profiles parts of the admin API share (issue 10): a
// body that is an object of known attributes, a trimmed name, an optional description, and an
// audit entry in the write's transaction. docs/admin-api.md, "Services", "Permission profiles".
import { fieldRule } from '../errors';
import { text } from '../openapi/schema-kit';
import type { AuditRepo } from '../store/audit-repo';
import type { Tx } from '../store/scope';
import type { AdminRequest } from './admin-router';

export const MAX_NAME = 200;
export const MAX_DESCRIPTION = 1000;

/** A name the body schema accepted (openapi/schema-kit.ts text), as stored: trimmed. */
export const nameOf = (value: unknown): string => String(value).trim();

/** A description the body schema accepted (a string or null), as stored: trimmed; null or "" clear it. */
export function descriptionOf(value: unknown): string | null {
  if (value === null) return null;
  const text = String(value).trim();
  return text === '' ? null : text;
}

/** The body schemas of a name and a description (openapi/describe.ts). */
export const NAME_SCHEMA = text(MAX_NAME, 'trimmed');
export const DESCRIPTION_SCHEMA = { type: ['string', 'null'], maxLength: MAX_DESCRIPTION, description: 'trimmed; null or "" clears it' };

/** `key` in a PATCH body: the same key (any case) changes nothing; another is refused. */
export function checkSameKey(sent: unknown, key: string, what: string): void {
  if (sent === undefined) return;
  if (typeof sent !== 'string' || sent.toLowerCase() !== key) {
    throw fieldRule('key', 'immutable', `is immutable: users hold this ${what} by its key "${key}"; create a new ${what} with the key you want instead`);
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
