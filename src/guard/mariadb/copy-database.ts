// Whole-database copies made with SQL on the same server: named snapshots, the `snapshot`
// strategy and per-worker clones use them. MariaDB has no CREATE DATABASE … TEMPLATE; measured
// against mysqldump | mysql and transportable tablespaces (bench/RESULTS.md), re-running each
// table's own CREATE TABLE and one INSERT … SELECT per table, all in one round trip, was the
// fastest for test-sized data and needs no file access to the server. Views and triggers are
// recreated after the rows (so triggers do not fire on the copy); stored routines and events
// belong to the database and are not copied.
//
// Every copy is recorded in `rig_meta.copies` (owner pid, host, run, time) so a later run can
// sweep what a crashed one left.
import os from 'node:os'
import type { MysqlConnection } from '../../drivers/mysql.ts'
import { connectMysql } from '../../drivers/mysql.ts'
import { databaseName, ident, literal, many, rows, withDatabase } from './connection.ts'

/** Who made a copy and why. */
export interface CopyMeta {
  rig: 'snapshot' | 'worker'
  source: string
  name: string
  pid: number
  host: string
  createdAt: string
  runId?: string
}

const REGISTRY = '`rig_meta`.`copies`'

/** Metadata for a copy made now by this process. */
export function copyMeta(rig: CopyMeta['rig'], source: string, name: string, runId?: string): CopyMeta {
  return { rig, source, name, pid: process.pid, host: os.hostname(), createdAt: new Date().toISOString(), ...(runId ? { runId } : {}) }
}

/** The database holding the guard's shadow copies of the seeded tables of `db`. */
export function shadowDatabase(db: string): string {
  return databaseName('rig_guard', [db])
}

/** Runs `fn` on a short-lived session of its own (a copy switches the session's database). */
export async function withMaintenance<T>(url: string, fn: (conn: MysqlConnection) => Promise<T>): Promise<T> {
  const conn = await connectMysql(url, { timeoutMs: 5000, multipleStatements: true })
  try {
    await conn.query(`SET SESSION foreign_key_checks = 0; SET SESSION lock_wait_timeout = 10; SET SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION'`)
    return await fn(conn)
  } finally {
    await conn.end().catch(() => conn.destroy())
  }
}

async function register(conn: MysqlConnection, db: string, meta: CopyMeta): Promise<void> {
  await conn.query(
    `create database if not exists \`rig_meta\`; create table if not exists ${REGISTRY} (db varchar(64) primary key, meta text not null) engine = InnoDB; ` +
      `replace into ${REGISTRY} values (${literal(db)}, ${literal(JSON.stringify(meta))})`,
  )
}

/** Copies rig recorded on this server that still exist, with their metadata. */
export async function listCopies(conn: MysqlConnection, kind: CopyMeta['rig']): Promise<Array<{ db: string; meta: CopyMeta }>> {
  const exists = await rows<{ n: number | string }>(conn, `select count(*) as n from information_schema.tables where table_schema = 'rig_meta' and table_name = 'copies'`)
  if (Number(exists[0]?.n ?? 0) === 0) return []
  const found = await rows<{ db: string; meta: string }>(conn, `select c.db as db, c.meta as meta from ${REGISTRY} c join information_schema.schemata s on s.schema_name = c.db`)
  const out: Array<{ db: string; meta: CopyMeta }> = []
  for (const r of found) {
    try {
      const meta = JSON.parse(r.meta) as CopyMeta
      if (meta.rig === kind) out.push({ db: r.db, meta })
    } catch {
      // not one of ours
    }
  }
  return out
}

/** Drops a copy (and the guard's shadow database of it) and forgets it. */
export async function dropCopy(conn: MysqlConnection, db: string): Promise<void> {
  await conn.query(`drop database if exists ${ident(db)}; drop database if exists ${ident(shadowDatabase(db))}`)
  await conn.query(`delete from ${REGISTRY} where db = ${literal(db)}`).catch(() => {})
}

interface Objects {
  tables: Array<{ name: string; create: string; columns: string[] }>
  views: Array<{ name: string; create: string }>
  triggers: string[]
  charset: string
  collation: string
}

