// The MariaDB/MySQL guard adapter: baseline with shadow copies of seeded tables, a check that
// stops after one round trip when the server's write counters did not move, restores that
// touch only the tables that changed, snapshots and per-worker copies as databases.
import { connectMysql } from '../../drivers/mysql.ts'
import type { BaselineOptions, Change, InFlight, RestoreOutcome, RestoreStrategy, StoreAdapter, StoreDiff, StoreInfo, WorkerCloner } from '../adapter.ts'
import { GuardRefusedError, GuardRestoreError, GuardUsageError, StoreUnavailableError } from '../errors.ts'
import { matchesAny } from '../patterns.ts'
import { BASELINE_SNAPSHOT } from '../postgres/postgres-snapshots.ts'
import type { StoreSource } from '../postgres/postgres-store.ts'
import { redactUrl } from '../postgres/connection.ts'
import { assertMayClean } from '../safety.ts'
import { type Catalog, MIGRATION_TABLES, readCatalog, type TableInfo } from './catalog.ts'
import { databaseOf, errnoOf, ident } from './connection.ts'
import { GuardSessions } from './guard-sessions.ts'
import { type Counters, ddlMoved, delta, parseCounters, sameCounters, statusSql } from './counters.ts'
import { idleTransactions, OPEN_TRANSACTIONS_SQL } from './open-transactions.ts'
import { shadowDatabase } from './copy-database.ts'
import { IN_FLIGHT_SQL, inFlight } from './in-flight.ts'
import { MariadbSnapshots } from './mariadb-snapshots.ts'
import { buildRestoreStatements } from './restore-sql.ts'
import { blindChange, checksumSql, compareSql, countersTrusted, modifiedCountersSql, parseChecksums, parseModified, TABLES_SQL, type TableMarks, tableChange } from './table-check.ts'
import { mariadbWorkers } from './worker-clones.ts'

/** Options of {@link mariadbStore}. */
export interface MariadbStoreOptions {
  /** Tables to ignore: globs over `db.table` or `table`, e.g. `audit_*`. */
  exclude?: readonly string[]
  /**
   * Watch the bookkeeping tables of migration tools too (`schema_migrations`, `flyway_schema_history`, …).
   * @default false
   */
  includeMigrationTables?: boolean
  /**
   * Seconds the guard waits for a lock held by someone else (the server counts in whole seconds).
   * @default 2
   */
  lockTimeoutS?: number
  /**
   * Under `auto`, when more rows than this changed, TRUNCATE beats row-by-row DELETE.
   * @default 5000
   */
  truncateAbove?: number
}

interface Internal {
  changed: TableInfo[]
  created: string[]
  dropped: TableInfo[]
  /** Quoted table → baseline AUTO_INCREMENT. */
  autoinc: Map<string, string>
  openIds: number[]
  writtenRows: number
  /** Global counters when the full check began. */
  start: Counters
}

type Row = Record<string, unknown>
const asRows = (r: unknown): Row[] => (Array.isArray(r) ? (r as Row[]) : [])

/** The guard adapter of one MariaDB or MySQL database. */
export class MariadbStore implements StoreAdapter {
  readonly info: StoreInfo
  readonly url: string
  readonly workers: WorkerCloner
  private readonly options: MariadbStoreOptions
  private readonly db: string
  private readonly shadowDb: string
  private readonly snapshots: MariadbSnapshots
  private readonly sessions: GuardSessions
  private restorerCounters: Counters | undefined
  private catalog: Catalog = { tables: [] }
  private shadows = new Map<string, string>()
  private ddl = new Map<string, string>()
  /** Every base table at baseline, excluded ones too: anything else is created by a test. */
  private baseNames = new Set<string>()
  private trusted = new Set<string>()
  private mark: Counters = {}
  private marks: TableMarks = { rows: new Map(), checksums: new Map(), autoinc: new Map(), modified: new Map() }
  /** Compare every table by checksum at the next check (the marks may miss someone's write). */
  private verifyAll = true
  private baselineOptions: BaselineOptions | undefined
  /**
   * How the last check found its tables: `counters` (the server's write counters had not
   * moved), `table-counters` (InnoDB's per-table counters named the tables to compare),
   * `checksum` (every table whose counters could not be trusted compared by CHECKSUM TABLE),
   * and which tables it compared row by row. For diagnostics and benchmarks.
   */
  lastCheck: { by: 'counters' | 'table-counters' | 'checksum'; compared: string[] } = { by: 'counters', compared: [] }

