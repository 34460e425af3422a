// Installing the change log in a database (see change-log.ts): the log table, pg_walinspect, and
// per watched table a trigger function and four statement-level triggers. Kept between
// baselines: a table whose function is unchanged and whose triggers are all there is left alone.
import { createHash } from 'node:crypto'
import type { PgClient } from '../../drivers/pg.ts'
import type { Catalog, TableInfo } from './catalog.ts'
import { quoteIdent, quoteLiteral } from './connection.ts'
import { IN_FLIGHT_SQL } from './in-flight.ts'

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

/**
 * The triggers' condition: rig's own restore (`rig.restoring`, set in its transaction) queues no
 * trigger event at all, so its statements call no trigger function. Qualified: it is stored with
 * the trigger and evaluated in whatever session writes.
 */
const NOT_RESTORING = `(pg_catalog.current_setting('rig.restoring', true) operator(pg_catalog.=) 'on') is not true`

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
 * The check and the restore in one call, on the restore session (the guard's per-test round
 * trip, see change-log.ts): `check_restore` reads what the probe of {@link ChangeLog} reads and,
 * when the changes are plain rows and sequences (no DDL, no TRUNCATE, no transaction left open,
 * every table known to `meta` of this generation, no more rows than the key limit), puts them
 * back in the same transaction: each table by the keys logged, or whole (emptied and reloaded
 * from its shadow copy) when it has no key, no copy or a key the log could not read; the
 * sequences the WAL names are set back to their baseline values. It returns the probe's rows and
 * one `r` row: `on` restored, `none` nothing to restore, `off` left to the guard (counted or
 * restored the usual way). `after_restore` reads, after COMMIT, what the usual restore reads
 * after it. Statements are prepared by the guard in `meta` and `seqs` (one row per table and
 * leaf partition, per sequence), written when its catalog or baseline changes.
 */
