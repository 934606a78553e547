// SCIM events (issue 13, RFC 9967): a tenant's event streams and the events waiting in them.
//
// - event_streams: where a tenant's events go — polled (RFC 8936) or pushed (RFC 8935) — which
//   provisioning events, full or notice form, and (push) whether the stream is paused after
//   repeated failures (server/events/push-worker.ts).
// - event_outbox: one row per event per stream, still to be delivered (a delivered or
//   acknowledged event is deleted), written in the transaction of the change that
//   causes it (server/events/producer.ts), like the mail outbox (migration 0007). The claims are
//   stored, not the signed SET: a SET is signed when it is handed out, with the key that signs
//   then, and keeps its jti and iat on every redelivery. `seq` orders a resource's events: the
//   row lock of the change is held until commit, so a later change of one resource draws a
//   larger seq than the earlier one (delivery in order per resource).
// Both are tenant tables with forced row-level security, like the others (migration 0014).
import type { Knex } from 'knex';

const POLICY = 'tenant_id = provisio_tenant() OR current_user = session_user';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE event_streams (
      tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      id uuid NOT NULL,
      name text NOT NULL,
      delivery text NOT NULL,
      endpoint_url text,
      audience text NOT NULL,
      events text[] NOT NULL,
      form text NOT NULL,
      state text NOT NULL DEFAULT 'enabled',
      failures integer NOT NULL DEFAULT 0,
      last_error text,
      paused_at timestamptz,
      last_delivered_at timestamptz,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      PRIMARY KEY (tenant_id, id),
      CONSTRAINT event_streams_delivery CHECK (delivery IN ('poll', 'push')),
      CONSTRAINT event_streams_form CHECK (form IN ('full', 'notice')),
      CONSTRAINT event_streams_state CHECK (state IN ('enabled', 'paused')),
      CONSTRAINT event_streams_endpoint CHECK ((delivery = 'push') = (endpoint_url IS NOT NULL))
    )`);
  await knex.raw(`
    CREATE TABLE event_outbox (
      tenant_id uuid NOT NULL,
      id uuid NOT NULL,
      seq bigserial NOT NULL,
      stream_id uuid NOT NULL,
      resource_type text NOT NULL,
      resource_id uuid NOT NULL,
      claims jsonb NOT NULL,
      attempts integer NOT NULL DEFAULT 0,
      next_attempt_at timestamptz NOT NULL,
      locked_until timestamptz,
      last_error text,
      created_at timestamptz NOT NULL,
      PRIMARY KEY (tenant_id, id),
      FOREIGN KEY (tenant_id, stream_id) REFERENCES event_streams (tenant_id, id) ON DELETE CASCADE
    )`);
  // A stream's events in order (the poll), and a resource's (the push claim's per-resource order).
  await knex.raw('CREATE INDEX event_outbox_stream ON event_outbox (tenant_id, stream_id, seq)');
  await knex.raw('CREATE INDEX event_outbox_resource ON event_outbox (tenant_id, stream_id, resource_id, seq)');
  // The push worker claims due events across tenants (like outbox_due).
  await knex.raw('CREATE INDEX event_outbox_due ON event_outbox (next_attempt_at)');
  for (const table of ['event_streams', 'event_outbox']) {
    await knex.raw(`GRANT SELECT, INSERT, UPDATE, DELETE ON ${table} TO provisio_app`);
    await knex.raw(`ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY`);
    await knex.raw(`ALTER TABLE ${table} FORCE ROW LEVEL SECURITY`);
    await knex.raw(`CREATE POLICY tenant_isolation ON ${table} USING (${POLICY}) WITH CHECK (${POLICY})`);
  }
  await knex.raw('GRANT USAGE, SELECT ON SEQUENCE event_outbox_seq_seq TO provisio_app');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS event_outbox');
  await knex.raw('DROP TABLE IF EXISTS event_streams');
}
