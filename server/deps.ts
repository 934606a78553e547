// The composition root: the only place that constructs the database, repositories, services and
// the clock. Nothing else in the server holds module-level state.
import path from 'node:path';
import { CONSOLE_PAGES } from './console/pages';
import type { ConsolePage } from './console/kit';
import { AdminClient } from './console/admin-client';
import { ApiDescriptions, ApiSection } from './openapi/describe';
import { createValidator } from './openapi/validator';
import { loadTranslations, Translator } from './web/i18n';
import { projectRoot } from './web/project-root';
import { Views } from './web/views';
import { AssignableValues } from './resources/assignable-values';
import { SERVICE_TYPE } from './resources/assignments';
import type { Logger } from 'pino';
import type { Router } from 'express';
import { Config } from './config';
import { loadCatalog, Catalog } from './resources/catalog';
import { ResourceService } from './resources/service';
import { BulkService } from './resources/bulk';
import { Capabilities } from './scim/discovery';
import { PagingLimits } from './scim/list-query';
import { ProjectionCache } from './scim/projection';
import { TenantReads } from './store/scope';
import { openDatabase, Database } from './store/db';
import { MembersRepo } from './store/members-repo';
import { AuditRepo } from './store/audit-repo';
import { auditRoutes } from './admin/audit';
import { settingsRoutes } from './admin/settings';
import { permissionsRoutes } from './admin/permissions';
import { purgeSubAccounts } from './jobs/purge';
import { TenantsRepo, TokensRepo } from './store/tenants-repo';
import { Authenticator } from './tenancy/authenticator';
import { TenantService } from './tenancy/tenant-service';
import { scimBaseUrl } from './http/scim-router';
import { PriceListsRepo } from './store/price-lists-repo';
import { priceListRoutes } from './admin/price-lists';
import { ServicesRepo } from './store/services-repo';
import { serviceRoutes } from './admin/services';
import { PermissionProfilesRepo } from './store/permission-profiles-repo';
import { permissionProfileRoutes } from './admin/permission-profiles';
import { Assignments } from './accounts/assignments';
import { tokenRoutes } from './admin/tokens';
import { loadServerKeys, ServerKeys } from './security/keys';
import { OidcConnections } from './sso/oidc';
import { ssoConnectionRoutes } from './admin/sso-connections';
import { identityAdminRoutes } from './admin/identities';
import { FlowSeal } from './sso/flow-state';
import { IdentityLinks } from './sso/identities';
import { dnsResolver, NameResolver } from './sso/network';
import { SsoPolicy } from './sso/policy';
import { SsoRepo } from './store/sso-repo';
import { Outbox } from './mail/outbox';
import { MailWorker } from './mail/worker';
import { createMailTransport, MailTransport } from './mail/transport';
import { AccountMail } from './accounts/account-mail';
import { AdminAccess } from './accounts/admin-access';
import { PasswordPolicy } from './accounts/passwords';
import { People } from './accounts/people';
import { SelfService } from './accounts/self-service';
import { AccountHooks } from './accounts/write-hooks';
import { SignInLimiter } from './front-door/rate-limit';
import { DeviceCookies } from './front-door/device-cookie';
import { DbSessionStore } from './front-door/session-store';
import { sessionStack, SessionStack } from './front-door/sessions';
import { SignInService } from './front-door/sign-in';
import { FrontPages } from './front-door/front-pages';
import { accessRoutes } from './admin/access';
import { userRoutes } from './admin/users';
import { subAccountRoutes } from './admin/sub-accounts';
import { companyRoutes } from './admin/companies';
import { managerRoutes } from './admin/managers';
import { changesWhoIsEmpowered } from './resources/authority';
import type { ResourceRow } from './store/resource-repo';
import { AfterResponse, BackgroundWork } from './http/after-response';
import { SigningKeys } from './oauth/signing-keys';
import { ScimClients } from './oauth/clients';
import { ExternalIssuers } from './oauth/external';
import { ClientAuthLimiter } from './oauth/client-limit';
import { otherCredentials, scimClientRoutes } from './admin/scim-clients';
import { oauthGrantRoutes } from './admin/oauth-grants';
import { OAuthGrants } from './oauth/grants';
import { AuthorizeResume } from './oauth/resume';
import { scimIssuerRoutes } from './admin/scim-issuer';
import { Metrics } from './metrics/metrics';
import { poolStats } from './store/db';
import { EVENT_FORMS, eventUri, PROVISIONING_EVENTS } from './events/catalog';
import { EventProducer } from './events/producer';
import { TenantConfigCache } from './store/tenant-config';
import { EventPoll } from './events/poll';
import { PushWorker } from './events/push-worker';
import { eventStreamRoutes } from './admin/event-streams';

