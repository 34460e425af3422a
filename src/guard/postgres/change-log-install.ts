// Installing the change log in a database (see change-log.ts): the log table, pg_walinspect, and
// per watched table a trigger function and four statement-level triggers. Kept between
// baselines: a table whose function is unchanged and whose triggers are all there is left alone.
import { createHash } from 'node:crypto'
import type { PgClient } from '../../drivers/pg.ts'
import type { Catalog, TableInfo } from './catalog.ts'
import { quoteIdent, quoteLiteral } from './connection.ts'

/** The triggers rig puts on each watched table, as `rig_guard_<event>`. */
export const TRIGGERS = ['insert', 'update', 'delete', 'truncate'] as const

/** Why this server cannot log changes, or undefined. */
export async function unavailable(client: PgClient): Promise<string | undefined> {
  const res = await client.query<{ v: string; su: boolean; inspect: boolean }>(
    `select current_setting('server_version_num') as v, (select rolsuper from pg_roles where rolname = current_user) as su,
       exists (select from pg_available_extensions where name = 'pg_walinspect') as inspect`,
  )
  const r = res.rows[0]
  if (!r) return 'the server did not answer'
  if (Number(r.v) < 150000) return `PostgreSQL ${Math.floor(Number(r.v) / 10000)} has no pg_walinspect (15+ needed)`
  if (!r.su) return 'the guard does not connect as a superuser'
  if (!r.inspect) return 'the pg_walinspect extension (contrib) is not installed'
  return undefined
}

/** The body of a table's trigger function: keys through to_jsonb (never an error if a column goes), or counts. */
function functionBody(t: TableInfo, logTable: string): string {
  const skip = `if current_setting('rig.restoring', true) = 'on' then return null; end if;`
  if (t.pk.length === 0) {
    return `${skip}
  if tg_op = 'INSERT' then insert into ${logTable} (rel, op, n) select tg_relid, 'i', count(*) from new_rows having count(*) > 0;
  elsif tg_op = 'UPDATE' then insert into ${logTable} (rel, op, n) select tg_relid, 'u', count(*) from new_rows having count(*) > 0;
  elsif tg_op = 'DELETE' then insert into ${logTable} (rel, op, n) select tg_relid, 'd', count(*) from old_rows having count(*) > 0;
  else insert into ${logTable} (rel, op, n) values (tg_relid, 't', 1); end if;
  return null;`
  }
  const key = (alias: string): string => `jsonb_build_array(${t.pk.map((c) => `to_jsonb(${alias}) -> ${quoteLiteral(c.startsWith('"') ? c.slice(1, -1).replace(/""/g, '"') : c)}`).join(', ')})`
  return `${skip}
  if tg_op = 'INSERT' then insert into ${logTable} (rel, op, k) select tg_relid, 'i', ${key('r')} from new_rows r;
  elsif tg_op = 'UPDATE' then
    insert into ${logTable} (rel, op, k) select tg_relid, 'o', ${key('r')} from old_rows r;
    insert into ${logTable} (rel, op, k) select tg_relid, 'n', ${key('r')} from new_rows r;
  elsif tg_op = 'DELETE' then insert into ${logTable} (rel, op, k) select tg_relid, 'd', ${key('r')} from old_rows r;
  else insert into ${logTable} (rel, op, n) values (tg_relid, 't', 1); end if;
  return null;`
}

/**
 * Creates the log, pg_walinspect (unless installed elsewhere) and one trigger function plus four
 * triggers per watched table and leaf partition; a table whose function is unchanged and whose
 * triggers are all there is left alone. Returns the (quoted) schema of pg_walinspect and the
 * leaf partitions' roots.
 */
