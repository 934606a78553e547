// The user form of the console (new user and the per-person page): what was typed, read back for
// redisplay after an error (never a password), and turned into the admin API's fields
// (server/admin/user-fields.ts names them; its field errors come back under the same names, so
// each message lands next to its field).
import type { Request } from 'express';
import { formValue, formValues } from '../../kit';

/** The fields the form shows, by the admin API's names. */
export interface UserForm {
  givenName: string;
  familyName: string;
  email: string;
  role: string;
  notificationEmail: string;
  externalContact: string;
  priceList: string;
  permissionProfile: string;
  services: string[];
  activation: string;
  credentialsEmail: string;
}

/** The admin API's user row (GET /users/{id}). */
export interface UserRow {
  id: string;
  givenName: string | null;
  familyName: string | null;
  displayName: string | null;
  email: string | null;
  role: 'admin' | 'user';
  state: 'pending' | 'active' | 'inactive';
  primaryAdmin: boolean;
  services: string[];
  notificationEmail: string | null;
  externalContact: string | null;
  priceList: string | null;
  permissionProfile: string | null;
  credentialsEmail: string | null;
  lastSignInAt: string | null;
}

const TEXT = ['givenName', 'familyName', 'email', 'role', 'notificationEmail', 'externalContact', 'priceList', 'permissionProfile', 'activation', 'credentialsEmail'] as const;

export function typedForm(req: Request): UserForm {
  const form = { services: formValues(req, 'services') } as UserForm;
  for (const k of TEXT) form[k] = formValue(req, k).trim();
  return form;
}

export function formOfUser(u: UserRow, defaultProfile: string | undefined): UserForm {
  return {
    givenName: u.givenName ?? '',
    familyName: u.familyName ?? '',
    email: u.email ?? '',
    role: u.role,
    notificationEmail: u.notificationEmail ?? '',
    externalContact: u.externalContact ?? '',
    priceList: u.priceList ?? '',
    permissionProfile: u.permissionProfile ?? defaultProfile ?? '',
    services: u.services,
    activation: '',
    credentialsEmail: '',
  };
}

/** POST /users's body: empty optional fields are left out (the defaults apply). */
export function createBody(f: UserForm, mayChoosePriceList: boolean): Record<string, unknown> {
  const body: Record<string, unknown> = { givenName: f.givenName, familyName: f.familyName, email: f.email, role: f.role || 'user', services: f.services, activation: f.activation || 'email' };
  for (const k of ['notificationEmail', 'externalContact', 'permissionProfile'] as const) if (f[k]) body[k] = f[k];
  if (mayChoosePriceList && f.priceList) body.priceList = f.priceList;
  // The credentials address only matters when credentials are generated; it is kept on the user
  // (Provisio extension credentialsEmail) and chosen per request (docs/admin-api.md).
  if (body.activation === 'now' && f.credentialsEmail) body.credentialsEmail = f.credentialsEmail;
  return body;
}

/**
 * PATCH /users/{id}'s body: only what differs from the user as read, so an unchanged sign-in
 * email starts no email change and an unchanged price list needs no tenant-wide authority.
 * Emptied optional fields are null (removed).
 */
export function patchBody(f: UserForm, u: UserRow, o: { mayChoosePriceList: boolean; servicesShown: boolean; defaultProfile?: string }): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  const differs = (typed: string, current: string | null) => typed !== (current ?? '');
  if (differs(f.givenName, u.givenName)) body.givenName = f.givenName;
  if (differs(f.familyName, u.familyName)) body.familyName = f.familyName;
  if (f.email.toLowerCase() !== (u.email ?? '').toLowerCase()) body.email = f.email;
  if (f.role && f.role !== u.role) body.role = f.role;
  for (const k of ['notificationEmail', 'externalContact'] as const) if (differs(f[k], u[k])) body[k] = f[k] || null;
  if (o.mayChoosePriceList && differs(f.priceList, u.priceList)) body.priceList = f.priceList || null;
  const profileNow = u.permissionProfile ?? o.defaultProfile ?? '';
  if (f.permissionProfile && f.permissionProfile !== profileNow) body.permissionProfile = f.permissionProfile;
  if (o.servicesShown) {
    const a = [...new Set(f.services)].sort();
    const b = [...u.services].sort();
    if (a.join('\n') !== b.join('\n')) body.services = a;
  }
  return body;
}

/** The name a page calls a user by. */
export const nameOf = (u: Pick<UserRow, 'displayName' | 'email' | 'id'>): string => u.displayName || u.email || u.id;
