// Reading people, and whether they may enter: the one place the account half reads a person
// (user, credentials and tenant in one query), finds the person behind a sign-in email, checks a
// password, and lists the accounts a person works in. Every sign-in path asks mayEnter, so the
// same rules hold for a password, a link, an IdP and every signed-in page: the user is active and
// not kept out by deactivated sub-accounts.
import type { Knex } from 'knex';
import * as accounts from '../store/accounts-repo';
import { saveCredentials } from '../store/credentials-repo';
import { serviceNamesOf } from '../store/assignments-repo';
import { activeSubAccountsOf } from '../store/authority-repo';
import { asOwner, Db, inTenant } from '../store/scope';
import * as tenancy from '../store/tenancy-repo';
import { dummyHash, verifyPassword } from './passwords';
import { PasswordBar, Person, toPerson } from './person';

export interface Account {
  id: string;
  name: string;
  kind: 'tenant' | 'subAccount';
  admin: boolean;
}

export interface PeopleDeps {
  knex: Knex;
  /** The privacy policy version of tenants that set none (PRIVACY_POLICY_VERSION). */
  privacyPolicyVersion: string;
  /** Who may not use a password: their organisation signs them in (requireSso). */
  passwords: PasswordBar;
}

export class People {
  private dummy?: Promise<string>;

  constructor(private readonly deps: PeopleDeps) {}

  get knex(): Knex {
    return this.deps.knex;
  }

  /** The person, in the caller's tenant transaction. */
  async read(trx: Db, tenantId: string, userId: string): Promise<Person | undefined> {
    const row = await accounts.person(trx, tenantId, userId);
    return row ? toPerson(tenantId, row, this.deps.privacyPolicyVersion) : undefined;
  }

  async user(tenantId: string, userId: string): Promise<Person | undefined> {
    return inTenant(this.deps.knex, tenantId, (trx) => this.read(trx, tenantId, userId));
  }

  /** The person behind a sign-in email, across tenants (sign-in emails are unique across tenants). */
  async findByEmail(email: string): Promise<{ tenantId: string; userId: string } | undefined> {
    const e = email.trim().toLowerCase();
    if (!e.includes('@') || e.length > 320) return undefined;
    return asOwner(this.deps.knex, (trx) => accounts.findBySignInEmail(trx, e));
  }

  /** Which of these ids are users of the tenant, and whether each is the primary admin. */
  async primaryAdminFlags(trx: Db, tenantId: string, ids: string[]): Promise<Map<string, boolean>> {
    return accounts.primaryAdminFlags(trx, tenantId, ids);
  }

  /** requireSso: whether this person may not set or use a local password (the primary admin never is). */
  passwordBarred(p: Person, trx?: Db): Promise<boolean> {
    return this.deps.passwords.passwordBarred(p.tenantId, p, trx);
  }

  /** Whether this person may be signed in now: active, not kept out by deactivated sub-accounts. */
  async mayEnter(tenantId: string, userId: string): Promise<Person | undefined> {
    return inTenant(this.deps.knex, tenantId, async (trx) => {
      const p = await this.read(trx, tenantId, userId);
      if (!p || !p.active) return undefined;
      if (await tenancy.blockedBySubAccounts(trx, tenantId, userId)) return undefined;
      return p;
    });
  }

  /**
   * Why a signed-in person may no longer enter (mayEnter said no): their account was deactivated,
   * the sub-account they belong to was switched off, or it is gone. The front door tells them so
   * in their language rather than sending them silently back to /login (issue 11).
   */
  async keptOut(tenantId: string, userId: string): Promise<KeptOut | undefined> {
    return inTenant(this.deps.knex, tenantId, async (trx) => {
      const p = await this.read(trx, tenantId, userId);
      if (!p) return { reason: 'gone' };
      if (!p.active) return { reason: 'inactive', person: p };
      if (await tenancy.blockedBySubAccounts(trx, tenantId, userId)) return { reason: 'subAccountOff', person: p };
      return undefined;
    });
  }