export async function install(client: PgClient, schema: string, catalog: Catalog): Promise<{ inspect: string; roots: Map<number, number> }> {
  await client.query(
    `create schema if not exists ${schema};
     create unlogged table if not exists ${schema}.log (id bigint generated always as identity, rel oid not null, op "char" not null, k jsonb, n int8);
     create table if not exists ${schema}.installed (rel oid primary key, def text not null);
     create extension if not exists pg_walinspect schema ${schema}`,
  )
  const inspect = (await client.query<{ s: string }>(`select quote_ident(extnamespace::regnamespace::text) as s from pg_extension where extname = 'pg_walinspect'`)).rows[0]?.s ?? schema
  const leaves = await client.query<{ oid: string; root: string; sql: string }>(
    `select c.oid::text, pg_partition_root(c.oid)::oid::text as root, quote_ident(n.nspname) || '.' || quote_ident(c.relname) as sql
     from pg_class c join pg_namespace n on n.oid = c.relnamespace where c.relispartition and c.relkind = 'r' and pg_partition_root(c.oid) = any($1::oid[])`,
    [catalog.tables.map((t) => t.oid)],
  )
  const byOid = new Map(catalog.tables.map((t) => [t.oid, t]))
  // A leaf partition takes its root's key; its rows are logged under its own oid and mapped back.
  const targets = [
    ...catalog.tables.map((t) => ({ oid: t.oid, sql: t.sql, t })),
    ...leaves.rows.flatMap((l) => {
      const root = byOid.get(Number(l.root))
      return root ? [{ oid: Number(l.oid), sql: l.sql, t: root }] : []
    }),
  ]
  const present = await client.query<{ rel: string; def: string; n: string }>(
    `select i.rel::text, i.def, (select count(*) from pg_trigger g where g.tgrelid = i.rel and g.tgname like 'rig\\_guard\\_%' and g.tgenabled = 'A')::text as n
     from ${schema}.installed i where i.rel = any($1::oid[])`,
    [targets.map((t) => t.oid)],
  )
  const done = new Map(present.rows.filter((r) => Number(r.n) === TRIGGERS.length).map((r) => [Number(r.rel), r.def]))
  const log = `${schema}.log`
  const statements: string[] = []
  for (const { oid, sql, t } of targets) {
    const body = functionBody(t, log)
    const def = createHash('sha1').update(body).digest('hex')
    if (done.get(oid) === def) continue
    const fn = `${schema}.${quoteIdent(`t${oid}`)}`
    statements.push(
      // SECURITY DEFINER: the application's role need not be allowed to write to rig's log.
      `create or replace function ${fn}() returns trigger language plpgsql security definer set search_path = pg_catalog, pg_temp as $rig$ begin ${body} end $rig$`,
      ...TRIGGERS.map((op) => `drop trigger if exists rig_guard_${op} on ${sql}`),
      ...['insert', 'update', 'delete'].map((op) => {
        const ref = op === 'insert' ? 'new table as new_rows' : op === 'delete' ? 'old table as old_rows' : 'old table as old_rows new table as new_rows'
        return `create trigger rig_guard_${op} after ${op} on ${sql} referencing ${ref} for each statement execute function ${fn}()`
      }),
      `create trigger rig_guard_truncate after truncate on ${sql} for each statement execute function ${fn}()`,
      // Replica-mode sessions (some loaders, pg_restore) write too.
      `alter table ${sql} ${TRIGGERS.map((op) => `enable always trigger rig_guard_${op}`).join(', ')}`,
      `insert into ${schema}.installed values (${oid}, '${def}') on conflict (rel) do update set def = excluded.def`,
    )
  }
  if (statements.length > 0) {
    // Creating a trigger waits for autovacuum on that table to give way (after deadlock_timeout).
    await client.query(['begin', `set local lock_timeout = '10s'`, ...statements, 'commit'].join(';\n')).catch(async (err: unknown) => {
      await client.query('rollback').catch(() => {})
      throw err
    })
  }
  return { inspect, roots: new Map(leaves.rows.map((l) => [Number(l.oid), Number(l.root)])) }
}

/**
 * `setval` of every watched sequence to its own value: its WAL-ahead counter drops to zero, so
 * the next `nextval` writes a WAL record the check sees (otherwise 32 values are handed out per
 * record, most of them without any).
 */
export async function resetSequences(client: PgClient, catalog: Catalog): Promise<void> {
  if (catalog.sequences.length === 0) return
  await client.query(
    `with s as materialized (select unnest($1::oid[]) as oid), v as materialized (select oid, pg_sequence_last_value(oid) as v from s)
     select count(setval(oid, v, true)) from v where v is not null`,
    [catalog.sequences.map((s) => s.oid)],
  )
}
