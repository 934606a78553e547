// SCIM event streams (issue 13, RFC 9967; docs/events.md, docs/console.md): the tenant's streams
// — list with state and backlog, create (poll or push, which events, full or notice), a page per
// stream with where to read it (the poll URL) or where it is sent, its last delivery and last
// error, pause and resume, delete behind a confirmation that says the events it still holds go
// with it. Streams carry every change of the tenant, so the API (admin/event-streams.ts) and this
// page are tenant-wide only. test/api/console-admin-pages.test.ts, "Event streams".
import type { Request, Response } from 'express';
import { formValue, formValues, type ConsoleKit, type ConsolePage } from '../kit';
import { confirmedDelete, fieldProblems, NOT_FOUND, refused, segment, when } from './admin-forms';

/** The provisioning events a stream may ask for (RFC 9967 §2.4), in the order the form offers them. */
const EVENTS = ['create', 'put', 'patch', 'delete', 'activate', 'deactivate'];
const FIELDS = ['name', 'delivery', 'endpointUrl', 'audience', 'events', 'form'];

interface Form {
  values: { name: string; delivery: string; endpointUrl: string; audience: string; events: string[]; form: string };
  errors: Record<string, string>;
  message?: string;
}
const blank = (): Form => ({ values: { name: '', delivery: 'poll', endpointUrl: '', audience: '', events: [...EVENTS], form: 'notice' }, errors: {} });

async function listPage(kit: ConsoleKit, req: Request, res: Response, form = blank(), status = 200) {
  const answer = await kit.api(req).get('/event-streams');
  if (!answer.ok) return refused(kit, req, res, answer);
  const lang = kit.ctx(res).lang;
  const streams = (answer.body.eventStreams as Record<string, any>[]).map((s) => ({ ...s, lastDelivered: when(s.lastDeliveredAt, lang) }));
  kit.render(req, res, 'console/event-streams/index', { title: kit.ctx(res).t('event-streams:title'), streams, events: EVENTS, form }, status);
}

async function streamPage(kit: ConsoleKit, req: Request, res: Response, id: string) {
  const answer = await kit.api(req).get(`/event-streams/${id}`);
  if (!answer.ok) return refused(kit, req, res, answer);
  const s = answer.body;
  const lang = kit.ctx(res).lang;
  kit.render(req, res, 'console/event-streams/stream', {
    title: kit.ctx(res).t('event-streams:stream.title', { name: s.name }),
    stream: { ...s, created: when(s.createdAt, lang), lastDelivered: when(s.lastDeliveredAt, lang), paused: when(s.pausedAt, lang) },
  });
}

function values(req: Request): Form['values'] {
  return {
    name: formValue(req, 'name'),
    delivery: formValue(req, 'delivery') === 'push' ? 'push' : 'poll',
    endpointUrl: formValue(req, 'endpointUrl'),
    audience: formValue(req, 'audience'),
    events: formValues(req, 'events'),
    form: formValue(req, 'form') === 'full' ? 'full' : 'notice',
  };
}

export const eventStreamsPage: ConsolePage = {
  nav: { path: '/event-streams', label: 'nav.eventStreams', order: 95, tenantWideOnly: true },
  routes(router, kit) {
    router.get(
      '/event-streams',
      kit.wrap((req, res) => listPage(kit, req, res)),
    );

    router.post(
      '/event-streams',
      kit.wrap(async (req, res) => {
        const v = values(req);
        const body: Record<string, unknown> = { name: v.name, delivery: v.delivery, events: v.events, form: v.form };
        // An endpoint typed for a poll stream is not sent: the radio button decides.
        if (v.delivery === 'push') body.endpointUrl = v.endpointUrl.trim();
        if (v.audience.trim()) body.audience = v.audience.trim();
        const answer = await kit.api(req).send('POST', '/event-streams', body);
        if (!answer.ok) {
          if (answer.status !== 400) return refused(kit, req, res, answer);
          const p = fieldProblems(kit, res, answer, FIELDS);
          return listPage(kit, req, res, { values: v, errors: p.fields, message: p.message }, 400);
        }
        kit.done(res, `/event-streams/${encodeURIComponent(String(answer.body.id))}`, 'event-streams.created');
      }),
    );

    router.get(
      '/event-streams/:id',
      kit.wrap(async (req, res) => {
        const id = segment(req.params.id);
        return id ? streamPage(kit, req, res, id) : refused(kit, req, res, NOT_FOUND);
      }),
    );

    // Pause and resume: not destructive (a paused stream keeps its events, and resuming sends them).
    router.post(
      '/event-streams/:id/state',
      kit.wrap(async (req, res) => {
        const id = segment(req.params.id);
        if (!id) return refused(kit, req, res, NOT_FOUND);
        const state = formValue(req, 'state') === 'paused' ? 'paused' : 'enabled';
        const answer = await kit.api(req).send('PATCH', `/event-streams/${id}`, { state });
        if (!answer.ok) return refused(kit, req, res, answer);
        kit.done(res, `/event-streams/${id}`, state === 'paused' ? 'event-streams.paused' : 'event-streams.resumed');
      }),
    );

    confirmedDelete(router, kit, { page: '/event-streams', api: '/event-streams', ns: 'event-streams', words: async (_api, found) => ({ name: found.name, count: found.pending }) });
  },
};
