// Finishing a sign-in, whatever the way in (password, activation, reset, OIDC): one place that
// checks the person may enter, starts a fresh session (a new id, so a session id planted before
// sign-in is worthless — session fixation), and sends them where they belong.
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import type { People } from '../accounts/people';
import { needsPrivacy } from '../accounts/person';
import type { Actor } from '../resources/actor';
import type { EligibleUser, SignIn, SignInMethod } from './contracts';
import type { FrontPages } from './front-pages';
import { regenerate, startSession } from './sessions';

export class SignInService implements SignIn {
  constructor(
    private readonly deps: {
      people: People;
      clock: () => Date;
      logger: Logger;
      pages: FrontPages;
      /** An OAuth authorize request waiting for this browser's sign-in (oauth/resume.ts), if any. */
      resume?: (req: Request) => string | undefined;
    },
  ) {}

  async findEligible(tenantId: string, email: string): Promise<EligibleUser | undefined> {
    const found = await this.deps.people.findByEmail(email);
    if (!found || found.tenantId !== tenantId) return undefined;
    const f = await this.deps.people.mayEnter(tenantId, found.userId);
    return f ? { userId: f.userId, activationState: f.activationState } : undefined;
  }

  async complete(req: Request, res: Response, who: { tenantId: string; userId: string; method: SignInMethod; verifiedEmail?: string }): Promise<void> {
    const f = await this.deps.people.mayEnter(who.tenantId, who.userId);
    // Kept out (deactivated, sub-account off) after proving who they are (a password, a link,
    // their IdP): the page says why, in their language (issue 11).
    if (!f) return this.deps.pages.keptOut(req, res, await this.deps.people.keptOut(who.tenantId, who.userId));
    // Password sign-ins of pending people never reach here (People.checkPassword in
    // accounts/people.ts); a pending person arriving through their IdP finishes activation on the privacy page.
    if (who.method === 'password' && f.activationState !== 'active') return this.fail(req, res, 'cannotSignIn', 403);
    await regenerate(req);
    // People start in the account they last worked in, if they still administer it (issue 11).
    const accountId = await this.deps.people.startingAccount(who.tenantId, who.userId);
    req.session.user = { tenantId: who.tenantId, userId: who.userId, method: who.method, signedInAt: this.deps.clock().getTime(), accountId };
    req.session.mustChangePassword = who.method === 'password' && f.mustChangePassword;
    req.session.mustAcceptPrivacy = f.activationState !== 'active' || needsPrivacy(f);
    if (who.method === 'oidc' && who.verifiedEmail) req.session.loginEmail = who.verifiedEmail;
    // Only this step creates a signed-in session row (a request in flight never revives one ended).
    await startSession(req);
    await this.deps.people.recordSignIn(who.tenantId, who.userId, this.deps.clock());
    this.deps.logger.info({ tenant: who.tenantId, user: who.userId, method: who.method }, 'signed in');
    res.redirect(303, await this.landing(req));
  }

  fail(req: Request, res: Response, code: 'oidcFailed' | 'cannotSignIn', status = 401): void {
    this.deps.pages.signInFailed(req, res, code, status);
  }

  /** Where a signed-in person goes next: what they still owe first, then console or account. */
  async landing(req: Request): Promise<string> {
    const s = req.session;
    if (!s.user) return '/login';
    if (s.mustChangePassword) return '/account/password';
    if (s.mustAcceptPrivacy) return '/accept-privacy';
    // Signed in on the way to an OAuth consent (Okta's admin sent here): back to it; it checks
    // the person's authority itself.
    const resume = this.deps.resume?.(req);
    if (resume) return resume;
    const accounts = await this.deps.people.accounts(s.user.tenantId, s.user.userId);
    return accounts.some((a) => a.admin) ? '/console' : '/account';
  }

  /**
   * Who a signed-in person is on the admin API (the console): the tenant's admin is tenant-wide;
   * a sub-account admin acts for the sub-account they work in (POST /account/switch), bound to
   * its subtree exactly like a token bound to it. 'forbidden' when that account is not theirs to
   * administer; undefined without a session. test/api/front-door.test.ts
   */
  async adminActor(req: Request): Promise<{ tenantId: string; actor: Actor } | 'forbidden' | undefined> {
    const u = req.session?.user;
    if (!u || req.session.mustChangePassword || req.session.mustAcceptPrivacy) return undefined;
    if (!(await this.deps.people.mayEnter(u.tenantId, u.userId))) return undefined;
    const current = u.accountId ?? u.tenantId;
    const account = (await this.deps.people.accounts(u.tenantId, u.userId)).find((a) => a.id === current);
    if (!account?.admin) return 'forbidden';
    return { tenantId: u.tenantId, actor: { type: 'user', id: u.userId, subAccountId: account.kind === 'subAccount' ? account.id : undefined, admin: true } };
  }
}