function functionsSql(schema: string, inspect: string): string[] {
  const row = `${schema}.probe_row`
  return [
    `drop procedure if exists ${schema}.check_call`,
    `drop function if exists ${schema}.check_restore`,
    `drop function if exists ${schema}.after_restore`,
    `drop type if exists ${row}`,
    `create type ${row} as (k text, a text, b text, c text, n int8)`,
    `create unlogged table if not exists ${schema}.meta (rel oid primary key, gen text not null, del text, ins text, wdel text not null, wins text)`,
    `create unlogged table if not exists ${schema}.seqs (oid oid primary key, gen text not null, node oid not null, value int8 not null, called bool not null)`,
    `create index if not exists seqs_node on ${schema}.seqs (node)`,
    // The table's owner when it is not a superuser: its restore statements run as that role.
    `alter table ${schema}.meta add column if not exists runas text`,
    // Both run as the guard's superuser in the application's database: resolved in pg_catalog
    // only, never through a function or operator someone created in a schema of the session's
    // search_path (an `||` taking (text, oid) in public was called for the WAL patterns). The
    // restore statements in meta name everything else by schema (key types too), and each
    // table's run as its owner when that is not a superuser (SET LOCAL ROLE): the application's
    // code they reach (an ALWAYS trigger, a generated column, its types' operators) never runs
    // as the superuser.
    `create function ${schema}.check_restore(mark pg_lsn, own xid[], pids int[], db oid, cls oid, trg oid, key_limit int, gen text, do_restore boolean)
returns setof ${row} language plpgsql set search_path = pg_catalog, pg_temp as $rig$
declare
  got ${row}[];
  r ${row};
  plain boolean := do_restore;
  todo boolean := false;
  nodes oid[] := '{}';
  total int8 := 0;
  moved pg_lsn := mark;
  quiet boolean;
  before txid_snapshot := txid_current_snapshot();
  rels oid[] := '{}';
  xids xid[] := '{}';
  keys jsonb[];
  m record;
  stmt text;
  pname text;
  prepared text[];
begin
  with p as materialized (select pg_current_wal_insert_lsn() as i, pg_current_wal_flush_lsn() as f),
    g as materialized (select i, f, i <> mark as go from p),
    c as materialized (select l.xmin, l.id, l.rel, l.op, l.k, l.n from ${schema}.log l)
  select array_agg(row(q.k, q.a, q.b, q.c, q.n)::${row}) into got from (
    select 'p'::text as k, (select i from g)::text as a, (select f from g)::text as b, null::text as c, null::int8 as n
    union all select 'x', s.pid::text, null, null, (extract(epoch from clock_timestamp() - s.xact_start) * 1000)::int8 from pg_stat_get_activity(null) s
      where s.datid = db and s.pid <> pg_backend_pid() and s.state like 'idle in transaction%' and s.pid <> all(pids)
    union all select 'c', c.rel::text, c.op::text, null, sum(coalesce(c.n, 1))::int8 from c group by c.rel, c.op
    union all select 'l', l.rel::text, l.op::text, l.k::text, l.id from (select c.id, c.rel, c.op, c.k, row_number() over (partition by c.rel order by c.id) as rn from c where c.n is null) l
      where l.rn <= key_limit + 1
    union all select 'v', v.xmin::text, null, null, null from (select distinct c.xmin from c) v
    union all select 'w', w.resource_manager, substring(coalesce(w.block_ref, '') || ' ' || coalesce(w.description, '') from '\\m\\d+/(\\d+/\\d+)\\M'), null, null
      from ${inspect}.pg_get_wal_records_info(mark, (select f from g)) w
      where (select go from g) and mark < (select f from g) and w.xid <> all(own)
        and (w.resource_manager = 'Sequence' or (w.resource_manager = 'Heap' and w.record_type ~ '^(INSERT|UPDATE|HOT_UPDATE|DELETE)'
          and (w.block_ref like ('% rel %/' || db || '/' || cls || ' fork %') or w.block_ref like ('% rel %/' || db || '/' || trg || ' fork %'))))
  ) q;
  -- Nobody else holds a transaction id now, and nothing is written beyond the flushed WAL.
  quiet := txid_snapshot_xmin(before) = txid_snapshot_xmax(before);
  foreach r in array coalesce(got, '{}') loop
    if r.k = 'p' then
      if r.a::pg_lsn <> mark then moved := r.b::pg_lsn; end if;
      quiet := quiet and r.a = r.b;
    elsif r.k = 'x' then plain := false;
    elsif r.k = 'c' then
      total := total + r.n;
      todo := true;
      if not r.a::oid = any(rels) then rels := rels || r.a::oid; end if;
      if r.b = 't' then plain := false; end if;
    elsif r.k = 'v' then xids := xids || r.a::xid; todo := true;
    elsif r.k = 'w' and r.b is not null and split_part(r.b, '/', 1)::oid = db then
      if r.a = 'Sequence' then nodes := nodes || split_part(r.b, '/', 2)::oid; todo := true;
      else plain := false; end if;
    end if;
  end loop;
  if total > key_limit then plain := false; end if;
  -- Every table written to is described by this generation of meta (else: a table rig no longer watches, or meta lost).
  if plain and todo and (select count(*) from ${schema}.meta t where t.rel = any(rels) and t.gen = check_restore.gen) <> cardinality(rels) then
    plain := false;
  end if;
  if plain and todo then
    -- Rig's own writes are not logged. The restore session is in replica mode already (no
    -- foreign-key trigger fires, order does not matter) and plans generically (plan_cache_mode),
    -- both set once for the session: the guard calls this only there.
    perform set_config('rig.restoring', 'on', true);
    -- Each table's keys read (and whether one is not a plain value: the table is then restored whole), in one statement.
    for m in
      select t.rel, t.del, t.ins, t.wdel, t.wins, t.runas, k.keys, coalesce(k.bad, false) as bad from ${schema}.meta t
      left join (select x.a, array_agg(x.c::jsonb order by x.n) as keys,
          bool_or(x.c is null or exists (select from jsonb_array_elements(x.c::jsonb) v where jsonb_typeof(v) in ('null', 'object', 'array'))) as bad
        from unnest(got) x where x.k = 'l' group by x.a) k on k.a = t.rel::text
      where t.rel = any(rels)
    loop
      keys := case when m.del is not null and not m.bad then m.keys end;
      if m.runas is not null then perform set_config('role', m.runas, true); end if;
      if keys is null then
        execute m.wdel;
        if m.wins is not null then execute m.wins; end if;
      else
        -- Prepared once per session (named after the statement) and run with its generic plan
        -- (the session's plan_cache_mode): not parsed and planned on every restore as EXECUTE … USING is.
        -- (EXECUTE of a prepared statement takes no USING parameters: the keys go as a literal.)
        foreach stmt in array array_remove(array[m.del, m.ins], null) loop
          pname := 'rig_restore_' || md5(stmt);
          -- The session's prepared statements are listed once per restore (a copy of them all).
          if prepared is null then
            select coalesce(array_agg(p.name), '{}') into prepared from pg_prepared_statements p where p.name like 'rig\\_restore\\_%';
          end if;
          if not pname = any(prepared) then
            execute 'prepare ' || pname || ' (jsonb[]) as ' || stmt;
            prepared := prepared || pname;
          end if;
          execute 'execute ' || pname || ' (' || quote_literal(keys::text) || ')';
        end loop;
      end if;
      if m.runas is not null then perform set_config('role', 'none', true); end if;
    end loop;
    if cardinality(nodes) > 0 then
      perform setval(s.oid, s.value, s.called) from ${schema}.seqs s where s.node = any(nodes) and s.gen = check_restore.gen;
    end if;
    if cardinality(xids) > 0 then
      delete from ${schema}.log where xmin = any(xids);
    end if;
    -- This transaction's id is the first handed out since the read began: nobody else wrote meanwhile.
    quiet := quiet and txid_current() = txid_snapshot_xmax(before);
    perform set_config('rig.restore_xid', (txid_current() % 4294967296)::text, false);
    perform set_config('rig.read_mark', moved::text, false);
    perform set_config('rig.read_quiet', case when quiet then 'on' else 'off' end, false);
    perform set_config('rig.restored', 'on', false);
  else
    perform set_config('rig.restored', 'off', false);
  end if;
  return query select * from unnest(got);
  return next row('r', case when not plain then 'off' when todo then 'on' else 'none' end, null, null, null)::${row};
end $rig$`,
    // Nobody else wrote since the read when no other transaction id was handed out until after
    // this COMMIT (records without one, hint bits and pruning, do not count): then the WAL need
    // not be read to know it.
    `create function ${schema}.after_restore() returns table (r_lsn text, r_xid text, r_mark text, r_others int8)
language plpgsql set search_path = pg_catalog, pg_temp as $rig$
declare
  since pg_lsn;
  upto pg_lsn := pg_current_wal_flush_lsn();
  snap txid_snapshot := txid_current_snapshot();
  own int8;
begin
  if current_setting('rig.restored', true) is distinct from 'on' then return; end if;
  perform set_config('rig.restored', 'off', false);
  since := current_setting('rig.read_mark')::pg_lsn;
  own := current_setting('rig.restore_xid')::int8;
  return query select pg_current_wal_insert_lsn()::text, current_setting('rig.restore_xid'), txid_snapshot_xmax(snap)::text,
    case when current_setting('rig.read_quiet') = 'on' and txid_snapshot_xmin(snap) = txid_snapshot_xmax(snap) and txid_snapshot_xmax(snap) % 4294967296 = (own + 1) % 4294967296 then 0::int8
      when since < upto then (select count(*) from ${inspect}.pg_get_wal_records_info(since, upto) w
      where w.xid <> all(array['0', own::text]::xid[]))::int8 else 0::int8 end;
end $rig$`,
    // The whole per-test check in one CALL (one round trip, a statement the session prepares
    // once): with look, the settle look; the quiet check of ChangeLog.quietQuery, and when
    // something moved the flush, then check_restore, COMMIT, after_restore. `got` stays null
    // when nothing was written, busy lists what was in flight. A
    // procedure that commits can have no SET clause: it refuses to run unless the session's
    // search_path is pg_catalog's alone (the restore session sets it), so every name it and the
    // functions it calls resolve is still pg_catalog's.
    `create procedure ${schema}.check_call(mark pg_lsn, own xid[], pids int[], db oid, cls oid, trg oid, key_limit int, gen text, do_restore boolean, look boolean,
  inout got text default null, inout after text default null, inout busy text default null)
language plpgsql as $rig$
begin
  -- Qualified: nothing is resolved through the session's path before it is known to be pg_catalog's.
  if pg_catalog.current_setting('search_path') operator(pg_catalog.<>) 'pg_catalog, pg_temp' then
    raise exception 'rig_guard: check_call needs search_path = pg_catalog, pg_temp (it is %)', pg_catalog.current_setting('search_path');
  end if;
  -- The settle look first (look: the guard waits for nothing else): the application's
  -- transactions in flight, as settle() lists them. Any: nothing else is done, the guard waits.
  if look then
    select json_agg(f)::text into busy from (${IN_FLIGHT_SQL}) f;
    if busy is not null then return; end if;
  end if;
  -- One statement; AND evaluates in order and stops at the first false, so the sessions are
  -- listed (a copy of every backend's status) only when nothing was written.
  if pg_current_wal_insert_lsn() = mark and not exists (select from ${schema}.log)
    and not exists (select from pg_stat_get_activity(null) s where s.datid = db and s.pid <> pg_backend_pid() and s.state like 'idle in transaction%' and s.pid <> all(pids)) then
    return;
  end if;
  -- pg_walinspect reads flushed WAL only: an asynchronous commit's is flushed by this one (the session commits synchronously).
  if pg_current_wal_insert_lsn() > pg_current_wal_flush_lsn() then perform pg_logical_emit_message(true, 'rig-flush', ''); end if;
  commit;
  select json_agg(r)::text into got from ${schema}.check_restore(mark, own, pids, db, cls, trg, key_limit, gen, do_restore) r;
  commit;
  select row_to_json(a)::text into after from ${schema}.after_restore() a;
end $rig$`,
    // The schema is open to every role (the triggers write the log as the role that wrote): these are the guard's alone.
    `revoke all on function ${schema}.check_restore(pg_lsn, xid[], int[], oid, oid, oid, int, text, boolean), ${schema}.after_restore() from public`,
    `revoke all on procedure ${schema}.check_call from public`,
  ]
}

