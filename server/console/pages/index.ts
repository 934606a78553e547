// The console's pages, in one list (console-router.ts mounts them and builds the navigation from
// their `nav` entries, so a page not built is not offered).
import type { ConsolePage } from '../kit';
import { overviewPage } from './overview';
import { usersPage } from './users';
import { tokensPage } from './tokens';
import { auditPage } from './audit';
import { settingsPage } from './settings';
import { priceListsPage } from './price-lists';
import { servicesPage } from './services';
import { permissionProfilesPage } from './permission-profiles';
import { ssoPage } from './sso';

export const CONSOLE_PAGES: ConsolePage[] = [overviewPage, usersPage, tokensPage, auditPage, settingsPage, priceListsPage, servicesPage, permissionProfilesPage, ssoPage];
