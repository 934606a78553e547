// Named (prepared) statements. PostgreSQL keeps a named statement per connection, parsed, and after
// five runs planned once for good; an unnamed one is parsed and planned on every run. For the hot
// reads, planning was most of the database's work: a userName lookup with the user's groups plans
// in 0.40 ms and runs in 0.12 ms. Naming the lookup raised 50-connection lookups from ~940 to
// ~1,550 req/s on the 1M-user bench tenant, with PostgreSQL's CPU per request down from 0.73 to
// 0.24 ms (docs/performance.md).
//
// Only statements whose best plan does not depend on the values bound may be named (a cached
// generic plan is used for every value), and callers decide that. Row-level security stays whole:
// a cached plan is re-planned when the role changes, and the tenant is read when it runs.
import { createHash } from 'node:crypto';
import type { Knex } from 'knex';

/** The name of a statement's text: the same text gets the same name in every process. */
export function statementName(sql: string): string {
  return 'pv_' + createHash('sha256').update(sql).digest('base64url').slice(0, 32);
}

/**
 * Statement names for SQL texts, at most `max` distinct texts: a text beyond that runs unnamed, so
 * clients varying a statement's shape (say `count` on every request) cannot make each pooled
 * connection keep an unbounded number of plans.
 */
export class StatementNames {
  private readonly names = new Map<string, string>();

  constructor(private readonly max: number) {}

  nameOf(sql: string): string | undefined {
    let name = this.names.get(sql);
    if (name === undefined && this.names.size < this.max) {
      name = statementName(sql);
      this.names.set(sql, name);
    }
    return name;
  }

  /** `db.raw(sql, bindings)`, as a named statement while the cap allows. */
  raw(db: Knex | Knex.Transaction, sql: string, bindings: readonly Knex.RawBinding[]): Knex.Raw {
    const q = db.raw(sql, bindings as Knex.RawBinding[]);
    const name = this.nameOf(sql);
    return name ? q.options({ name }) : q;
  }
}
