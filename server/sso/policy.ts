// What SSO connections decide beyond routing, in one place each (issue 9, docs/sso.md):
//
// - requireSso (point 8): people of a tenant whose sign-in email is in the domains of one of its
//   connections that requires SSO cannot set or use a local password. Every password path asks
//   `passwordBarred` (sign-in, forgot password, activation, change, admin reset, generated
//   credentials; accounts/ asks it through its PasswordBar). The
//   primary admin is never barred: a password stays their break-glass way in when the IdP is
//   down or misconfigured (docs/operations.md "Break-glass").
// - the primary admin and SSO (point 5): an SSO sign-in or link counts for the primary admin only
//   when they made the link themselves while signed in; a first-sign-in link is never made for
//   them, and older links count as not approved. Otherwise any admin token could create a
//   connection to an IdP it controls for the admin's domain and sign in as the primary admin.
// Tests: test/api/sso-policy.test.ts, test/unit/sso-policy.test.ts.
import type { Knex } from 'knex';
import { inTenant, Tx } from '../store/scope';
import { LinkedBy, SsoRepo } from '../store/sso-repo';


const domainOf = (email: string) => email.slice(email.lastIndexOf('@') + 1).toLowerCase();

/** Whether an existing link may sign this person in (the primary admin: only a link they made). */
export function linkHonoured(person: { primaryAdmin: boolean }, linkedBy: LinkedBy): boolean {
  return !person.primaryAdmin || linkedBy === 'self';
}

/** Whether a first SSO sign-in may link this person automatically (never the primary admin). */
export function mayLinkAtFirstSignIn(person: { primaryAdmin: boolean }): boolean {
  return !person.primaryAdmin;
}

export class SsoPolicy {
  private readonly repo: SsoRepo;

  constructor(private readonly deps: { knex: Knex; repo?: SsoRepo }) {
    this.repo = deps.repo ?? new SsoRepo();
  }

  /**
   * requireSso: true when this person may not set or use a local password. Runs in the caller's
   * transaction when given one, else in its own.
   */
  async passwordBarred(tenantId: string, person: { email?: string; primaryAdmin: boolean }, trx?: Tx, requiredDomains?: ReadonlySet<string>): Promise<boolean> {
    if (person.primaryAdmin || !person.email?.includes('@')) return false;
    const domain = domainOf(person.email);
    // The domains that require SSO, when the caller has them as of its own statement (a create:
    // store/tenant-config.ts) — the same answer as requiresSso's, without a round trip.
    if (requiredDomains) return requiredDomains.has(domain);
    return trx ? this.repo.requiresSso(trx, tenantId, domain) : inTenant(this.deps.knex, tenantId, (t) => this.repo.requiresSso(t, tenantId, domain));
  }
}
