// One-shot migration task: applies the migrations not yet recorded in `schema_migrations`,
// each in its own transaction, then seeds the reference data; exits 0 when done. Safe to run
// again (nothing to apply, seed upserts) and concurrently (a PostgreSQL advisory lock
// serialises runners).
//
// In rig.config.ts it is a `command()` that the API and the worker wait on with the
// `completed` condition. By hand: DATABASE_URL=postgres://... node db/migrate.ts
import pg from 'pg'
import { seed } from './seed.ts'

export interface Migration {
  version: string
  sql: string
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: '0001_initial',
    sql: `
      create table cars (
        id text primary key,
        model text not null,
        category text not null,
        seats integer not null check (seats > 0),
        electric boolean not null default false,
        label_fr text not null,
        label_en text not null
      );
      create table price_plans (
        id text primary key,
        name_fr text not null,
        name_en text not null,
        description_fr text not null,
        description_en text not null,
        currency char(3) not null default 'EUR',
        daily_cents integer not null check (daily_cents > 0),
        included_km_per_day integer not null check (included_km_per_day >= 0),
        min_days integer not null default 1 check (min_days >= 1),
        weekly_discount_pct integer not null default 0 check (weekly_discount_pct between 0 and 100)
      );
      create table rentals (
        id uuid primary key,
        car_id text not null references cars (id),
        plan_id text not null references price_plans (id),
        days integer not null check (days between 1 and 90),
        customer text not null,
        quote_cents integer not null,
        currency char(3) not null,
        created_at timestamptz not null default now(),
        billing_status text not null default 'pending' check (billing_status in ('pending', 'charged', 'failed')),
        billing_error text
      );
      create table payments (
        id uuid primary key,
        rental_id uuid not null unique references rentals (id) on delete cascade,
        amount_cents integer not null check (amount_cents > 0),
        currency char(3) not null,
        charged_at timestamptz not null default now()
      );
    `,
  },
  {
    version: '0002_rentals_by_customer',
    sql: `create index rentals_customer_idx on rentals (customer, created_at desc);`,
  },
  {
    // The billing queue when it runs on PostgreSQL (QUEUE=postgres, see lib/queue.ts): one row
    // per job, inserted with the rental, deleted by the worker in the transaction that charges
    // it. Created in every deployment, so switching queues needs no migration.
    version: '0003_billing_jobs',
    sql: `
      create table billing_jobs (
        id bigint generated always as identity primary key,
        rental_id uuid not null references rentals (id) on delete cascade,
        enqueued_at timestamptz not null default now()
      );
    `,
  },
]

/** Any constant: the advisory lock that serialises concurrent migration runs. */
const LOCK_KEY = 7_420_001

/** Applies pending migrations; returns the versions applied. */
export async function migrate(client: pg.Client, log: (line: string) => void = console.log): Promise<string[]> {
  await client.query('select pg_advisory_lock($1)', [LOCK_KEY])
  try {
    await client.query('create table if not exists schema_migrations (version text primary key, applied_at timestamptz not null default now())')
    const { rows } = await client.query<{ version: string }>('select version from schema_migrations')
    const done = new Set(rows.map((r) => r.version))
    const applied: string[] = []
    for (const m of MIGRATIONS) {
      if (done.has(m.version)) continue
      const t = performance.now()
      await client.query('begin')
      try {
        await client.query(m.sql)
        await client.query('insert into schema_migrations (version) values ($1)', [m.version])
        await client.query('commit')
      } catch (err) {
        await client.query('rollback').catch(() => {})
        throw new Error(`migration ${m.version} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
      }
      applied.push(m.version)
      log(`applied ${m.version} (${(performance.now() - t).toFixed(0)} ms)`)
    }
    return applied
  } finally {
    await client.query('select pg_advisory_unlock($1)', [LOCK_KEY])
  }
}

if (import.meta.main) {
  const url = process.env.DATABASE_URL
  if (!url) {
    console.error('ERROR DATABASE_URL is not set')
    process.exit(1)
  }
  const t0 = performance.now()
  const client = new pg.Client({ connectionString: url })
  try {
    await client.connect()
    const applied = await migrate(client)
    const n = await seed(client)
    console.log(
      `${applied.length === 0 ? 'schema up to date' : `applied ${applied.length} migration(s)`}; seeded ${n.cars} cars and ${n.plans} price plans in ${(performance.now() - t0).toFixed(0)} ms`,
    )
  } catch (err) {
    console.error(`ERROR ${err instanceof Error ? err.message : String(err)}`)
    process.exitCode = 1
  } finally {
    await client.end().catch(() => {})
  }
}