export interface Deps {
  config: Config;
  logger: Logger;
  db: Database;
  clock: () => Date;
  /** Keys derived from the master key (security/keys.ts). */
  keys: ServerKeys;
  catalog: Catalog;
  service: ResourceService;
  bulk: BulkService;
  /** /Roles and /Entitlements: what a tenant accepts in roles and entitlements. */
  assignable: AssignableValues;
  authenticator: Authenticator;
  tenants: TenantService;
  limits: PagingLimits;
  /** Feature routes of the admin API (/api/v1), mounted after its authentication; each describes its routes (openapi/describe.ts). */
  adminRoutes: ((router: Router, api: ApiSection) => void)[];
  /** The route descriptions of the admin and operator APIs: body validation and GET /api/v1/openapi.json (openapi/). */
  api: ApiDescriptions;
  capabilities: Capabilities;
  /** SSO connections to tenants' OIDC IdPs (sso/oidc.ts): discovery cache, authorization requests. */
  sso: OidcConnections;
  /** People's links to IdP accounts, every change audited (sso/identities.ts). */
  ssoLinks: IdentityLinks;
  /** Seals an OIDC sign-in's state into its cookie (sso/flow-state.ts). */
  ssoFlows: FlowSeal;
  /** The DNS the server asks (DNS_SERVERS): domain proofs and IdP host names. */
  resolver: NameResolver;
  /** Scheduled work (main.ts runs it on a timer; tests call it with their own clock). */
  jobs: { purgeSubAccounts(now?: Date): ReturnType<typeof purgeSubAccounts>; maintainSigningKeys(): ReturnType<SigningKeys['maintain']> };
  /** Email (docs/emails.md): enqueue in a tenant transaction; main.ts starts the worker, tests call runOnce. */
  mail: { outbox: Outbox; worker: MailWorker; transport: MailTransport };
  /** The account half (accounts/, docs/architecture.md): reading people, self-service, admin access. */
  accounts: { people: People; self: SelfService; admin: AdminAccess; passwords: PasswordPolicy; assignments: Assignments };
  /** Sign-in pages and sessions (front-door/, docs/sign-in.md). */
  frontDoor: { pages: FrontPages; signIn: SignInService; sessions: DbSessionStore; stack: SessionStack; limiter: SignInLimiter; devices: DeviceCookies };
  /** Work done after a request was answered (forgot-password's lookup and email, http/after-response.ts). */
  later: AfterResponse;
  /** OAuth for SCIM (oauth/): the signing keys, SCIM clients, the external issuers, the token endpoint's limit. */
  oauth: { keys: SigningKeys; clients: ScimClients; grants: OAuthGrants; resume: AuthorizeResume; issuers: ExternalIssuers; limiter: ClientAuthLimiter };
  /** SCIM events (events/, docs/events.md): production hooked into the resource service, poll and push delivery. */
  events: { producer: EventProducer; poll: EventPoll; push: PushWorker };
  /** This instance's Prometheus registry and counters (metrics/metrics.ts). */
  metrics: Metrics;
  /** Server-rendered pages: templates and the words in French and English (web/). */
  web: { views: Views; i18n: Translator; root: string };
  /** The console's pages (console/pages/index.ts), and its client of the admin API (app.ts attaches the router). */
  consolePages: ConsolePage[];
  consoleAdmin: AdminClient;
  close(): Promise<void>;
}