  constructor(source: StoreSource, kind: 'mariadb' | 'mysql' = 'mariadb', options: MariadbStoreOptions = {}) {
    this.url = source.url
    this.options = options
    this.db = databaseOf(source.url)
    if (!this.db) throw new GuardUsageError('RIG_GUARD_NO_DATABASE', `store "${source.name}": the URL names no database (${redactUrl(source.url)}); add one, e.g. mysql://…/app`)
    this.shadowDb = shadowDatabase(this.db)
    this.info = { name: source.name, kind, target: redactUrl(source.url), startedByRig: source.provider === 'process' }
    this.sessions = new GuardSessions(source.url, this.info, options.lockTimeoutS ?? 2)
    this.sessions.onReset = () => void (this.restorerCounters = undefined)
    this.snapshots = new MariadbSnapshots(source.url, source.name, this.db)
    this.workers = mariadbWorkers(this.info, source.url)
  }

  private run(sql: string, on: 'check' | 'restore' = 'check'): Promise<unknown[]> {
    return this.sessions.run(sql, on)
  }

  private get flavor(): 'mariadb' | 'mysql' {
    return this.sessions.flavor
  }

  private exclude(): string[] {
    return [...(this.options.exclude ?? []), ...(this.options.includeMigrationTables ? [] : MIGRATION_TABLES)]
  }

  private excluded(name: string): boolean {
    return matchesAny(`${this.db}.${name}`, this.exclude()) || matchesAny(name, this.exclude())
  }

  async baseline(options: BaselineOptions): Promise<void> {
    if (options.writable) assertMayClean(this.info, {}, 'write a baseline copy to')
    this.baselineOptions = options
    this.catalog = await readCatalog((sql) => this.run(sql), this.exclude())
    const [tables, vars, counts] = await this.run(
      `${TABLES_SQL}; select @@innodb_stats_auto_recalc as r, @@innodb_stats_persistent as p; ${this.catalog.tables.length > 0 ? compareSql(this.catalog.tables, new Map()) : 'select 1 as i, 0 as n'}`,
    )
    const info = new Map(asRows(tables).map((r) => [String(r.t), r]))
    this.baseNames = new Set(info.keys())
    const v = asRows(vars)[0] ?? {}
    const on = (x: unknown): boolean => x === 1 || x === '1' || String(x).toUpperCase() === 'ON'
    this.trusted = new Set(this.catalog.tables.filter((t) => countersTrusted(t, String(info.get(t.name)?.o ?? ''), on(v.r), on(v.p))).map((t) => t.name))
    const seeded = this.catalog.tables.filter((t, i) => Number(asRows(counts).find((r) => Number(r.i) === i)?.n ?? 0) > 0)
    this.shadows = new Map()
    if (options.writable) {
      const sh = ident(this.shadowDb)
      this.shadows = new Map(seeded.map((t) => [t.name, `${sh}.${t.sql}`]))
      const copies = seeded.flatMap((t) => [`create table ${sh}.${t.sql} like ${t.sql}`, `insert into ${sh}.${t.sql} (${t.columns.join(', ')}) select ${t.columns.join(', ')} from ${t.sql}`])
      await this.run([`drop database if exists ${sh}`, `create database ${sh}`, ...copies].join(';\n'))
      if (options.snapshot) await this.snapshots.save(BASELINE_SNAPSHOT)
    }
    const shows = this.catalog.tables.map((t) => `show create table ${t.sql}`)
    const ddl = shows.length > 0 ? await this.run(shows.join(';\n')) : []
    this.ddl = new Map(this.catalog.tables.map((t, i) => [t.name, String(asRows(ddl[i])[0]?.['Create Table'] ?? '')]))
    await this.takeMarks()
  }

  /** Records every figure the next check compares with, from the store as it is now. */
  private async takeMarks(): Promise<void> {
    const sums = checksumSql(this.catalog)
    const res = await this.run(`${statusSql('global')}; ${modifiedCountersSql(this.flavor)}; ${TABLES_SQL}${sums ? `; ${sums}` : ''}${this.catalog.tables.length > 0 ? `; ${compareSql(this.catalog.tables, new Map())}` : ''}`)
    this.mark = parseCounters(asRows(res[0]))
    this.marks = {
      modified: parseModified(asRows(res[1])),
      autoinc: new Map(asRows(res[2]).map((r) => [String(r.t), r.ai === null ? null : String(r.ai)])),
      checksums: sums ? parseChecksums(asRows(res[3])) : new Map(),
      rows: new Map(asRows(res[4]).map((r) => [this.catalog.tables[Number(r.i)]?.name ?? '', Number(r.n)])),
    }
    this.verifyAll = false
  }

