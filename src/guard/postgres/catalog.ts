// What the guard watches in a PostgreSQL database, read from the catalog (every user schema,
// never from the application's models): tables, their keys and insertable columns, foreign
// keys and sequences.
import type { PgClient, PgResult } from '../../drivers/pg.ts'
import { matchesAny } from '../patterns.ts'

/** Migration bookkeeping of common tools: never a leak, never restored. */
export const MIGRATION_TABLES: readonly string[] = [
  '*.schema_migrations', '*._prisma_migrations', '*.knex_migrations', '*.knex_migrations_lock', '*.flyway_schema_history',
  '*.__drizzle_migrations', '*.typeorm_migrations', '*.migrations', '*.SequelizeMeta', '*.pgmigrations', '*.goose_db_version',
  '*.atlas_schema_revisions', '*.kysely_migration', '*.kysely_migration_lock', '*.mikro_orm_migrations', '*.alembic_version',
  '*.databasechangelog', '*.databasechangeloglock', '*.ar_internal_metadata',
]

/** A watched table. */
export interface TableInfo {
  oid: number
  /** `schema.name`, as messages show it. */
  display: string
  /** Quoted `"schema"."name"` for SQL. */
  sql: string
  /** Quoted primary key columns; empty when the table has none. */
  pk: string[]
  /** Quoted insertable columns (generated ones left out), comma-separated. */
  columns: string
  /** The same columns, one per entry. */
  columnList: string[]
  /** SQL types of the `pk` columns, in the same order (`format_type` output, schema-qualified outside pg_catalog). */
  pkTypes: string[]
  /**
   * The role owning the table when it is not a superuser: rig's restores run as that role
   * (`SET LOCAL ROLE`), so the application's code they reach (triggers, generated columns,
   * operators of its types) never runs as the guard's superuser.
   */
  role?: string
}

/** A watched sequence. */
export interface SequenceInfo {
  oid: number
  display: string
  sql: string
  /** The file its WAL records name (`pg_relation_filenode`). */
  filenode: number
  /** Unlogged (the sequence of an unlogged table's serial column): its `nextval` writes no WAL. */
  unlogged: boolean
}

/** A foreign key: `from` references `to`. */
export interface ForeignKey {
  from: number
  to: number
}

/** The watched part of a database. */
export interface Catalog {
  tables: TableInfo[]
  sequences: SequenceInfo[]
  foreignKeys: ForeignKey[]
}

/** The schema of the change log (change-log.ts), next to the shadow copies; never watched either. */
export const changesSchema = (shadowSchema: string): string => `${shadowSchema}_changes`

/** The WHERE clause selecting user relations (what keepOnFailure kept, `rig_kept_<n>`, is not one), shared by the catalog read and the cheap catalog fingerprint. */
export function userRelations(kinds: string, shadowSchema: string): string {
  const rig = [shadowSchema, changesSchema(shadowSchema)].map((s) => `'${s.replace(/'/g, "''")}'`).join(', ')
  return `c.relkind in (${kinds}) and not c.relispartition and c.relpersistence <> 't'
    and n.nspname not in ('pg_catalog', 'information_schema', ${rig}) and n.nspname not like 'pg\\_%' and n.nspname !~ '^rig_kept_[0-9]+$'
    and not exists (select 1 from pg_depend d where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.deptype = 'e')`
}

interface Row {
  oid: string
  kind: string
  schema: string
  name: string
  pk: string[] | null
  columns: string[] | null
  owner: [string, string] | null
  pk_types: string[] | null
  filenode: string | null
  persistence: string
  role: string | null
}

/**
 * Reads tables and sequences not matching `exclude` (globs over `schema.table` or `table`).
 * Resolved with `search_path = pg_catalog, pg_temp`: `format_type` then qualifies every type
 * outside pg_catalog, so the key types in rig's restore statements mean the same in its
 * restore session, whose path is that one too.
 */
