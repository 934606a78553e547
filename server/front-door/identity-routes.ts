// The signed-in person's sign-in identities (issue 9 point 5, docs/sign-in.md "Organisation
// sign-in"): which of their tenant's SSO connections they are linked to, linking their own IdP
// account, and unlinking.
//
//   GET  /account/identities                       the page
//   POST /account/identities/:connectionId/link     → the IdP (flow mode 'link'), back to the
//                                                     OIDC callback, which links the IdP account
//                                                     when its verified email is the person's
//                                                     sign-in email (front-door/oidc-routes.ts)
//   POST /account/identities/:connectionId/unlink   → 303 back to the page
//
// A link made here is the only kind that signs in the primary admin through SSO (sso/policy.ts).
// Mounted through the front door's extraRoutes, so sessions, form parsing and CSRF apply.
// Tests: test/api/sso-policy.test.ts.
import type { NextFunction, Request, Response, Router } from 'express';
import type { Logger } from 'pino';
import { handle } from '../http/handle';
import type { IdentityLinks } from '../sso/identities';
import { IssuerError } from '../sso/oidc';
import { inTenant } from '../store/scope';
import type { Person } from '../accounts/person';
import { OidcFlowDeps, startFlow } from './oidc-routes';
import type { FrontPages } from './front-pages';

export interface IdentityRoutesDeps extends OidcFlowDeps {
  links: IdentityLinks;
  pages: FrontPages;
  /** The person if they may be signed in now (accounts/people.ts mayEnter). */
  mayEnter(tenantId: string, userId: string): Promise<Pick<Person, 'email' | 'primaryAdmin'> | undefined>;
  /** Whether the person administers an account (the console link in the navigation). */
  isAdmin(tenantId: string, userId: string): Promise<boolean>;
  logger: Logger;
}

/** The notices a redirect back to the page names (?linked=1, ?unlinked=1): front.json `identities.<key>`. */
const NOTICES = ['linked', 'unlinked'];

/** One SSO connection as the person's sign-in settings show it. */
export interface IdentityView {
  connectionId: string;
  issuer: string;
  /** 'self': linked by the person; 'first-sign-in': linked automatically; undefined: not linked. */
  linkedBy?: 'self' | 'first-sign-in';
  /** The person's email domain is one of the connection's: linking is possible. */
  canLink: boolean;
}

export function identityRoutes(d: IdentityRoutesDeps): (router: Router) => void {
  const { sso, links } = d;

  /** Signed in, allowed in, and owing nothing first (a temporary password, the privacy policy). */
  const signedIn = (req: Request, res: Response, next: NextFunction) => {
    const u = req.session?.user;
    if (!u) return res.redirect(303, '/login');
    if (req.session.mustChangePassword || req.session.mustAcceptPrivacy) return res.redirect(303, '/account');
    d.mayEnter(u.tenantId, u.userId).then((f) => {
      if (!f) return res.redirect(303, '/login');
      res.locals.person = f;
      res.locals.reader = f;
      next();
    }, next);
  };

  /** The tenant's connection for the person's domain, and every connection they are linked at. */
  const view = async (tenantId: string, userId: string, email: string | undefined): Promise<IdentityView[]> => {
    const domain = email ? email.slice(email.lastIndexOf('@') + 1) : undefined;
    const [own, linked] = await Promise.all([
      domain ? inTenant(sso.knex, tenantId, (trx) => sso.repo.connectionForDomain(trx, tenantId, domain)) : Promise.resolve(undefined),
      links.list(tenantId, userId),
    ]);
    const out: IdentityView[] = [];
    if (own) out.push({ connectionId: own.id, issuer: own.issuer, linkedBy: linked?.find((l) => l.connection_id === own.id)?.linked_by, canLink: true });
    for (const l of linked ?? []) if (l.connection_id !== own?.id) out.push({ connectionId: l.connection_id, issuer: l.issuer, linkedBy: l.linked_by, canLink: false });
    return out;
  };

  const notFound = (req: Request, res: Response) =>
    d.pages.message(req, res, { title: 'identities.navTitle', text: 'identities.notFound', link: { href: '/account/identities', text: 'links.back' } }, { status: 404, back: '/account/identities' });

  return (router) => {
    router.get(
      '/account/identities',
      signedIn,
      handle(async (req, res) => {
        const u = req.session.user!;
        const person = res.locals.person as Pick<Person, 'email' | 'primaryAdmin'>;
        const notice = NOTICES.find((k) => req.query[k] === '1');
        d.pages.render(req, res, 'identities', {
          admin: await d.isAdmin(u.tenantId, u.userId),
          primaryAdmin: person.primaryAdmin,
          identities: await view(u.tenantId, u.userId, person.email),
          notice: notice ? d.pages.t(req, res)(`front:identities.${notice}`) : undefined,
        });
      }),
    );

    router.post(
      '/account/identities/:connectionId/link',
      signedIn,
      handle(async (req, res) => {
        const u = req.session.user!;
        const person = res.locals.person as Pick<Person, 'email' | 'primaryAdmin'>;
        const conn = await sso.find(String(req.params.connectionId)).catch(() => undefined);
        const domain = person.email?.slice(person.email.lastIndexOf('@') + 1);
        if (!conn || conn.tenantId !== u.tenantId || !domain || !conn.emailDomains.includes(domain)) return notFound(req, res);
        try {
          await startFlow(d, res, conn, { mode: 'link', tenantId: u.tenantId, userId: u.userId }, person.email);
        } catch (err) {
          d.logger.warn({ connectionId: conn.id, tenantId: conn.tenantId, reason: err instanceof IssuerError ? err.message : String(err) }, 'oidc link could not start');
          d.pages.message(req, res, { title: 'identities.navTitle', text: 'identities.unreachable', link: { href: '/account/identities', text: 'links.back' } }, { status: 502, back: '/account/identities' });
        }
      }),
    );

    router.post(
      '/account/identities/:connectionId/unlink',
      signedIn,
      handle(async (req, res) => {
        const u = req.session.user!;
        const outcome = await links.unlink(u.tenantId, u.userId, String(req.params.connectionId), { type: 'user', id: u.userId, admin: false });
        if (outcome !== 'unlinked') return notFound(req, res);
        res.redirect(303, '/account/identities?unlinked=1');
      }),
    );
  };
}