  async diff(): Promise<StoreDiff> {
    if (!this.baselineOptions) throw new GuardUsageError('RIG_GUARD_NO_BASELINE', `store "${this.info.name}": call baseline() before diff()`)
    const internal: Internal = { changed: [], created: [], dropped: [], autoinc: new Map(), openIds: [], writtenRows: 0, start: {} }
    const changes: Change[] = []
    // One round trip: the write counters, the transactions left open, and InnoDB's per-table
    // counters (read after the write counters, so they include everything those count).
    const [status, innodb, sessions, modifiedRows] = await this.run(`${statusSql('global')}; ${OPEN_TRANSACTIONS_SQL}; ${modifiedCountersSql(this.flavor)}`)
    for (const t of await idleTransactions((sql) => this.run(sql), this.sessions.threadIds, asRows(innodb), asRows(sessions))) {
      internal.openIds.push(t.thread)
      changes.push({ subject: `connection ${t.thread}`, kind: 'open-transaction', count: 1, leak: true, text: `transaction left open (connection ${t.thread}, ${t.activeS.toFixed(1)} s)` })
    }
    internal.start = parseCounters(asRows(status))
    if (sameCounters(internal.start, this.mark) && !this.verifyAll) {
      this.lastCheck = { by: 'counters', compared: [] }
      return { store: this.info.name, kind: this.info.kind, changes, internal: { ...internal, start: {} } }
    }
    const modified = parseModified(asRows(modifiedRows))
    // Which tables to compare: those InnoDB says were written to, where its counters can be
    // trusted (compared in the next round trip); the others by checksum first.
    const blind = this.verifyAll || ddlMoved(internal.start, this.mark)
    const trusted = (t: TableInfo): boolean => !blind && this.trusted.has(t.name) && modified.has(t.name)
    const counted = this.catalog.tables.filter((t) => trusted(t) && modified.get(t.name) !== this.marks.modified.get(t.name))
    const unsure = this.catalog.tables.filter((t) => !trusted(t))
    let res: unknown[]
    try {
      res = await this.run([TABLES_SQL, unsure.length > 0 ? checksumSql({ tables: unsure }) : counted.length > 0 ? compareSql(counted, this.shadows) : 'select 1'].join(';\n'))
    } catch (err) {
      // A table went away between the two round trips: look at every table again.
      if (errnoOf(err) !== 1146 || this.verifyAll) throw err
      this.verifyAll = true
      return this.diff()
    }
    const present = new Map(asRows(res[0]).map((r) => [String(r.t), r.ai === null ? null : String(r.ai)]))
    internal.created = [...present.keys()].filter((n) => !this.baseNames.has(n) && !this.excluded(n))
    internal.dropped = this.catalog.tables.filter((t) => !present.has(t.name))
    const live = this.catalog.tables.filter((t) => present.has(t.name))
    let compared = counted
    let rowsNow = unsure.length > 0 || counted.length > 0 ? asRows(res[1]) : []
    if (unsure.length > 0) {
      // CHECKSUM TABLE answers NULL for a table that is gone: those are in `dropped`.
      const sums = parseChecksums(rowsNow)
      const differ = new Set([...counted.map((t) => t.name), ...unsure.filter((t) => sums.get(t.name) !== this.marks.checksums.get(t.name)).map((t) => t.name)])
      compared = live.filter((t) => differ.has(t.name))
      rowsNow = compared.length > 0 ? asRows((await this.run(compareSql(compared, this.shadows)))[0]) : []
    }
    this.lastCheck = { by: unsure.length > 0 ? 'checksum' : 'table-counters', compared: compared.map((t) => t.name) }
    for (const r of rowsNow) {
      const t = compared[Number(r.i)] as TableInfo
      const before = this.marks.rows.get(t.name) ?? 0
      const seeded = before > 0
      const figures = { n: Number(r.n), a: Number(r.a), b: Number(r.b), c: Number(r.c) }
      // A seeded table without a shadow copy (a store rig may not write to): counts and checksum only.
      const c = seeded && !this.shadows.has(t.name) ? blindChange(t, figures.n - before) : tableChange(t, seeded, t.pk.length > 0, figures)
      if (!c) continue
      changes.push(c)
      internal.changed.push(t)
      internal.writtenRows += c.count
    }
    for (const t of live) {
      const base = this.marks.autoinc.get(t.name)
      if (base === null || base === undefined || present.get(t.name) === base) continue
      internal.autoinc.set(t.sql, base)
      // An advanced counter is drift, not data: restored, but it fails no test.
      if (!internal.changed.includes(t)) changes.push({ subject: t.name, kind: 'sequence', count: 1, leak: false, text: `${t.name} auto-increment advanced` })
    }
    for (const n of internal.created) changes.push({ subject: n, kind: 'created', count: 1, leak: true, text: `${n} created` })
    for (const t of internal.dropped) changes.push({ subject: t.name, kind: 'dropped', count: 1, leak: true, text: `${t.name} dropped` })
    if (changes.length === 0) {
      // Clean: anything written after the full check began is seen by the next one.
      this.mark = internal.start
      this.marks.modified = modified
      this.verifyAll = false
    }
    return { store: this.info.name, kind: this.info.kind, changes, internal }
  }

