// Poll delivery (RFC 8936): a receiver POSTs to its stream's poll URL with
//   {"ack": [jti…], "setErrs": {jti: {"err", "description"}}, "maxEvents": n, "returnImmediately": bool}
// and gets {"sets": {jti: "<signed SET>"}, "moreAvailable": bool}.
//
// - ack and setErrs are handled first: those events leave the stream and are never handed out
//   again (an event the receiver could not process is reported, not retried: RFC 8936 §2.4.3).
// - Then up to maxEvents of the stream's events, oldest first. An event handed out but not
//   acknowledged comes back in the next poll (at least once); a receiver dedupes on jti, which
//   stays the same on every redelivery.
// - maxEvents 0 acknowledges only (§2.4.1). Without returnImmediately the request is a long poll:
//   it waits up to longPollMs for an event to arrive (checked every intervalMs, each check a short
//   transaction of its own, so a waiting receiver never holds a connection).
// test/api/events.test.ts, "polling".
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { invalidValue, notFound } from '../errors';
import { isUuid } from '../scim/members';
import { isObject } from '../scim/normalize';
import * as repo from '../store/events-repo';
import { inTenant } from '../store/scope';
import { SET_TYP } from './catalog';

export interface PollRequest {
  ack: string[];
  setErrs: Record<string, { err: string; description?: string }>;
  maxEvents: number;
  returnImmediately: boolean;
}

export interface PollAnswer {
  sets: Record<string, string>;
  moreAvailable: boolean;
}

/** The most SETs one poll answer carries (a larger maxEvents is served this many). */
export const MAX_EVENTS_PER_POLL = 1000;
const DEFAULT_MAX_EVENTS = 100;
const MAX_ACKS = 10_000;

export interface Signer {
  sign(payload: Record<string, unknown>, typ: string): Promise<string>;
}

/** Validates a poll request body (RFC 8936 §2.4); every member is optional. */
export function parsePollRequest(body: unknown): PollRequest {
  if (body === undefined || body === null || (isObject(body) && !Object.keys(body).length)) body = {};
  if (!isObject(body)) throw invalidValue('The body must be a JSON object: {"ack"?, "setErrs"?, "maxEvents"?, "returnImmediately"?}');
  const b = body as Record<string, unknown>;
  let maxEvents = DEFAULT_MAX_EVENTS;
  if (b.maxEvents !== undefined) {
    if (typeof b.maxEvents !== 'number' || !Number.isInteger(b.maxEvents) || b.maxEvents < 0) throw invalidValue('maxEvents must be a whole number, 0 or more');
    maxEvents = Math.min(b.maxEvents, MAX_EVENTS_PER_POLL);
  }
  if (b.returnImmediately !== undefined && typeof b.returnImmediately !== 'boolean') throw invalidValue('returnImmediately must be true or false');
  const ack: string[] = [];
  if (b.ack !== undefined) {
    if (!Array.isArray(b.ack) || b.ack.some((j) => typeof j !== 'string')) throw invalidValue('ack must be an array of jti strings');
    ack.push(...(b.ack as string[]));
  }
  const setErrs: PollRequest['setErrs'] = {};
  if (b.setErrs !== undefined) {
    if (!isObject(b.setErrs)) throw invalidValue('setErrs must be an object: {"<jti>": {"err": "…", "description": "…"}}');
    for (const [jti, e] of Object.entries(b.setErrs as Record<string, unknown>)) {
      if (!isObject(e) || typeof (e as Record<string, unknown>).err !== 'string') throw invalidValue(`setErrs.${jti} must be {"err": "<code>", "description"?: "<text>"}`);
      const d = (e as Record<string, unknown>).description;
      if (d !== undefined && typeof d !== 'string') throw invalidValue(`setErrs.${jti}.description must be a string`);
      setErrs[jti] = { err: (e as { err: string }).err, ...(typeof d === 'string' ? { description: d } : {}) };
    }
  }
  if (ack.length + Object.keys(setErrs).length > MAX_ACKS) throw invalidValue(`At most ${MAX_ACKS} events can be acknowledged or reported in one poll`);
  return { ack, setErrs, maxEvents, returnImmediately: b.returnImmediately === true };
}

export interface EventPollDeps {
  knex: Knex;
  signer: Signer;
  clock: () => Date;
  logger: Logger;
  longPollMs: number;
  intervalMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms).unref());

export class EventPoll {
  constructor(private readonly deps: EventPollDeps) {}

  async poll(tenantId: string, streamId: string, req: PollRequest): Promise<PollAnswer> {
    const missing = () => notFound(`No event stream ${streamId} to poll`);
    if (!isUuid(streamId)) throw missing();
    // Ids that are not ours cannot match: left out before they reach a uuid[] parameter.
    const done = [...new Set([...req.ack, ...Object.keys(req.setErrs)].map((j) => j.toLowerCase()).filter(isUuid))];
    const first = await inTenant(this.deps.knex, tenantId, async (trx) => {
      const stream = await repo.getStream(trx, tenantId, streamId.toLowerCase());
      if (!stream || stream.delivery !== 'poll') throw missing();
      await repo.removeEvents(trx, tenantId, stream.id, done);
      const errs = Object.entries(req.setErrs);
      if (errs.length) {
        const [jti, e] = errs[errs.length - 1];
        const line = `${e.err}${e.description ? `: ${e.description}` : ''}`.slice(0, 200);
        this.deps.logger.warn({ tenant: tenantId, stream: stream.id, jti, err: e.err, reported: errs.length }, 'event receiver reported SET errors');
        await repo.markPolled(trx, tenantId, stream.id, this.deps.clock(), line);
      }
      return req.maxEvents === 0 ? [] : repo.nextEvents(trx, tenantId, stream.id, req.maxEvents + 1);
    });
    let rows = first;
    if (req.maxEvents === 0) {
      const more = await inTenant(this.deps.knex, tenantId, (trx) => repo.nextEvents(trx, tenantId, streamId.toLowerCase(), 1));
      return { sets: {}, moreAvailable: more.length > 0 };
    }
    if (!rows.length && !req.returnImmediately) {
      const until = Date.now() + this.deps.longPollMs;
      while (!rows.length && Date.now() < until) {
        await sleep(Math.min(this.deps.intervalMs ?? 500, Math.max(0, until - Date.now())));
        rows = await inTenant(this.deps.knex, tenantId, (trx) => repo.nextEvents(trx, tenantId, streamId.toLowerCase(), req.maxEvents + 1));
      }
    }
    const handed = rows.slice(0, req.maxEvents);
    const sets: Record<string, string> = {};
    for (const r of handed) sets[r.id] = await this.deps.signer.sign(r.claims, SET_TYP);
    if (handed.length) await inTenant(this.deps.knex, tenantId, (trx) => repo.markPolled(trx, tenantId, streamId.toLowerCase(), this.deps.clock()));
    return { sets, moreAvailable: rows.length > req.maxEvents };
  }
}
