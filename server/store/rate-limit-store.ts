// The store rate-limiter-flexible's RateLimiterPostgres writes through (front-door/rate-limit.ts).
// Given knex itself ('knex' store type), the library takes raw connections out of knex's pool and
// runs its own named statements on them, around our client (store/pg-client.ts): behind a
// transaction pooler those names break ("prepared statement … does not exist"/"already exists",
// a 503 on every sign-in; test/api/front-door.test.ts through the api:pgbouncer project), and the
// statements would run as the login user rather than the application role. As a 'pool' store it
// calls query() on this object instead, so its statements go through knex like ours: as the
// application role, named when the client keeps names, unnamed behind a transaction pooler.
import type { Knex } from 'knex';

/** What rate-limiter-flexible sends: pg's query config with $n placeholders. */
interface LimiterQuery {
  text: string;
  values?: unknown[];
  name?: string;
}

export function rateLimitStore(knex: Knex): { query(q: LimiterQuery): Promise<{ rows: unknown[]; rowCount: number | null }> } {
  return {
    query: async (q) => {
      const values = q.values ?? [];
      const bindings: Knex.RawBinding[] = [];
      // knex binds `?` in order; the library numbers its parameters and repeats some ($2, $4).
      const sql = q.text.replace(/\?/g, '\\?').replace(/\$(\d+)/g, (_, n: string) => {
        bindings.push(values[Number(n) - 1] as Knex.RawBinding);
        return '?';
      });
      const raw = knex.raw(sql, bindings);
      return q.name ? raw.options({ name: q.name }) : raw;
    },
  };
}