  /**
   * Local sign-in: the person if the password is right and the account may sign in with it.
   * Always spends one Argon2 verification, so a missing account answers as slowly as a wrong
   * password. The reason is for the log only; the page says the same thing in every case.
   */
  async checkPassword(email: string, password: string): Promise<{ ok: true; user: Person } | { ok: false; reason: string; kept?: KeptOut }> {
    const found = await this.findByEmail(email);
    const p = found ? await this.user(found.tenantId, found.userId) : undefined;
    const stored = p?.passwordHash;
    const good = await verifyPassword(stored ?? (await (this.dummy ??= dummyHash())), password);
    if (!p) return { ok: false, reason: 'no such account' };
    if (!stored) return { ok: false, reason: 'no password set' };
    if (!good) return { ok: false, reason: 'wrong password' };
    if (p.activationState !== 'active') return { ok: false, reason: 'pending activation' };
    // From here on the password was right: the page may say why this person is kept out (issue
    // 11), since whoever reads it proved they know the password (test/api/front-door.test.ts).
    if (await this.passwordBarred(p)) return { ok: false, reason: 'SSO is required for this email domain', kept: { reason: 'ssoRequired', person: p } };
    // A userName changed to a new address signs in with a password only once that address is
    // proven (verify-email link); until then the old proof does not carry over. test/api/front-door.test.ts
    if (p.verifiedEmail !== p.email) return { ok: false, reason: 'email not verified' };
    const may = await this.mayEnter(p.tenantId, p.userId);
    if (!may) return { ok: false, reason: p.active ? 'blocked by deactivated sub-accounts' : 'inactive', kept: { reason: p.active ? 'subAccountOff' : 'inactive', person: p } };
    return { ok: true, user: may };
  }

  /**
   * The accounts a person works in: the tenant, and each sub-account they belong to that is
   * active with every sub-account above it. Admin of the tenant: a tenant admin (role `admin`,
   * the primary admin included); of a sub-account: listed in its admins. A sub-account switched off, itself or through a parent,
   * is no longer theirs to administer (issue 9, point 3).
   */
  async accounts(tenantId: string, userId: string): Promise<Account[]> {
    return inTenant(this.deps.knex, tenantId, (trx) => this.accountsIn(trx, tenantId, userId));
  }

  private async accountsIn(trx: Db, tenantId: string, userId: string): Promise<Account[]> {
    const t = await accounts.tenantOfPerson(trx, tenantId, userId);
    if (!t) return [];
    const subs = await activeSubAccountsOf(trx, tenantId, userId);
    return [{ id: tenantId, name: t.name, kind: 'tenant' as const, admin: t.tenantAdmin }, ...subs.map((s) => ({ id: s.id, name: s.name, admin: s.admin, kind: 'subAccount' as const }))];
  }

  /** How many users and groups the tenant has (the console's landing page). */
  async tenantCounts(tenantId: string): Promise<{ users: number; groups: number }> {
    return inTenant(this.deps.knex, tenantId, (trx) => accounts.tenantCounts(trx, tenantId));
  }

  /** Records a sign-in, whatever the way in (the users list shows it). */
  async recordSignIn(tenantId: string, userId: string, at: Date): Promise<void> {
    await inTenant(this.deps.knex, tenantId, (trx) => saveCredentials(trx, tenantId, userId, { last_sign_in_at: at }, at));
  }

  /** Remembers the account the person works in (undefined: the tenant), where their next sign-in lands. */
  async rememberAccount(tenantId: string, userId: string, accountId: string | undefined): Promise<void> {
    const now = new Date();
    await inTenant(this.deps.knex, tenantId, (trx) => saveCredentials(trx, tenantId, userId, { last_account_id: accountId ?? null }, now));
  }

  /**
   * The account a signed-in person starts in (issue 11): the one they last worked in while it is
   * still theirs to administer, else the first account they administer, else the tenant.
   */
  async startingAccount(tenantId: string, userId: string): Promise<string | undefined> {
    return inTenant(this.deps.knex, tenantId, async (trx) => {
      const mine = await this.accountsIn(trx, tenantId, userId);
      const last = await accounts.lastAccount(trx, tenantId, userId);
      const chosen = mine.find((a) => a.admin && a.id === last) ?? mine.find((a) => a.admin);
      return chosen && chosen.kind === 'subAccount' ? chosen.id : undefined;
    });
  }

  /** When each of these people last signed in. */
  async lastSignIns(tenantId: string, userIds: string[]): Promise<Map<string, Date>> {
    return inTenant(this.deps.knex, tenantId, (trx) => accounts.lastSignIns(trx, tenantId, userIds));
  }

  /** The names of the services assigned to the person (their `entitlements`), for the account page (issue 10). */
  async services(tenantId: string, userId: string): Promise<string[]> {
    return inTenant(this.deps.knex, tenantId, (trx) => serviceNamesOf(trx, tenantId, userId));
  }
}

/** Why a person who proved who they are may not enter, and who they are (for their language and tenant). */
export interface KeptOut {
  reason: 'inactive' | 'subAccountOff' | 'ssoRequired' | 'gone';
  person?: Person;
}
