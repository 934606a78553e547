// The console's pages, in one list (console-router.ts mounts them and builds the navigation from
// their `nav` entries, so a page not built is not offered).
import type { ConsolePage } from '../kit';
import { overviewPage } from './overview';
import { departmentsPage } from './departments';
import { subAccountsPage } from './sub-accounts';
import { companiesPage } from './companies';

export const CONSOLE_PAGES: ConsolePage[] = [overviewPage, subAccountsPage, departmentsPage, companiesPage];