  async restore(diff: StoreDiff, strategy: RestoreStrategy): Promise<RestoreOutcome> {
    assertMayClean(this.info)
    if (!this.baselineOptions?.writable) throw new GuardUsageError('RIG_GUARD_READ_ONLY', `store "${this.info.name}": its baseline was taken read-only; take it again with \`writable: true\` before restoring`)
    const t0 = performance.now()
    const internal = diff.internal as Internal
    if (internal.openIds.length > 0) await this.run(internal.openIds.map((id) => `kill connection ${Number(id)}`).join(';\n'), 'restore').catch(() => {})
    let chosen: 'delete' | 'truncate' | 'snapshot'
    let note: string | undefined
    if (strategy === 'transaction') throw new GuardUsageError('RIG_GUARD_NO_TRANSACTION_CLIENT', `store "${this.info.name}": the \`transaction\` strategy is PostgreSQL's only; use 'auto', 'delete', 'truncate' or 'snapshot'`)
    if (strategy === 'auto') {
      if (internal.writtenRows > (this.options.truncateAbove ?? 5000)) [chosen, note] = ['truncate', `${internal.writtenRows} rows changed: TRUNCATE is cheaper`]
      else [chosen, note] = ['delete', `${internal.writtenRows} rows changed in ${internal.changed.length} tables`]
    } else chosen = strategy
    if (chosen === 'snapshot') {
      if (!this.baselineOptions.snapshot) throw new GuardRestoreError('RIG_GUARD_NO_SNAPSHOT', this.info.name, `the \`snapshot\` strategy needs a baseline snapshot: create the guard with \`snapshot: true\``)
      await this.snapshots.restore(BASELINE_SNAPSHOT)
      await this.baseline({ ...this.baselineOptions, snapshot: false })
      this.baselineOptions = { ...this.baselineOptions, snapshot: true }
      return { strategy: chosen, touched: [this.db], ms: performance.now() - t0, ...(note ? { note } : {}) }
    }
    const missing = internal.dropped.filter((t) => !this.ddl.get(t.name))
    const statements = buildRestoreStatements({
      strategy: chosen,
      changed: [...internal.changed, ...internal.dropped.filter((t) => this.shadows.has(t.name))],
      shadows: this.shadows,
      drop: internal.created.map(ident),
      create: internal.dropped.flatMap((t) => (this.ddl.get(t.name) ? [this.ddl.get(t.name) as string] : [])),
      autoinc: internal.autoinc,
    })
    let res: unknown[]
    try {
      // The restore session's own counters only move when it runs statements: the reading at
      // the end of its last restore is its reading now (one SHOW STATUS less per restore).
      if (!this.sessions.restoreOpen || !this.restorerCounters) this.restorerCounters = parseCounters(asRows((await this.run(statusSql('session'), 'restore'))[0]))
      res = await this.run([...statements, modifiedCountersSql(this.flavor), statusSql('session'), statusSql('global')].join(';\n'), 'restore')
    } catch (err) {
      await this.sessions.rollback()
      this.restorerCounters = undefined
      if (err instanceof StoreUnavailableError) throw err
      const locked = errnoOf(err) === 1205 || errnoOf(err) === 1213
      throw new GuardRestoreError('RIG_GUARD_RESTORE_FAILED', this.info.name, `${chosen} restore failed: ${(err as Error).message}.${locked ? ' A session holds locks on these tables: end its transaction.' : " Try strategy 'snapshot'."}`, err)
    }
    const [modified, sessionAfter, globalAfter] = [res.at(-3), res.at(-2), res.at(-1)].map(asRows)
    const others = delta(parseCounters(globalAfter ?? []), internal.start)
    const own = delta(parseCounters(sessionAfter ?? []), this.restorerCounters)
    this.restorerCounters = parseCounters(sessionAfter ?? [])
    if (internal.start.Handler_write === undefined) {
      // The counters had not moved (only a transaction was left open): the marks still hold.
    } else if (sameCounters(others, own)) {
      // Nobody else wrote between the check and the end of the restore: the figures read now are the clean state's.
      this.mark = parseCounters(globalAfter ?? [])
      this.marks.modified = parseModified(modified ?? [])
      for (const [table, value] of internal.autoinc) this.marks.autoinc.set(table.slice(1, -1).replace(/``/g, '`'), value)
    } else {
      this.mark = internal.start
      this.verifyAll = true
    }
    if (internal.created.length > 0 || internal.dropped.length > 0) this.verifyAll = true
    if (missing.length > 0) {
      throw new GuardRestoreError('RIG_GUARD_TABLE_DROPPED', this.info.name, `${missing.map((t) => t.name).join(', ')} was dropped by the test and its definition is unknown. The rest was restored; re-run your migrations.`)
    }
    const touched = [...internal.changed.map((t) => t.name), ...internal.created, ...internal.dropped.map((t) => t.name)]
    return { strategy: chosen, touched, ms: performance.now() - t0, ...(note ? { note } : {}) }
  }