export async function readCatalog(client: PgClient, exclude: readonly string[], shadowSchema: string): Promise<Catalog> {
  const text = `begin; set local search_path = pg_catalog, pg_temp;
    select c.oid::text as oid, c.relkind::text as kind, n.nspname as schema, c.relname as name,
      (select array_agg(quote_ident(a.attname) order by a.attnum) from pg_index i
         join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any(i.indkey)
         where i.indrelid = c.oid and i.indisprimary) as pk,
      (select array_agg(format_type(a.atttypid, a.atttypmod) order by a.attnum) from pg_index i
         join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any(i.indkey)
         where i.indrelid = c.oid and i.indisprimary) as pk_types,
      case when c.relkind = 'S' then pg_relation_filenode(c.oid)::text end as filenode, c.relpersistence::text as persistence,
      (select array_agg(quote_ident(a.attname) order by a.attnum) from pg_attribute a
         where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped and a.attgenerated = '') as columns,
      (select array[on2.nspname::text, o.relname::text] from pg_depend d join pg_class o on o.oid = d.refobjid
         join pg_namespace on2 on on2.oid = o.relnamespace where c.relkind = 'S' and d.classid = 'pg_class'::regclass and d.objid = c.oid and d.deptype in ('a', 'i') limit 1) as owner,
      (select r.rolname::text from pg_roles r where r.oid = c.relowner and not r.rolsuper) as role
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where ${userRelations(`'r', 'p', 'S'`, shadowSchema)}
    order by n.nspname, c.relname; commit`
  const all = (await client.query<Row>(text).catch(async (err: unknown) => {
    await client.query('rollback').catch(() => {})
    throw err
  })) as unknown as PgResult<Row> | Array<PgResult<Row>>
  const res = { rows: (Array.isArray(all) ? all[2]?.rows : all.rows) ?? [] }
  const excluded = (schema: string, name: string): boolean => matchesAny(`${schema}.${name}`, exclude) || matchesAny(name, exclude)
  const tables: TableInfo[] = []
  const sequences: SequenceInfo[] = []
  for (const r of res.rows) {
    if (excluded(r.schema, r.name)) continue
    const display = `${r.schema}.${r.name}`
    const sql = `"${r.schema.replace(/"/g, '""')}"."${r.name.replace(/"/g, '""')}"`
    if (r.kind === 'S') {
      // A sequence owned by an excluded table belongs to it (a migration id counter).
      if (r.owner && excluded(r.owner[0], r.owner[1])) continue
      sequences.push({ oid: Number(r.oid), display, sql, filenode: Number(r.filenode ?? 0), unlogged: r.persistence === 'u' })
    } else {
      tables.push({ oid: Number(r.oid), display, sql, pk: r.pk ?? [], pkTypes: r.pk_types ?? [], columns: (r.columns ?? []).join(', '), columnList: r.columns ?? [], ...(r.role ? { role: r.role } : {}) })
    }
  }
  const watched = new Set(tables.map((t) => t.oid))
  const fk = await client.query<{ from: string; to: string }>(`select conrelid::text as "from", confrelid::text as "to" from pg_constraint where contype = 'f'`)
  const foreignKeys = fk.rows.map((r) => ({ from: Number(r.from), to: Number(r.to) })).filter((f) => watched.has(f.from) || watched.has(f.to))
  return { tables, sequences, foreignKeys }
}


/** Per list of tables: oid → the table and its place. A catalog's list is replaced, never changed in place. */
const places = new WeakMap<readonly TableInfo[], Map<number, [TableInfo, number]>>()

/**
 * The tables of `catalog` by oid, with their place in catalog order: built once per catalog, not
 * per check, so that a check walks the tables a test wrote to rather than every watched one.
 */
export function tablePlaces(catalog: Catalog): ReadonlyMap<number, [TableInfo, number]> {
  let m = places.get(catalog.tables)
  if (!m) places.set(catalog.tables, (m = new Map(catalog.tables.map((t, i) => [t.oid, [t, i]]))))
  return m
}

/**
 * A fingerprint of what the guard relies on in `catalog`'s tables and sequences: names,
 * columns, primary keys, foreign keys, a sequence's file node. Equal fingerprints mean a
 * baseline read with this catalog still applies (see `PostgresStore.adoptBaseline`); a test
 * that renamed, altered or truncated with RESTART IDENTITY changes it.
 */
export async function catalogShape(client: PgClient, catalog: Catalog): Promise<string> {
  const res = await client.query<{ shape: string | null }>(
    `select md5(string_agg(concat_ws(':', c.oid, c.relnamespace, c.relname, case when c.relkind = 'S' then pg_relation_filenode(c.oid) end,
         (select string_agg(concat_ws(' ', a.attnum, a.attname, a.atttypid, a.attgenerated), ',' order by a.attnum) from pg_attribute a where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped),
         (select string_agg(i.indkey::text, ',') from pg_index i where i.indrelid = c.oid and i.indisprimary),
         (select string_agg(concat_ws('>', f.conrelid, f.confrelid), ',' order by f.oid) from pg_constraint f where f.contype = 'f' and (f.conrelid = c.oid or f.confrelid = c.oid))),
       ';' order by c.oid)) as shape
     from pg_class c where c.oid = any($1::oid[])`,
    [[...catalog.tables.map((t) => t.oid), ...catalog.sequences.map((s) => s.oid)]],
  )
  return `${catalog.tables.length}/${catalog.sequences.length}/${res.rows[0]?.shape ?? ''}`
}