/** Reads what a copy of `db` must recreate. */
async function objectsOf(conn: MysqlConnection, db: string): Promise<Objects> {
  const schema = (await rows<{ c: string; o: string }>(conn, `select default_character_set_name as c, default_collation_name as o from information_schema.schemata where schema_name = ${literal(db)}`))[0]
  if (!schema) throw new Error(`database ${db} does not exist`)
  const list = await rows<{ t: string; k: string }>(conn, `select table_name as t, table_type as k from information_schema.tables where table_schema = ${literal(db)} order by table_name`)
  const cols = await rows<{ t: string; c: string }>(
    conn,
    `select table_name as t, column_name as c from information_schema.columns where table_schema = ${literal(db)} and extra not like '%GENERATED%' order by table_name, ordinal_position`,
  )
  const trig = await rows<{ n: string }>(conn, `select trigger_name as n from information_schema.triggers where trigger_schema = ${literal(db)} order by action_order`)
  const show = [...list.map((t) => `show create table ${ident(db)}.${ident(t.t)}`), ...trig.map((t) => `show create trigger ${ident(db)}.${ident(t.n)}`)]
  const results = show.length > 0 ? await many<Record<string, string>>(conn, show.join(';\n')) : []
  const out: Objects = { tables: [], views: [], triggers: [], charset: schema.c, collation: schema.o }
  list.forEach((t, i) => {
    const r = (results[i] as Record<string, string>[] | undefined)?.[0] ?? {}
    if (r['Create View']) out.views.push({ name: t.t, create: r['Create View'] })
    else out.tables.push({ name: t.t, create: r['Create Table'] ?? '', columns: cols.filter((c) => c.t === t.t).map((c) => ident(c.c)) })
  })
  trig.forEach((_, i) => {
    const r = (results[list.length + i] as Record<string, string>[] | undefined)?.[0] ?? {}
    if (r['SQL Original Statement']) out.triggers.push(r['SQL Original Statement'])
  })
  return out
}

/** Drops every table and view of `db`, keeping the database (and its grants). */
export async function emptyDatabase(conn: MysqlConnection, db: string): Promise<void> {
  const list = await rows<{ t: string; k: string }>(conn, `select table_name as t, table_type as k from information_schema.tables where table_schema = ${literal(db)}`)
  const views = list.filter((t) => t.k === 'VIEW').map((t) => `${ident(db)}.${ident(t.t)}`)
  const tables = list.filter((t) => t.k !== 'VIEW').map((t) => `${ident(db)}.${ident(t.t)}`)
  const sql = [views.length > 0 ? `drop view if exists ${views.join(', ')}` : '', tables.length > 0 ? `drop table if exists ${tables.join(', ')}` : ''].filter(Boolean)
  if (sql.length > 0) await conn.query(sql.join(';\n'))
}

/**
 * Copies `source` into `target`: created (replacing an older one) unless `into` says it exists
 * and is empty. Runs on `conn`, whose current database it changes.
 */
export async function copyDatabase(conn: MysqlConnection, source: string, target: string, options: { into?: boolean; meta?: CopyMeta } = {}): Promise<void> {
  const o = await objectsOf(conn, source)
  const src = ident(source)
  const dst = ident(target)
  const stmts: string[] = []
  if (!options.into) stmts.push(`drop database if exists ${dst}`, `create database ${dst} character set ${o.charset} collate ${o.collation}`)
  stmts.push(`use ${dst}`)
  for (const t of o.tables) stmts.push(t.create)
  for (const t of o.tables) if (t.columns.length > 0) stmts.push(`insert into ${dst}.${ident(t.name)} (${t.columns.join(', ')}) select ${t.columns.join(', ')} from ${src}.${ident(t.name)}`)
  await conn.query(stmts.join(';\n'))
  // Views name their tables with the database: point them at the copy. A view over another
  // view needs that one first, so failures are retried while others succeed.
  let views = o.views.map((v) => v.create.split(`${src}.`).join(`${dst}.`))
  while (views.length > 0) {
    const failed: string[] = []
    let lastError: unknown
    for (const v of views) await conn.query(v).catch((err: unknown) => (failed.push(v), (lastError = err)))
    if (failed.length === views.length) throw lastError
    views = failed
  }
  for (const t of o.triggers) await conn.query(t)
  if (options.meta) await register(conn, target, options.meta)
}

/** Opens a maintenance session on the server of `url` (in its database) and copies. */
export function copyOnServer(url: string, source: string, target: string, meta: CopyMeta): Promise<void> {
  return withMaintenance(withDatabase(url, source), (conn) => copyDatabase(conn, source, target, { meta }))
}
