// Event production (issue 13, RFC 9967): every committed change to a User or Group becomes one
// event row per matching stream, written in the change's own transaction (the outbox pattern of
// mail/outbox.ts), so a rolled-back change produces nothing and a committed one is never lost.
//
// The resource service calls record() from the one place every SCIM, Bulk and admin API write
// goes through (resources/service.ts: create, replace, patch, remove); the purge job, which
// deletes outside it, calls deleted(). test/api/events.test.ts proves both paths, the rollback,
// and that another tenant's streams never see a change.
//
// The claims are stored unsigned (store/events-repo.ts explains why) and are those of RFC 8417
// §2.2 and RFC 9967 §2: jti (the row's id, so a redelivered SET keeps it), iat, iss (PUBLIC_URL),
// aud (the stream's audience), txn (one per change: the SETs of one change share it), sub_id in
// the "scim" format with the resource's path and externalId, and `events` with one event URI.
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { v7 as uuidv7 } from 'uuid';
import type { JsonObject } from '../scim/normalize';
import * as repo from '../store/events-repo';
import type { Sql } from '../store/filter-sql';
import type { TenantConfigCache } from '../store/tenant-config';
import type { ResourceRow } from '../store/resource-repo';
import type { ChangeRecorder, ResourceChange } from '../resources/service';
import { eventUri, EventForm, hasForm, ProvisioningEvent } from './catalog';

export type { ResourceChange } from '../resources/service';

export interface ProducerDeps {
  /** The tenant's streams per instance, trusted for a create's own config version (deps.ts). */
  tenantConfig?: TenantConfigCache;
  publicUrl: string;
  clock: () => Date;
  /**
   * Reads a resource as it now stands, with its full representation (deps.ts: the resource
   * service's), for changes made by statements of their own (rewritten()).
   */
  read?: (trx: Knex.Transaction, tenantId: string, kind: 'User' | 'Group', id: string) => Promise<{ row: ResourceRow; kind: { name: string; endpoint: string }; data: () => Promise<JsonObject> } | undefined>;
}

const activeOf = (row: ResourceRow | undefined): boolean | undefined => {
  const v = row?.data?.active;
  return typeof v === 'boolean' ? v : undefined;
};

const externalIdOf = (row: ResourceRow | undefined): string | undefined => {
  const v = row?.data?.externalId;
  return typeof v === 'string' ? v : undefined;
};

export class EventProducer implements ChangeRecorder {
  constructor(private readonly deps: ProducerDeps) {}

  /** The events a change is: its verb, and activate/deactivate when `active` flipped. */
  static eventsOf(change: ResourceChange): ProvisioningEvent[] {
    const out: ProvisioningEvent[] = [change.verb];
    if (change.verb === 'put' || change.verb === 'patch') {
      const was = activeOf(change.before);
      const is = activeOf(change.after);
      // An absent `active` reads as true (RFC 7643 leaves the default to the server; ours is active).
      if ((was ?? true) !== (is ?? true)) out.push(is ?? true ? 'activate' : 'deactivate');
    }
    return out;
  }

  /** Enqueues the change's events for every stream of the tenant that asked for them, in `trx`. */
  async record(trx: Knex.Transaction, tenantId: string, change: ResourceChange, streams?: unknown): Promise<void> {
    await this.enqueue(trx, tenantId, streams === undefined ? await this.streamsFor(trx, tenantId, change) : (streams as repo.StreamForEvents[]), change);
  }

  /**
   * The tenant's streams when the write did not read them in its own statement: a create's row
   * carries the tenant's config version its INSERT read, and the streams cached for that version
   * are the tenant's streams now (store/tenant-config.ts), one read less per create.
   */
  private async streamsFor(trx: Knex.Transaction, tenantId: string, change: ResourceChange): Promise<repo.StreamForEvents[]> {
    const version = change.after?.__config_version;
    if (version !== undefined && this.deps.tenantConfig) return ((await this.deps.tenantConfig.get(trx, tenantId, version))?.streams ?? []) as repo.StreamForEvents[];
    return repo.streamsForEvents(trx, tenantId);
  }