export interface DepsOverrides {
  /** Use this database instead of opening one from the config (tests). */
  db?: Database;
  clock?: () => Date;
  /** Skip migrations (the caller ran them). */
  skipMigrations?: boolean;
  /** Runs work after the answer (tests hold it to prove what happens before and after). */
  later?: AfterResponse;
}

export const PAGING: PagingLimits = { defaultPageSize: 100, maxPageSize: 1000 };
export const CURSOR_TIMEOUT_SECONDS = 3600;
export const BULK_MAX_OPERATIONS = 1000;

export async function createDeps(config: Config, logger: Logger, over: DepsOverrides = {}): Promise<Deps> {
  const db =
    over.db ??
    (await openDatabase({
      databaseUrl: config.databaseUrl,
      pooler: config.databasePooler,
      dataDir: config.dataDir,
      poolSize: config.dbPoolSize,
      logger,
    }));
  if (!over.skipMigrations) {
    const ran = await db.migrate();
    if (ran.length) logger.info({ migrations: ran }, 'migrations applied');
  }
  const clock = over.clock ?? (() => new Date());
  const later = over.later ?? new BackgroundWork(logger);
  const keys = await loadServerKeys(db.knex, config.secretKey, logger);
  const mailTransport = createMailTransport(config, logger);
  const mail = {
    outbox: new Outbox({ box: keys.box, clock }),
    worker: new MailWorker({ knex: db.knex, box: keys.box, transport: mailTransport, clock, logger, from: config.mailFrom }),
    transport: mailTransport,
  };
  const catalog = loadCatalog();
  const resolver = dnsResolver(config.dnsServers);
  const ssoRepo = new SsoRepo();
  const sso = new OidcConnections({
    knex: db.knex,
    box: keys.box,
    clock,
    logger,
    publicUrl: config.publicUrl,
    resolver,
    allowInsecure: config.ssoAllowInsecureIssuers,
    allowPrivate: config.ssoAllowPrivateIssuers,
    repo: ssoRepo,
  });
  const members = new MembersRepo();
  const audit = new AuditRepo();
  const passwords = new PasswordPolicy();
  // requireSso (sso/policy.ts): the one rule every password path of the account half asks.
  const ssoPolicy = new SsoPolicy({ knex: db.knex, repo: ssoRepo });
  const people = new People({ knex: db.knex, privacyPolicyVersion: config.privacyPolicyVersion, passwords: ssoPolicy });
  const accountMail = new AccountMail({ mail: mail.outbox, publicUrl: config.publicUrl, activationLinkDays: config.activationLinkDays });
  // User writes on every path (SCIM, Bulk, tenant creation, admin API) send activation mail and
  // end sessions in their own transaction (accounts/write-hooks.ts).
  // What a create reads about its tenant, per instance, trusted only for the version the create's
  // INSERT returns (store/tenant-config.ts): no staleness, on every instance.
  const tenantConfig = new TenantConfigCache();
  catalog.users.hooks.push(new AccountHooks({ clock, logger, mail: accountMail, passwords, users: catalog.users.repo, bar: ssoPolicy, audit, tenantConfig }));
  // SCIM events (issue 13): every write of the resource service, and the account half's
  // own writes (self-activation), enqueue their events in their own transaction (events/producer.ts).
  const producer: EventProducer = new EventProducer({
    publicUrl: config.publicUrl,
    clock,
    tenantConfig,
    read: async (trx, tenantId, kindName, id) => {
      const kind = catalog.kinds.find((k) => k.name === kindName)!;
      const row = await kind.repo.get(trx, tenantId, id, false);
      if (!row) return undefined;
      const scope = { tenantId, baseUrl: scimBaseUrl(config.publicUrl, tenantId), actor: { type: 'system' as const, id: 'events', admin: true } };
      return { row, kind, data: async () => (await service.represent(trx, scope, kind, [row], {}, kind.membership === 'members'))[0] };
    },
  });
  const accounts = {
    people,
    self: new SelfService({ people, mail: accountMail, audit, passwords, users: catalog.users.repo, clock, logger, events: producer }),
    admin: new AdminAccess({ people, mail: accountMail, audit, passwords, clock }),
    passwords,
    // A person's permission profile and services (issue 10), over the operator's catalogue.
    assignments: new Assignments({ knex: db.knex, permissions: config.permissions }),
  };
  // Identity links and unlinks, each audited; a new link sends the person a security notice.
  const ssoLinks = new IdentityLinks({ knex: db.knex, repo: ssoRepo, audit, clock, onLinked: (trx, link, at) => accounts.self.identityLinked(trx, link, at) });
  const sessions = new DbSessionStore({ knex: db.knex, clock, idleMs: config.sessionIdleMinutes * 60_000 });
  const stack = sessionStack({
    store: sessions,
    cookieSecret: keys.cookieSecret,
    csrfSecret: keys.csrfSecret,
    secure: config.publicUrl.startsWith('https:'),
    idleMs: config.sessionIdleMinutes * 60_000,
    absoluteMs: config.sessionAbsoluteHours * 3_600_000,
    clock,
    logger,
  });
  // Pages (issue 11): templates and message files read once at start from the project's views/
  // and locales/ directories.
  const root = projectRoot();
  const i18n = loadTranslations(path.join(root, 'locales'));
  const web = { root, i18n, views: new Views({ dir: path.join(root, 'views'), i18n, cache: true }) };
  const frontPages = new FrontPages({ views: web.views, i18n, csrfToken: stack.csrfToken, privacyPolicyUrl: config.privacyPolicyUrl, privacyPolicyVersion: config.privacyPolicyVersion });
  // An OAuth authorize request waiting for its person's sign-in (oauth/resume.ts).
  const authorizeResume = new AuthorizeResume(keys.box, clock, config.publicUrl.startsWith('https:'));
  const signIn = new SignInService({ people, clock, logger, pages: frontPages, resume: (req) => authorizeResume.pending(req) });
  // Transaction-free reads of one tenant (store/scope.ts), shared by the SCIM reads and the
  // permissions answer.
  const tenantReads = new TenantReads(db.knex);
  const service = new ResourceService({ knex: db.knex, members, audit, clock, cursorTimeoutSeconds: CURSOR_TIMEOUT_SECONDS, events: producer, references: catalog.references, projections: new ProjectionCache(), reads: tenantReads });
  const tokens = new TokensRepo();
  // OAuth for SCIM (issue 13): our signing keys, SCIM clients' access tokens, and the external
  // issuer a tenant may trust; the authenticator hands them every JWT-shaped bearer token.
  const signingKeys = new SigningKeys({ knex: db.knex, box: keys.box, clock, logger, rotationDays: config.oauthKeyRotationDays });
  const tenantScimUrl = (id: string) => scimBaseUrl(config.publicUrl, id);
  const clients = new ScimClients({ knex: db.knex, keys: signingKeys, clock, logger, publicUrl: config.publicUrl, scimBaseUrl: tenantScimUrl });
  // The authorization code grant of SCIM clients (Okta's OAuth 2 option; oauth/grants.ts).
  const grants = new OAuthGrants({ knex: db.knex, clients, clock, logger, audit });
  const egress = { resolver, allowInsecure: config.ssoAllowInsecureIssuers, allowPrivate: config.ssoAllowPrivateIssuers };
  const issuers = new ExternalIssuers({ knex: db.knex, clock, logger, egress, cooldownMs: config.scimJwksCooldownSeconds * 1000 });
  // SETs are signed with the same keys as our access tokens, published at /.well-known/jwks.json;
  // push endpoints keep to the same outbound rules as issuers (sso/network.ts).
  const events = {
    producer,
    poll: new EventPoll({ knex: db.knex, signer: signingKeys, clock, logger, longPollMs: config.eventsLongPollSeconds * 1000 }),
    push: new PushWorker({ knex: db.knex, signer: signingKeys, egress, clock, logger, pauseAfter: config.eventsPauseAfterFailures }),
  };
  const authenticator = new Authenticator(db.knex, tokens, clock, undefined, undefined, { clients, issuers, scimBaseUrl: tenantScimUrl });
  const metrics = new Metrics({
    pool: () => poolStats(db.knex),
    outbox: () => mail.outbox.backlog(db.knex, clock()),
    events: () => events.push.backlog(),
    // The read-only value lists count too (resources/assignable-values.ts).
    scimEndpoints: { ...Object.fromEntries(catalog.kinds.map((k) => [k.endpoint, k.name])), Roles: 'Role', Entitlements: 'Entitlement' },
  });
  // Token lookups are cached: a write that can take a token's power away forgets them at once.
  const forgetTokens = { committed: (_scope: unknown, before?: ResourceRow, after?: ResourceRow) => changesWhoIsEmpowered(before, after) && authenticator.forget() };
  for (const kind of catalog.kinds) kind.hooks.push(forgetTokens);
  const tenants = new TenantService({
    knex: db.knex,
    tenants: new TenantsRepo(),
    tokens,
    service,
    catalog,
    scimBaseUrl: (id) => scimBaseUrl(config.publicUrl, id),
  });
  // What /ServiceProviderConfig advertises; each flag is true only when the server does it.
  const capabilities: Capabilities = {
    patch: true,
    // Bulk bodies share the body limit, so a larger one is refused with 413 before it is parsed.
    bulk: { supported: true, maxOperations: BULK_MAX_OPERATIONS, maxPayloadSize: config.maxBodyBytes },
    filterMaxResults: PAGING.maxPageSize,
    changePassword: false,
    sort: true,
    etag: true,
    pagination: {
      cursor: true,
      index: true,
      defaultPaginationMethod: 'index',
      defaultPageSize: PAGING.defaultPageSize,
      maxPageSize: PAGING.maxPageSize,
      cursorTimeout: CURSOR_TIMEOUT_SECONDS,
    },
    // /Roles and /Entitlements (resources/assignable-values.ts). A person has one role (admin when
    // any value is admin: resources/roles.ts), Entra's "primary" is accepted and kept, a role's
    // "type" is kept but means nothing; entitlements are services, any number, typed "service".
    rolesAndEntitlements: {
      roles: { supported: true, multipleRolesSupported: false, primarySupported: true, typeSupported: false },
      entitlements: { supported: true, multipleEntitlementsSupported: true, primarySupported: false, typeSupported: true, types: [SERVICE_TYPE] },
    },
    // RFC 9967 §4: every provisioning event a tenant's stream can ask for (admin/event-streams.ts).
    securityEvents: { asyncRequest: 'none', eventUris: [...new Set(PROVISIONING_EVENTS.flatMap((e) => EVENT_FORMS.map((f) => eventUri(e, f))))] },
    // /Agents and /AgenticApplications (draft-abbey-scim-agent-extension-00), true when the catalogue serves them.
    agentExtension: {
      supported: catalog.kinds.some((k) => k.name === 'Agent' || k.name === 'AgenticApplication'),
      agentsSupported: catalog.kinds.some((k) => k.name === 'Agent'),
      agenticApplicationsSupported: catalog.kinds.some((k) => k.name === 'AgenticApplication'),
    },
  };
  const consoleAdmin = new AdminClient();
  // The one JSON Schema validator (JSON Schema 2020-12, the dialect of OpenAPI 3.1): every body
  // schema of the admin and operator APIs is compiled by it once, as the routes are described.
  const ajv = createValidator();

  return {
    config,
    logger,
    db,
    clock,
    keys,
    catalog,
    service,
    bulk: new BulkService(service, catalog.kinds),
    assignable: new AssignableValues({
      knex: db.knex,
      services: new ServicesRepo(),
      roleSchema: catalog.roles,
      entitlementSchema: catalog.entitlements,
      clock,
      cursorTimeoutSeconds: CURSOR_TIMEOUT_SECONDS,
    }),
    authenticator,
    tenants,
    limits: PAGING,
    // Admin API features (issue 4): price lists, API tokens.
    api: new ApiDescriptions(ajv),
    adminRoutes: [
      priceListRoutes({ knex: db.knex, priceLists: new PriceListsRepo(), clock, audit, events: producer }),
      serviceRoutes({ knex: db.knex, services: new ServicesRepo(), clock, audit, events: producer }),
      permissionProfileRoutes({ knex: db.knex, profiles: new PermissionProfilesRepo(), permissions: config.permissions, clock, audit, events: producer }),
      tokenRoutes({ knex: db.knex, tokens, authenticator, clock, audit, others: (req) => otherCredentials(db.knex, req, config.publicUrl) }),
      // Redirect URIs of code clients: plain http to loopback only under the SSO issuers' development setting.
      scimClientRoutes({ knex: db.knex, clients, clock, publicUrl: config.publicUrl, audit, allowInsecureRedirects: config.ssoAllowInsecureIssuers }),
      oauthGrantRoutes({ knex: db.knex, grants }),
      scimIssuerRoutes({ knex: db.knex, issuers, egress, clock, logger, audit }),
      eventStreamRoutes({ knex: db.knex, egress, publicUrl: config.publicUrl, clock, logger, audit }),
      auditRoutes({ knex: db.knex, audit }),
      settingsRoutes({ knex: db.knex, audit, clock }),
      permissionsRoutes({ knex: db.knex, reads: tenantReads, assignments: accounts.assignments }),
      ssoConnectionRoutes({ knex: db.knex, sso, clock, audit, links: ssoLinks, resolver, logger }),
      accessRoutes({ admin: accounts.admin }),
      userRoutes({ service, users: catalog.users, people, admin: accounts.admin, passwords }),
      identityAdminRoutes({ links: ssoLinks }),
      subAccountRoutes({ knex: db.knex, service, groups: catalog.groups }),
      companyRoutes({ service, groups: catalog.groups }),
      managerRoutes({ service, users: catalog.users, groups: catalog.groups, passwords }),
    ],
    capabilities,
    sso,
    ssoLinks,
    ssoFlows: new FlowSeal(keys.box, clock),
    resolver,
    jobs: {
      // The purge deletes outside the resource service; the service drops what referred to the deleted (an agent's owners).
      purgeSubAccounts: (now = clock()) =>
        purgeSubAccounts(db.knex, audit, now, logger, producer, (trx, tenantId, typeName, ids) =>
          service.referencesGone(trx, { tenantId, baseUrl: scimBaseUrl(config.publicUrl, tenantId), actor: { type: 'system', id: 'purge', admin: true } }, typeName, ids),
        ),
      maintainSigningKeys: () => signingKeys.maintain(),
    },
    mail,
    accounts,
    frontDoor: {
      pages: frontPages,
      signIn,
      sessions,
      stack,
      limiter: new SignInLimiter(db.knex, undefined, (limit) => metrics.rateLimited(limit)),
      devices: new DeviceCookies({ secret: keys.deviceSecret, secure: config.publicUrl.startsWith('https:'), clock }),
    },
    later,
    oauth: { keys: signingKeys, clients, grants, resume: authorizeResume, issuers, limiter: new ClientAuthLimiter(db.knex) },
    events,
    metrics,
    web,
    consolePages: CONSOLE_PAGES,
    consoleAdmin,
    close: async () => {
      await consoleAdmin.close();
      // Work after answers (a reset email being queued) finishes before the pool closes.
      await later.idle();
      await mail.worker.stop();
      await events.push.stop();
      await mail.transport.close?.();
      if (!over.db) await db.close();
    },
  };
}
