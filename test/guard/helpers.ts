// Shared by the guard tests: a seeded schema and short SQL helpers over a real server.
import { afterAll, beforeAll } from 'vitest'
import { connectPg, type PgClient } from '../../src/drivers/pg.ts'

/** Runs SQL on a short-lived connection. */
export async function sql<R = Record<string, unknown>>(url: string, text: string, params?: unknown[]): Promise<R[]> {
  const c = await connectPg(url)
  try {
    const r = await c.query<R>(text, params)
    return (Array.isArray(r) ? r.at(-1)?.rows : r.rows) ?? []
  } finally {
    await c.end()
  }
}

/** A connection the test keeps (e.g. to leave a transaction open). */
export function connect(url: string): Promise<PgClient> {
  return connectPg(url)
}

/** cars (seeded, serial pk), rentals → cars, payments → rentals, a table without key, an FK cycle, a migration table. */
export const SCHEMA = `
  create table cars (id serial primary key, name text not null);
  create table rentals (id serial primary key, car_id int not null references cars(id), day date);
  create table payments (id int generated always as identity primary key, rental_id int references rentals(id), amount int);
  create table events (kind text, body jsonb);
  create table a (id int primary key, b_id int);
  create table b (id int primary key, a_id int references a(id));
  alter table a add foreign key (b_id) references b(id);
  create table schema_migrations (version text);
  create table audit_log (msg text);
  insert into cars (name) select 'car ' || g from generate_series(1, 10) g;
  insert into events values ('seed', '{"n": 1}'), ('seed', '{"n": 2}');
  insert into a values (1, null); insert into b values (1, 1); update a set b_id = 1 where id = 1;
  insert into schema_migrations values ('001');
`


/** The two ways the PostgreSQL guard finds changes: logged by triggers (where it can), counted (the fallback). */
export const DETECTIONS = [{ detection: 'triggers' }, { detection: 'count' }] as const

/**
 * Makes the PostgreSQL stores of the enclosing suite count changes (RIG_GUARD_DETECTION=count),
 * or leaves them to pick (`auto`: triggers on the servers rig starts).
 */
export function useDetection(detection: 'triggers' | 'count'): void {
  let before: string | undefined
  beforeAll(() => {
    before = process.env.RIG_GUARD_DETECTION
    if (detection === 'count') process.env.RIG_GUARD_DETECTION = 'count'
    else delete process.env.RIG_GUARD_DETECTION
  })
  afterAll(() => {
    if (before === undefined) delete process.env.RIG_GUARD_DETECTION
    else process.env.RIG_GUARD_DETECTION = before
  })
}
