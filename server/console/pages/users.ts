// The console's Users pages (issue 11, "Users" and "New user"; docs/console/users.md): the list
// with search, filters, paging and bulk actions, the new-user form, and one person's page. Each
// part is its own module under users/; the order of mounting matters only in that /users/new
// and /users/bulk come before /users/{id}.
import type { ConsolePage } from '../kit';
import { bulkRoutes } from './users/bulk';
import { listRoutes } from './users/list';
import { newUserRoutes } from './users/new-user';
import { personRoutes } from './users/person';

export const usersPage: ConsolePage = {
  nav: { path: '/users', label: 'nav.users', order: 10 },
  routes(router, kit) {
    listRoutes(router, kit);
    newUserRoutes(router, kit);
    bulkRoutes(router, kit);
    personRoutes(router, kit);
  },
};
