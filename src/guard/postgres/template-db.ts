// Whole-database copies with CREATE DATABASE … TEMPLATE: named snapshots, the `snapshot`
// restore strategy and per-worker clones all use it. PostgreSQL refuses to copy a database
// while anyone is connected to it, so the copy terminates those sessions first and retries
// when a pool reconnects in between.
import os from 'node:os'
import { createHash } from 'node:crypto'
import type { PgClient } from '../../drivers/pg.ts'
import { quoteIdent, quoteLiteral, sqlState } from './connection.ts'

/** Recorded as the database comment, so a later run can tell whose copy it is. */
export interface CopyMeta {
  rig: 'snapshot' | 'worker'
  source: string
  name: string
  pid: number
  host: string
  createdAt: string
  runId?: string
}

/** PostgreSQL truncates identifiers at 63 bytes: keep names unique by hashing long ones. */
export function databaseName(prefix: string, parts: readonly string[]): string {
  const name = `${prefix}_${parts.join('_')}`.replace(/[^A-Za-z0-9_]/g, '_')
  if (Buffer.byteLength(name) <= 63) return name
  const hash = createHash('sha1').update(name).digest('hex').slice(0, 10)
  return `${name.slice(0, 52)}_${hash}`
}

/** Terminates every other session connected to `db`; waits for them to go where the server can. */
export async function terminateSessions(maint: PgClient, db: string): Promise<void> {
  await maint.query(
    `select pg_terminate_backend(pid${(await serverVersion(maint)) >= 140000 ? ', 2000' : ''}) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()`,
    [db],
  )
}

const versions = new WeakMap<PgClient, number>()
/** `server_version_num` of the server behind `client`. */
export async function serverVersion(client: PgClient): Promise<number> {
  let v = versions.get(client)
  if (v === undefined) {
    const r = await client.query<{ v: string }>(`select current_setting('server_version_num') as v`)
    v = Number(r.rows[0]?.v ?? 0)
    versions.set(client, v)
  }
  return v
}

/** `CREATE DATABASE target TEMPLATE source`, retried while sessions on `source` get in the way. */
export async function copyDatabase(maint: PgClient, source: string, target: string, meta: CopyMeta, strategy?: 'wal_log' | 'file_copy'): Promise<void> {
  const strat = strategy && (await serverVersion(maint)) >= 150000 ? ` strategy = ${strategy}` : ''
  for (let attempt = 1; ; attempt++) {
    await terminateSessions(maint, source)
    try {
      await maint.query(`create database ${quoteIdent(target)} template ${quoteIdent(source)}${strat}`)
      break
    } catch (err) {
      // 55006: "source database is being accessed by other users" (a pool reconnected).
      if (sqlState(err) !== '55006' || attempt >= 10) throw err
      await new Promise((r) => setTimeout(r, 20 * attempt))
    }
  }
  await maint.query(`comment on database ${quoteIdent(target)} is ${quoteLiteral(JSON.stringify(meta))}`)
}

/** Drops `db`, disconnecting its sessions. */
export async function dropDatabase(maint: PgClient, db: string): Promise<void> {
  if ((await serverVersion(maint)) >= 130000) {
    await maint.query(`drop database if exists ${quoteIdent(db)} with (force)`)
  } else {
    await terminateSessions(maint, db)
    await maint.query(`drop database if exists ${quoteIdent(db)}`)
  }
}

/** Copies rig made on this server, with their recorded metadata. */
export async function listCopies(maint: PgClient, kind: CopyMeta['rig']): Promise<Array<{ db: string; meta: CopyMeta }>> {
  const res = await maint.query<{ db: string; comment: string | null }>(
    `select datname as db, shobj_description(oid, 'pg_database') as comment from pg_database where datname like 'rig\\_%'`,
  )
  const out: Array<{ db: string; meta: CopyMeta }> = []
  for (const r of res.rows) {
    try {
      const meta = JSON.parse(r.comment ?? '') as CopyMeta
      if (meta.rig === kind) out.push({ db: r.db, meta })
    } catch {
      // not one of ours
    }
  }
  return out
}

/** Metadata for a copy made now by this process. */
export function copyMeta(rig: CopyMeta['rig'], source: string, name: string, runId?: string): CopyMeta {
  return { rig, source, name, pid: process.pid, host: os.hostname(), createdAt: new Date().toISOString(), ...(runId ? { runId } : {}) }
}

/** True when the process that made a copy is gone (same host only; elsewhere age decides). */
export function ownerGone(meta: CopyMeta): boolean {
  if (meta.host !== os.hostname()) return false
  try {
    process.kill(meta.pid, 0)
    return false
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH'
  }
}