/**
 * Creates the log, pg_walinspect (unless installed elsewhere) and one trigger function plus four
 * triggers per watched table and leaf partition; a table whose function is unchanged and whose
 * triggers are all there is left alone. Returns the (quoted) schema of pg_walinspect and the
 * leaf partitions' roots.
 */
export async function install(client: PgClient, schema: string, catalog: Catalog): Promise<{ inspect: string; roots: Map<number, number> }> {
  // The owner of a schema may drop any object in it, whoever made it: in one the application's
  // role made under this name (the owner of its database may), that role could put its own
  // check_call, check_restore or meta where the superuser runs them. Only a superuser's is used.
  const owner = (await client.query<{ name: string; su: boolean }>(
    `select r.rolname as name, r.rolsuper as su from pg_catalog.pg_namespace n join pg_catalog.pg_roles r on r.oid = n.nspowner where n.oid = pg_catalog.to_regnamespace($1)`,
    [schema],
  )).rows[0]
  if (owner && !owner.su) throw new Error(`schema ${schema} is owned by ${owner.name}, not a superuser: rig runs nothing there (drop it to let rig make it)`)
  await client.query(
    `create schema if not exists ${schema};
     create unlogged table if not exists ${schema}.log (id bigint generated always as identity, rel oid not null, op "char" not null, k jsonb, n int8);
     grant usage on schema ${schema} to public;
     grant insert on ${schema}.log to public;
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
  // The check-and-restore functions, under oid 0 of `installed`.
  const functions = functionsSql(schema, inspect)
  const functionsDef = createHash('sha1').update(functions.join(';\n')).digest('hex')
  const installed = await client.query<{ def: string }>(`select def from ${schema}.installed where rel = 0`)
  if (installed.rows[0]?.def !== functionsDef) statements.push(...functions, `insert into ${schema}.installed values (0, '${functionsDef}') on conflict (rel) do update set def = excluded.def`)
  for (const { oid, sql, t } of targets) {
    const body = functionBody(t, log)
    // The version of the function's attributes too: one made SECURITY DEFINER by an older rig is replaced.
    const def = createHash('sha1').update(`invoker\nwhen ${NOT_RESTORING}\n${body}`).digest('hex')
    if (done.get(oid) === def) continue
    const fn = `${schema}.${quoteIdent(`t${oid}`)}`
    statements.push(
      // Run as the role that wrote (every role may append to the log), never SECURITY DEFINER:
      // to_jsonb(row) calls the casts to json of the row's types, which the application's role
      // may define for its own types, and they then ran as the superuser that made the function.
      `create or replace function ${fn}() returns trigger language plpgsql set search_path = pg_catalog, pg_temp as $rig$ begin ${body} end $rig$`,
      ...TRIGGERS.map((op) => `drop trigger if exists rig_guard_${op} on ${sql}`),
      ...['insert', 'update', 'delete'].map((op) => {
        const ref = op === 'insert' ? 'new table as new_rows' : op === 'delete' ? 'old table as old_rows' : 'old table as old_rows new table as new_rows'
        return `create trigger rig_guard_${op} after ${op} on ${sql} referencing ${ref} for each statement when (${NOT_RESTORING}) execute function ${fn}()`
      }),
      `create trigger rig_guard_truncate after truncate on ${sql} for each statement when (${NOT_RESTORING}) execute function ${fn}()`,
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