  /** What record() reads first, the tenant's streams, as SQL to fold into a write's own statement. */
  streamsSql(tenantId: string): Sql {
    return repo.streamsForEventsSql(tenantId);
  }

  /** The change's events for these streams (read once per transaction by the caller). */
  private async enqueue(trx: Knex.Transaction, tenantId: string, streams: repo.StreamForEvents[], change: ResourceChange): Promise<void> {
    if (!streams.length) return;
    const events = EventProducer.eventsOf(change);
    const now = this.deps.clock();
    const iat = Math.floor(now.getTime() / 1000);
    const txn = randomUUID();
    const row = change.after ?? change.before;
    const externalId = externalIdOf(row);
    const subId: JsonObject = { format: 'scim', uri: `/${change.kind.endpoint}/${change.id}`, ...(externalId !== undefined ? { externalId } : {}) };
    const version = change.after ? `W/"${change.after.version}"` : undefined;
    let data: JsonObject | undefined;
    const rows: repo.NewEvent[] = [];
    for (const stream of streams) {
      for (const event of events) {
        if (!stream.events.includes(event)) continue;
        const payload = await this.payload(event, stream.form, change, version, async () => (data ??= await change.data!()));
        const id = uuidv7();
        rows.push({
          id,
          streamId: stream.id,
          resourceType: change.kind.name,
          resourceId: change.id,
          claims: { jti: id, iat, iss: this.deps.publicUrl, aud: stream.audience, txn, sub_id: subId, events: { [eventUri(event, stream.form)]: payload } },
        });
      }
    }
    await repo.insertEvents(trx, tenantId, rows, now);
  }

  /** Delete events for resources removed outside the resource service (the sub-account purge). */
  async deleted(trx: Knex.Transaction, tenantId: string, kind: { name: string; endpoint: string; table: 'users' | 'groups' }, ids: string[]): Promise<void> {
    const streams = ids.length ? await repo.streamsForEvents(trx, tenantId) : [];
    if (!streams.length) return;
    const external = await repo.externalIds(trx, tenantId, kind.table, ids);
    for (const id of ids) {
      const ext = external.get(id);
      const before = { id, data: ext ? { externalId: ext } : {} } as unknown as ResourceRow;
      await this.enqueue(trx, tenantId, streams, { kind, verb: 'delete', id, before, attributes: [] });
    }
  }

  /**
   * Patch events for resources a statement of its own changed in `trx` — the groups that lost a
   * deleted member, the users a deleted service, permission profile or price list was taken from —
   * with the attributes it changed.
   */
  async rewritten(trx: Knex.Transaction, tenantId: string, kind: 'User' | 'Group', ids: string[], attributes: string[]): Promise<void> {
    const streams = ids.length && this.deps.read ? await repo.streamsForEvents(trx, tenantId) : [];
    if (!streams.length) return;
    for (const id of ids) {
      const found = await this.deps.read!(trx, tenantId, kind, id);
      if (!found) continue;
      // before = after: such a change never flips `active`.
      await this.enqueue(trx, tenantId, streams, { kind: found.kind, verb: 'patch', id, before: found.row, after: found.row, attributes, data: found.data });
    }
  }

  private async payload(event: ProvisioningEvent, form: EventForm, change: ResourceChange, version: string | undefined, data: () => Promise<JsonObject>): Promise<JsonObject> {
    // delete, activate and deactivate carry no payload attributes (RFC 9967 §2.4.4–2.4.6).
    if (!hasForm(event)) return {};
    const out: JsonObject = {};
    if (form === 'full' && change.data) out.data = await data();
    else out.attributes = change.attributes;
    if (version) out.version = version;
    return out;
  }
}
