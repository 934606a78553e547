// The console's first page: the account the person works in, and how many people it has
// (issue 11: "show only that account's data everywhere" — the counts come from the admin API,
// which scopes a sub-account admin to their sub-account's subtree).
import type { ConsolePage } from '../kit';

export const overviewPage: ConsolePage = {
  nav: { path: '', label: 'nav.overview', order: 0 },
  routes(router, kit) {
    router.get(
      '/',
      kit.wrap(async (req, res) => {
        const api = kit.api(req);
        const [all, pending] = await Promise.all([api.get('/users', { count: '1' }), api.get('/users', { count: '1', state: 'pending' })]);
        const total = (a: { ok: boolean; body: { totalResults?: number } }) => (a.ok ? (a.body.totalResults ?? 0) : 0);
        kit.render(req, res, 'console/overview', { title: kit.ctx(res).t('overview.title'), users: total(all), pending: total(pending) });
      }),
    );
  },
};
