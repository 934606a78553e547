// The console's pages, in one list (console-router.ts mounts them and builds the navigation from
// their `nav` entries, so a page not built is not offered).
import type { ConsolePage } from '../kit';
import { overviewPage } from './overview';
import { usersPage } from './users';
import { subAccountsPage } from './sub-accounts';
import { departmentsPage } from './departments';
import { companiesPage } from './companies';
import { tokensPage } from './tokens';
import { auditPage } from './audit';
import { settingsPage } from './settings';
import { priceListsPage } from './price-lists';
import { servicesPage } from './services';
import { permissionProfilesPage } from './permission-profiles';
import { ssoPage } from './sso';
import { eventStreamsPage } from './event-streams';

// The navigation is ordered by each page's nav.order, not by this list.
export const CONSOLE_PAGES: ConsolePage[] = [
  overviewPage,
  usersPage,
  subAccountsPage,
  departmentsPage,
  companiesPage,
  priceListsPage,
  servicesPage,
  permissionProfilesPage,
  ssoPage,
  tokensPage,
  eventStreamsPage,
  auditPage,
  settingsPage,
];