  /** Runs an SQL script (a fixture file) on a connection of its own; several statements allowed. */
  async runScript(text: string): Promise<void> {
    assertMayClean(this.info, {}, 'load a fixture into')
    const conn = await connectMysql(this.url, { timeoutMs: 5000, multipleStatements: true }).catch((err: unknown) => {
      throw new StoreUnavailableError(this.info.name, this.info.target, err)
    })
    try {
      await conn.query(text)
    } finally {
      await conn.end().catch(() => conn.destroy())
    }
  }

  saveSnapshot(name: string): Promise<void> {
    assertMayClean(this.info, {}, 'save a snapshot on')
    return this.snapshots.save(name)
  }

  async restoreSnapshot(name: string): Promise<void> {
    assertMayClean(this.info, {}, 'restore a snapshot on')
    await this.snapshots.restore(name)
    if (this.baselineOptions) await this.baseline({ ...this.baselineOptions, snapshot: false })
  }

  listSnapshots(): Promise<string[]> {
    return this.snapshots.list()
  }

  dropSnapshot(name: string): Promise<boolean> {
    assertMayClean(this.info, {}, 'drop a snapshot on')
    return this.snapshots.drop(name)
  }

  /** Statements and transactions in flight on the application's sessions of this database (see in-flight.ts). */
  async settle(): Promise<InFlight[]> {
    const [innodb, sessions] = await this.run(IN_FLIGHT_SQL)
    return inFlight(asRows(innodb), asRows(sessions), this.sessions.threadIds)
  }

  async close(): Promise<void> {
    if (this.baselineOptions?.snapshot) await this.snapshots.drop(BASELINE_SNAPSHOT).catch(() => {})
    if (this.baselineOptions?.writable && this.shadows.size > 0) await this.run(`drop database if exists ${ident(this.shadowDb)}`).catch(() => {})
    await this.sessions.close()
  }
}

/**
 * A guard store for a MariaDB or MySQL database (the one in the URL).
 *
 * @example
 * const db = mariadbStore(env.get('db'), { exclude: ['audit_*'] })
 */
export function mariadbStore(source: StoreSource, options: MariadbStoreOptions & { kind?: 'mariadb' | 'mysql' } = {}): MariadbStore {
  const { kind, ...rest } = options
  return new MariadbStore(source, kind ?? 'mariadb', rest)
}
