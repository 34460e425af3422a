// The PostgreSQL guard adapter: baseline, check, restore by the cheapest safe strategy,
// snapshots as template databases. Changes are logged by triggers where the server allows it
// (change-log.ts: cost follows what the test wrote), counted table by table otherwise
// (check-query.ts: cost follows the size of the schema).
import { createHash, randomBytes } from 'node:crypto'
import type { PgClient, PgResult } from '../../drivers/pg.ts'
import type { BaselineOptions, Change, InFlight, KeepOptions, KeptData, RestoreOutcome, RestoreStrategy, StoreAdapter, StoreDiff, StoreInfo, WorkerCloner } from '../adapter.ts'
import { GuardRefusedError, GuardRestoreError, GuardUsageError, StoreUnavailableError } from '../errors.ts'
import { type Catalog, catalogShape, changesSchema, MIGRATION_TABLES, readCatalog, type TableInfo, tablePlaces } from './catalog.ts'
import { buildCheckSql, type CheckRow } from './check-query.ts'
import { connectGuard, connectWaitMs, databaseOf, GuardConnectError, isConnectionError, openGuardSession, quoteIdent, redactUrl, servesOneSession, sqlState } from './connection.ts'
import { compare, type PgBaseline, parseCheck } from './postgres-diff.ts'
import { BASELINE_SNAPSHOT, PgSnapshots } from './postgres-snapshots.ts'
import { buildRestoreSql } from './restore-sql.ts'
import { TransactionClient } from './transaction-client.ts'
import { IN_FLIGHT_SQL, inFlight, type InFlightRow, queueRows, queueTablesSql } from './in-flight.ts'
import { type ChangeLog, type LogRead, nothingRead } from './change-log.ts'
import { ChangeDetection, type Detection } from './detection.ts'
import { type CreatedTable, logCheck } from './log-check.ts'
import type { KeyValues } from './log-diff.ts'
import { referencedFirst } from './fk-order.ts'
import { type PostgresWorkerOptions, postgresWorkers } from './worker-clones.ts'
import { assertMayClean } from '../safety.ts'
import { dropKeptSchemas, KEPT_SCHEMA, keepTables, schemaNames } from './keep.ts'

/** A service as the guard sees it: a started service, a state-file entry, or a name and url. */
export interface StoreSource {
  name: string
  url: string
  /** `process`/`embedded` mean rig started it; `external` or absent mean it did not. */
  provider?: string
  /** The CA file its certificate is verified against, for a store served over TLS (else `RIG_<NAME>_CA_CERT` of `env`). */
  ca?: string
  /** Its `RIG_<NAME>_*` variables (`env.get(name)` carries them). */
  env?: Readonly<Record<string, string>>
}

/** Options of {@link postgresStore}. */
export interface PostgresStoreOptions {
  /** Tables to ignore: globs over `schema.table` or `table`, e.g. `audit.*`, `*_log`. */
  exclude?: readonly string[]
  /**
   * Watch the bookkeeping tables of migration tools too (`schema_migrations`, `_prisma_migrations`, …).
   * @default false
   */
  includeMigrationTables?: boolean
  /**
   * Schema holding the copies of seeded tables; it is never watched.
   * @default 'rig_guard'
   */
  shadowSchema?: string
  /**
   * How long the check waits for a lock held by someone else before looking for open transactions.
   * @default 500
   */
  lockTimeoutMs?: number
  /**
   * How long the guard waits to connect, all attempts together (ms). An attempt that times out
   * (a loaded machine) is tried again with a longer timeout; a server that refuses connections
   * fails within a few seconds.
   * @default process.env.RIG_GUARD_CONNECT_TIMEOUT_MS ?? 60000
   */
  connectTimeoutMs?: number
  /**
   * Under `auto`, when more rows than this changed, TRUNCATE beats row-by-row DELETE.
   * @default 5000
   */
  truncateAbove?: number
  /** Options of the per-worker clones. */
  workers?: PostgresWorkerOptions
  /**
   * How changes are found. `triggers`: statement-level triggers log the keys of the rows each
   * statement touches, pg_walinspect lists the sequences and tables touched (PostgreSQL 15+, a
   * superuser, contrib's pg_walinspect): a check costs what the test wrote. `count`: every table
   * is counted after a write: works everywhere, costs a scan of each table. `auto` takes
   * `triggers` where the server allows it and rig may write to the database, else `count`;
   * `triggers` refuses to run without it (`RIG_GUARD_LOG_UNAVAILABLE`).
   * @default process.env.RIG_GUARD_DETECTION ?? 'auto'
   */
  detection?: 'auto' | 'triggers' | 'count'
  /**
   * Tables the application uses as queues (`billing_jobs`, `schema.table`): the guard waits for
   * them to be empty before each check (settle), on top of the application's open transactions.
   */
  queues?: readonly string[]
}


interface PgInternal {
  tables: number[]
  sequences: number[]
  created: CreatedTable[]
  dropped: TableInfo[]
  openPids: number[]
  writtenRows: number
  detection: Detection
  /** Log path: seeded tables restored by key. */
  keys?: Map<number, KeyValues[]>
  /** Log path: what was read, cleared by the restore. */
  read?: LogRead
}

/**
 * A baseline as another process adopts it ({@link PostgresStore.exportBaseline}): what the
 * check compares with, and what it was taken with.
 */
interface SharedBaseline {
  format: 'rig-pg-baseline-1'
  shadowSchema: string
  exclusions: string[]
  writable: boolean
  catalog: Catalog
  schemas: string[]
  shadows: Array<[number, string]>
  rows: Array<[number, number]>
  sequences: Array<[number, string]>
  catalogPrint: string
  /** {@link catalogShape} of `catalog` when the baseline was taken. */
  shape: string
  /** Changes were logged: the log is empty at the clean state and rows need not be counted. */
  logged: boolean
}

/** How long baseline DDL waits for a lock (autovacuum gives way after deadlock_timeout). */
export const BASELINE_LOCK_TIMEOUT = '10s'

/** Seeded tables at least this large get an index on their shadow copy's key: restores look rows up by key. */
const INDEXED_SHADOW_ROWS = 1000

const lastResult = <R>(r: PgResult<R> | PgResult<R>[]): PgResult<R> | undefined => (Array.isArray(r) ? r.at(-1) : r)

/** The guard adapter of one PostgreSQL database. */
export class PostgresStore implements StoreAdapter {
  readonly info: StoreInfo
  readonly workers: WorkerCloner
  readonly url: string
  private readonly options: PostgresStoreOptions
  private readonly shadowSchema: string
  private readonly snapshots: PgSnapshots
  private client: PgClient | undefined
  /**
   * Restores run on their own session: `session_replication_role` resets every cached plan of
   * the session it is set in, and re-planning the check's two prepared statements costs more
   * than running them.
   */
  private restoreClient: PgClient | undefined
  private tx: TransactionClient | undefined
  private catalog: Catalog = { tables: [], sequences: [], foreignKeys: [] }
  /** User schemas at the baseline: any other one a test created goes with its tables. */
  private baseSchemas = new Set<string>()
  private base: PgBaseline | undefined
  private baselineOptions: BaselineOptions | undefined
  private shadows = new Map<number, string>()
  private mark = 0n
  private replica = true
  /**
   * PGlite (the embedded fallback, or found so by `version()` on the first connection): one
   * session serves every connection, the application's too.
   */
  private embedded: boolean
  private embeddedChecked = false
  private readonly detect: ChangeDetection
  /** How long a connection may take, all attempts together. */
  private readonly connectWait: number

  constructor(source: StoreSource, options: PostgresStoreOptions = {}) {
    this.url = source.url
    this.options = options
    this.shadowSchema = options.shadowSchema ?? 'rig_guard'
    const startedByRig = source.provider === 'process' || source.provider === 'embedded'
    this.embedded = source.provider === 'embedded'
    // Known from the provider: no need to ask version().
    this.embeddedChecked = this.embedded
    this.info = { name: source.name, kind: 'postgres', target: redactUrl(source.url), startedByRig }
    this.snapshots = new PgSnapshots(source.url, source.name, () => this.disconnect())
    this.workers = postgresWorkers(this.info, source.url, options.workers)
    this.detect = new ChangeDetection(source.name, options.detection)
    this.connectWait = connectWaitMs(options.connectTimeoutMs)
  }

  /** The database this store guards. */
  get database(): string {
    return databaseOf(this.url)
  }

  /** How the next check finds changes, and why it counts them when it does. */
  get detection(): { method: Detection; reason?: string } {
    return this.detect.state
  }

  private exclusions(): string[] {
    return [...(this.options.exclude ?? []), ...(this.options.includeMigrationTables ? [] : MIGRATION_TABLES)]
  }

  /** Starts logging changes at the current (clean) state, where the options and the server allow it. */
  private startLog(): Promise<void> {
    if (this.baselineOptions?.writable && this.info.startedByRig) assertMayClean(this.info, {}, 'add change-logging triggers to')
    return this.detect.start({
      session: () => this.session(),
      catalog: this.catalog,
      shadowSchema: this.shadowSchema,
      keyLimit: this.options.truncateAbove ?? 5000,
      embedded: this.embedded,
      writable: this.baselineOptions?.writable ?? false,
      startedByRig: this.info.startedByRig,
      transactionClient: this.tx !== undefined,
    })
  }

  /** Logs changes again after they had to be counted: the state is clean now. */
  private async resume(): Promise<void> {
    if (!this.detect.due || this.tx) return
    await this.startLog()
    // Triggers re-created just now are part of the clean state, not a test's doing.
    this.mark = await this.horizon()
  }

  /** The transaction horizon now: rows and catalog entries written later are newer. */
  private async horizon(): Promise<bigint> {
    return BigInt((await this.run<{ mark: string }>(`select txid_snapshot_xmax(txid_current_snapshot())::text as mark`)).rows[0]?.mark ?? '0')
  }

  private statementTag = ''

  private async session(): Promise<PgClient> {
    if (!this.client) {
      this.client = await this.open()
      // Statement names are per connection; PGlite serves every connection from one session,
      // so a name must never be reused by another (or a reopened) connection.
      this.statementTag = randomBytes(4).toString('hex')
      // A connection that dies between checks must be reopened, not reused.
      this.client.on('error', () => void (this.client = undefined))
    }
    return this.client
  }

  private async restoreSession(): Promise<PgClient> {
    if (!this.restoreClient) {
      const client = await this.open()
      client.on('error', () => void (this.restoreClient = undefined))
      // Everything the restore runs is resolved in pg_catalog (every other name rig writes is
      // schema-qualified): a function or operator the application created in a schema of the
      // default path (public) is never picked by the superuser's restore statements. Not on
      // PGlite: its one session is the application's too, whose unqualified names would then
      // resolve in pg_catalog only ("relation … does not exist").
      if (!this.embedded) await client.query(`set search_path = pg_catalog, pg_temp`).catch(async (err: unknown) => {
        await client.end().catch(() => {})
        throw err
      })
      // Replica mode for the whole session: setting it resets the session's cached plans (the
      // fused check's among them), so it is set once, not per restore.
      if (this.replica && !this.embedded) {
        await client.query(`set session_replication_role = replica`).catch((err: unknown) => {
          if (sqlState(err) === '42501') this.replica = false
          else throw err
        })
      }
      this.restoreClient = client
    }
    return this.restoreClient
  }

  /** The last connect found the server refusing connections: the next one does not wait for it to start. */
  private down = false

  private async open(): Promise<PgClient> {
    try {
      const client = await openGuardSession(this.url, this.options.lockTimeoutMs ?? 500, { waitMs: this.connectWait, ...(this.down ? { refusedMs: 0 } : {}) })
      this.down = false
      if (!this.embeddedChecked) {
        this.embedded ||= await servesOneSession(client).catch(async (err: unknown) => {
          await client.end().catch(() => {})
          throw err
        })
        this.embeddedChecked = true
      }
      return client
    } catch (err) {
      this.down = err instanceof GuardConnectError && err.refused
      throw new StoreUnavailableError(this.info.name, this.info.target, err)
    }
  }

  private async run<R>(sql: string | { name: string; text: string; values: readonly unknown[] }, params?: readonly unknown[], on: 'check' | 'restore' = 'check'): Promise<PgResult<R>> {
    const client = on === 'check' ? await this.session() : await this.restoreSession()
    try {
      const res = typeof sql === 'string' ? await client.query<R>(sql, params) : await client.query<R>(sql)
      return lastResult(res) ?? { rows: [], rowCount: 0 }
    } catch (err) {
      if (isConnectionError(err)) {
        await this.disconnect()
        throw new StoreUnavailableError(this.info.name, this.info.target, err)
      }
      throw err
    }
  }

  private async disconnect(): Promise<void> {
    const sessions = [this.client, this.restoreClient]
    this.client = undefined
    this.restoreClient = undefined
    await Promise.all(sessions.map((c) => c?.end().catch(() => {})))
  }

  async baseline(options: BaselineOptions): Promise<void> {
    if (options.writable) assertMayClean(this.info, {}, 'write a baseline copy to')
    this.baselineOptions = options
    this.detect.stop('taking the baseline')
    this.catalog = await readCatalog(await this.session(), this.exclusions(), this.shadowSchema)
    this.baseSchemas = await schemaNames(await this.session())
    const counts = parseCheck(await this.check(new Set(), [], this.catalog, true), this.catalog)
    const seeded = this.catalog.tables.filter((t) => (counts.tables.get(t.oid)?.rows ?? 0) > 0)
    this.shadows = new Map(seeded.map((t) => [t.oid, `${quoteIdent(this.shadowSchema)}.${quoteIdent(`t${t.oid}`)}`]))
    if (options.writable) {
      // Unlogged: the copies must survive between tests, not crashes; no WAL makes them cheap.
      const schema = quoteIdent(this.shadowSchema)
      const copies = seeded.map((t) => `create unlogged table ${this.shadows.get(t.oid)} as select ${t.columns} from ${t.sql}`)
      // Large seeded tables are restored row by row by key: the copy needs the key's index.
      const indexes = seeded
        .filter((t) => t.pk.length > 0 && (counts.tables.get(t.oid)?.rows ?? 0) >= INDEXED_SHADOW_ROWS)
        .map((t) => `create index on ${this.shadows.get(t.oid)} (${t.pk.join(', ')})`)
      // The restore reloads a table as its owner (restore-sql.ts): that role reads its own table's copy.
      const owned = this.embedded ? [] : seeded.filter((t) => t.role !== undefined)
      const grants = [
        ...[...new Set(owned.map((t) => quoteIdent(t.role as string)))].map((r) => `grant usage on schema ${schema} to ${r}`),
        ...owned.map((t) => `grant select on ${this.shadows.get(t.oid)} to ${quoteIdent(t.role as string)}`),
      ]
      // Autovacuum analysing the previous copies gives way only after deadlock_timeout (1 s):
      // wait longer than the check's lock_timeout for it.
      await this.run([`begin`, `set local lock_timeout = '${BASELINE_LOCK_TIMEOUT}'`, `drop schema if exists ${schema} cascade`, `create schema ${schema}`, ...copies, ...indexes, ...grants, 'commit'].join(';\n')).catch(async (err: unknown) => {
        await this.client?.query('rollback').catch(() => {})
        throw err
      })
      if (options.snapshot) {
        this.assertSnapshots()
        await this.snapshots.save(BASELINE_SNAPSHOT)
      }
    }
    await this.startLog()
    this.mark = await this.horizon()
    const now = parseCheck(await this.check(new Set(this.shadows.keys()), [], this.catalog, true), this.catalog)
    this.base = {
      rows: new Map([...now.tables].map(([oid, t]) => [oid, t.rows])),
      sequences: now.sequences,
      catalog: now.catalog,
    }
  }

  /** The baseline just taken, for another process to adopt; its catalog's shape is read once, here. */
  async exportBaseline(): Promise<SharedBaseline | undefined> {
    if (!this.base || !this.baselineOptions || this.tx) return undefined
    return {
      shape: await catalogShape(await this.session(), this.catalog),
      format: 'rig-pg-baseline-1',
      shadowSchema: this.shadowSchema,
      exclusions: this.exclusions(),
      writable: this.baselineOptions.writable,
      catalog: this.catalog,
      schemas: [...this.baseSchemas],
      shadows: [...this.shadows],
      rows: [...this.base.rows],
      sequences: [...this.base.sequences],
      catalogPrint: this.base.catalog,
      logged: this.detect.log !== undefined,
    }
  }

  async adoptBaseline(state: unknown, options: BaselineOptions): Promise<boolean> {
    const s = state as Partial<SharedBaseline> | undefined
    if (s?.format !== 'rig-pg-baseline-1' || !s.catalog || options.snapshot || this.tx) return false
    if (s.writable !== options.writable || s.shadowSchema !== this.shadowSchema || s.exclusions?.join('\n') !== this.exclusions().join('\n')) return false
    if (options.writable) assertMayClean(this.info, {}, 'write a baseline copy to')
    this.detect.stop('taking the baseline')
    const catalog = s.catalog
    const base: PgBaseline = { rows: new Map(s.rows), sequences: new Map(s.sequences), catalog: s.catalogPrint ?? '' }
    // The store must hold exactly that baseline now. An earlier test file may have created,
    // dropped or altered tables (the catalog's fingerprint moved), a process that died may have
    // left rows behind: then a baseline is taken here, as when none is shared. Logged changes
    // leave the log empty at every clean state, so the log and the probe (sequences, catalog)
    // say it without counting the tables; otherwise every table is counted once.
    try {
      const rows = await this.check(new Set(), [], catalog, !s.logged, s.logged)
      const now = parseCheck(rows, catalog)
      if (now.catalog !== base.catalog || (await catalogShape(await this.session(), catalog)) !== s.shape) return false
      if (compare(now, base, catalog).changes.some((c) => c.kind !== 'open-transaction')) return false
      if (s.logged && (await this.run<{ any: boolean }>(`select exists (select from ${quoteIdent(changesSchema(this.shadowSchema))}.log) as any`)).rows[0]?.any !== false) return false
    } catch (err) {
      if (err instanceof StoreUnavailableError) throw err
      return false
    }
    this.catalog = catalog
    this.baseSchemas = new Set(s.schemas)
    this.shadows = new Map(s.shadows)
    this.baselineOptions = options
    this.base = base
    await this.startLog()
    this.mark = await this.horizon()
    return true
  }

  /**
   * Runs the check (in the transaction client's session when one is handed out: it alone sees
   * its uncommitted rows, and its open transaction hides them from the horizon, so the tables
   * are always counted there). `force` counts them even when nothing was written;
   * `probeOnly` never does.
   */
  private async check(seeded: ReadonlySet<number>, ignore: number[], catalog = this.catalog, force = false, probeOnly = false): Promise<CheckRow[]> {
    const { probe, tables } = buildCheckSql(catalog, seeded, this.shadowSchema)
    const exec = async (text: string, values: unknown[]): Promise<CheckRow[]> => {
      const statement = { name: `rig_check_${this.statementTag}_${createHash('sha1').update(text).digest('hex').slice(0, 16)}`, text, values }
      return (this.tx ? await this.tx.raw<CheckRow>(statement) : await this.run<CheckRow>(statement)).rows
    }
    const head = await exec(probe, [this.tx ? [...ignore, this.tx.pid] : ignore])
    const horizon = head.find((r) => r.k === 'm')?.a
    if (!tables || probeOnly || (!force && !this.tx && horizon === String(this.mark))) return head
    return [...head, ...(await exec(tables, tables.includes('$1') ? [String(this.mark % 4294967296n)] : []))]
  }

  /**
   * The check and the restore in one round trip on the restore session, where the changes are
   * logged and plain (rows and sequences: no DDL, no TRUNCATE, no transaction left open, no more
   * rows than `truncateAbove`): the read is the one {@link diff} makes and the changes are
   * reported the same way; anything else is left to {@link restore}, with the read made here.
   */
  async diffAndRestore(strategy: RestoreStrategy): Promise<{ diff: StoreDiff; restore?: RestoreOutcome }> {
    const r = await this.fusedCheck(strategy, false)
    return r && 'diff' in r ? r : { diff: await this.diff() }
  }

  /**
   * The settle look and {@link diffAndRestore} in the same CALL, when this store is the only one
   * the guard waits for: `inFlight` when the application had transactions in flight (nothing
   * else was done: wait and check as usual). Undefined where the CALL cannot run (PGlite, queue
   * tables to look at, the first check after a baseline, changes counted, ...).
   */
  async settleDiffAndRestore(strategy: RestoreStrategy): Promise<{ inFlight: InFlight[] } | { diff: StoreDiff; restore?: RestoreOutcome } | undefined> {
    if (this.embedded || (this.options.queues ?? []).length > 0) return undefined
    return this.fusedCheck(strategy, true)
  }

  /** {@link diffAndRestore} (with the settle look first when `look`); undefined where it cannot run. */
  private async fusedCheck(strategy: RestoreStrategy, look: boolean): Promise<{ inFlight: InFlight[] } | { diff: StoreDiff; restore?: RestoreOutcome } | undefined> {
    const log = this.detect.log
    const base = this.base
    let mayRestore = this.baselineOptions?.writable === true && (strategy === 'auto' || strategy === 'delete')
    try {
      assertMayClean(this.info)
    } catch {
      mayRestore = false
    }
    if (!log || !base || this.tx || !this.replica || !mayRestore || !log.fusable) return undefined
    const input = { catalog: this.catalog, shadows: this.shadows, baseSequences: base.sequences, restore: true, ignorePids: [] }
    // One CALL, prepared once: says so when the test wrote nothing (the common case), else
    // reads and restores. It needs the session's search_path to be pg_catalog's (not PGlite's).
    const call = this.embedded ? undefined : log.callQuery(input, look)
    if (look && !call) return undefined
    const t0 = performance.now()
    let fused: ReturnType<ChangeLog['fusedResult']>
    try {
      const session = await this.restoreSession()
      if (!this.replica) return undefined
      if (call) {
        const row = (await session.query<{ got: string | null; after: string | null; busy: string | null }>(call)).rows[0]
        if (row?.busy) return { inFlight: inFlight(JSON.parse(row.busy) as InFlightRow[]) }
        const read = log.callResult(row)
        if (!read) return { diff: this.nothingWritten() }
        fused = read
      } else {
        // The test wrote nothing: one short prepared statement says so.
        const quiet = log.quietQuery(input)
        if (quiet && (await session.query<{ quiet: boolean }>(quiet)).rows[0]?.quiet === true) return { diff: this.nothingWritten() }
        // The quiet query flushed the WAL when it found something moved: the fused query reads at once.
        const { sql, index } = log.fusedSql(input, { flushed: quiet !== undefined })
        const res = (await session.query(sql)) as unknown as PgResult<Record<string, unknown>>[]
        fused = log.fusedResult(res, index)
      }
    } catch (err) {
      log.fusedFailed()
      await this.restoreClient?.query('rollback').catch(() => {})
      if (err instanceof StoreUnavailableError) throw err
      if (isConnectionError(err)) {
        await this.disconnect()
        throw new StoreUnavailableError(this.info.name, this.info.target, err)
      }
      // A statement of the restore failed: the usual way reads again, restores and says why
      // (after the usual settle, when the look was part of the CALL).
      return look ? undefined : { diff: await this.diff() }
    }
    if (fused.restored === 'off') return { diff: await this.diff(fused.read) }
    if (fused.restored === 'on' && log.restoredMark) this.mark = BigInt(log.restoredMark)
    const diff = await this.diff(fused.read)
    const internal = diff.internal as PgInternal
    if (fused.restored === 'none' || diff.changes.length === 0 || diff.detection !== 'triggers') return { diff }
    const note = strategy === 'auto' ? `${internal.writtenRows} rows changed in ${internal.tables.length} tables` : undefined
    const places = tablePlaces(this.catalog)
    const touched = referencedFirst(internal.tables, this.catalog.foreignKeys).flatMap((o) => places.get(o)?.[0].display ?? [])
    await this.resume()
    return { diff, restore: { strategy: 'delete', touched, ms: performance.now() - t0, ...(note ? { note } : {}), withCheck: true } }
  }

  async diff(read?: LogRead): Promise<StoreDiff> {
    if (!this.base) throw new GuardUsageError('RIG_GUARD_NO_BASELINE', `store "${this.info.name}": call baseline() before diff()`)
    // Its uncommitted rows are logged in its own transaction, where the check cannot flush: count.
    if (this.detect.log && this.tx) this.detect.stop('a transaction client is in use')
    const log = this.detect.log
    if (log) {
      try {
        const d = await this.logDiff(log, this.base, read)
        if (d) return d
        this.detect.pause("rig's triggers were changed during the test: rows are counted once")
      } catch (err) {
        // The log lives in the database and survives a lost session; the next clean state reattaches it.
        this.detect.pause(`the change log could not be read: ${(err as Error).message}`)
        if (isConnectionError(err)) {
          await this.disconnect()
          throw new StoreUnavailableError(this.info.name, this.info.target, err)
        }
      }
    }
    const diff = await this.countDiff(this.base)
    if (diff.changes.length === 0) await this.resume()
    return diff
  }

  /**
   * The diff of a check the quiet statement answered: nothing written, no transaction open. Made
   * without going through the log's tallies, which walk every watched table (a tenth of a
   * millisecond at 1,000 tables, on a check that otherwise costs one short round trip).
   */
  private nothingWritten(): StoreDiff {
    const internal: PgInternal = { tables: [], sequences: [], created: [], dropped: [], openPids: [], writtenRows: 0, detection: 'triggers', keys: new Map(), read: nothingRead() }
    return { store: this.info.name, kind: 'postgres', changes: [], internal, detection: 'triggers' }
  }

  private async logDiff(log: ChangeLog, base: PgBaseline, read?: LogRead): Promise<StoreDiff | undefined> {
    const session = await this.session()
    if (log.session !== session) await log.attach(session, this.catalog)
    const r = await logCheck({
      log,
      session,
      catalog: this.catalog,
      seeded: this.shadows,
      baseRows: base.rows,
      baseSequences: base.sequences,
      markXid: this.mark,
      exclude: this.exclusions(),
      shadowSchema: this.shadowSchema,
      keyLimit: this.options.truncateAbove ?? 5000,
      ignorePids: [],
      ...(read ? { read } : {}),
    })
    if (!r) return undefined
    this.catalog = r.catalog
    const internal: PgInternal = { tables: r.tables, sequences: r.sequences, created: r.created, dropped: r.dropped, openPids: r.openPids, writtenRows: r.writtenRows, detection: 'triggers', keys: r.keys, read: r.read }
    return { store: this.info.name, kind: 'postgres', changes: r.changes, internal, detection: 'triggers' }
  }

  private async countDiff(base: PgBaseline): Promise<StoreDiff> {
    const internal: PgInternal = { tables: [], sequences: [], created: [], dropped: [], openPids: [], writtenRows: 0, detection: 'count' }
    const changes: Change[] = []
    let catalog = this.catalog
    let rows: CheckRow[] | undefined
    for (let attempt = 1; !rows; attempt++) {
      try {
        rows = await this.check(new Set(this.shadows.keys()), internal.openPids, catalog)
      } catch (err) {
        const state = sqlState(err)
        if (state === '42P01' && attempt <= 2) {
          // A watched table is gone (or renamed): find out which, and check the others.
          const current = await readCatalog(await this.session(), [], this.shadowSchema)
          const byOid = new Map(current.tables.map((t) => [t.oid, t]))
          internal.dropped = this.catalog.tables.filter((t) => !byOid.has(t.oid))
          // A renamed table keeps its oid: follow the new name, in the restore too.
          const named = (t: TableInfo): TableInfo => {
            const c = byOid.get(t.oid)
            return c ? { ...t, sql: c.sql, display: c.display } : t
          }
          this.catalog = { ...this.catalog, tables: this.catalog.tables.map(named) }
          catalog = { ...catalog, tables: this.catalog.tables.filter((t) => byOid.has(t.oid)) }
          catalog.sequences = catalog.sequences.filter((s) => current.sequences.some((c) => c.oid === s.oid))
        } else if (state === '55P03' && attempt <= 2) {
          // Someone holds a lock the check needs: almost always a transaction the test left open.
          const open = parseCheck(await this.check(new Set(), [], { tables: [], sequences: [], foreignKeys: [] }), catalog).openTransactions
          if (open.size === 0) throw err
          if (!this.baselineOptions?.writable) throw new GuardRefusedError(this.info.target, `transactions left open (pids ${[...open.keys()].join(', ')}) block the check, and rig may not terminate them on a store it did not start`, 'terminate sessions on')
          await this.terminate([...open.keys()])
          for (const [pid, ms] of open) changes.push({ subject: `pid ${pid}`, kind: 'open-transaction', count: 1, leak: true, text: `transaction left open (pid ${pid}, ${(ms / 1000).toFixed(1)} s), terminated` })
        } else throw err
      }
    }
    const now = parseCheck(rows, catalog)
    const cmp = compare(now, base, catalog)
    for (const c of cmp.changes) if (c.kind === 'open-transaction') internal.openPids.push(Number(c.subject.slice(4)))
    Object.assign(internal, { tables: cmp.tables, sequences: cmp.sequences, writtenRows: cmp.writtenRows })
    changes.push(...cmp.changes)
    for (const t of internal.dropped) changes.push({ subject: t.display, kind: 'dropped', count: 1, leak: true, text: `${t.display} dropped` })
    if (now.catalog !== base.catalog) {
      const current = await readCatalog(await this.session(), this.exclusions(), this.shadowSchema)
      const known = new Set(this.catalog.tables.map((t) => t.oid))
      internal.created = current.tables.filter((t) => !known.has(t.oid))
      for (const t of internal.created) changes.push({ subject: t.display, kind: 'created', count: 1, leak: true, text: `${t.display} created` })
      // Excluded tables come and go without being leaks; accept the new shape then.
      if (internal.created.length === 0 && internal.dropped.length === 0) base.catalog = now.catalog
    }
    return { store: this.info.name, kind: 'postgres', changes, internal, detection: 'count' }
  }

  private async terminate(pids: readonly number[]): Promise<void> {
    if (pids.length === 0) return
    assertMayClean(this.info, {}, 'terminate sessions on')
    await this.run(`select pg_terminate_backend(pid${(await this.version()) >= 140000 ? ', 2000' : ''}) from unnest($1::int[]) as pid`, [pids])
  }

  private serverVersionNum: number | undefined
  private async version(): Promise<number> {
    this.serverVersionNum ??= Number((await this.run<{ v: string }>(`select current_setting('server_version_num') as v`)).rows[0]?.v ?? 0)
    return this.serverVersionNum
  }

  async restore(diff: StoreDiff, strategy: RestoreStrategy): Promise<RestoreOutcome> {
    assertMayClean(this.info)
    if (!this.baselineOptions?.writable) throw new GuardUsageError('RIG_GUARD_READ_ONLY', `store "${this.info.name}": its baseline was taken read-only; take it again with \`writable: true\` before restoring`)
    const t0 = performance.now()
    const internal = diff.internal as PgInternal
    await this.terminate(internal.openPids)
    let chosen: Exclude<RestoreStrategy, 'auto'>
    let note: string | undefined
    const hasSnapshot = this.baselineOptions.snapshot
    if (strategy === 'auto') {
      if (internal.dropped.length > 0 && hasSnapshot) [chosen, note] = ['snapshot', 'a table was dropped: only the baseline snapshot brings it back']
      else if (this.tx) [chosen, note] = ['transaction', 'a transaction client is in use']
      else if (internal.writtenRows > (this.options.truncateAbove ?? 5000)) [chosen, note] = ['truncate', `${internal.writtenRows} rows changed: TRUNCATE is cheaper`]
      else [chosen, note] = ['delete', `${internal.writtenRows} rows changed in ${internal.tables.length} tables`]
    } else chosen = strategy
    if (chosen === 'snapshot') {
      if (!hasSnapshot) throw new GuardRestoreError('RIG_GUARD_NO_SNAPSHOT', this.info.name, `the \`snapshot\` strategy needs a baseline snapshot: create the guard with \`snapshot: true\``)
      await this.tx?.close()
      this.tx = undefined
      await this.snapshots.restore(BASELINE_SNAPSHOT)
      await this.baseline({ ...this.baselineOptions, snapshot: false })
      this.baselineOptions = { ...this.baselineOptions, snapshot: true }
      return { strategy: chosen, touched: [this.database], ms: performance.now() - t0, ...(note ? { note } : {}) }
    }
    if (chosen === 'transaction') {
      if (!this.tx) throw new GuardUsageError('RIG_GUARD_NO_TRANSACTION_CLIENT', `store "${this.info.name}": the \`transaction\` strategy needs the client from transactionClient()`)
      await this.tx.rollback()
      // Other sessions (the app) commit outside rig's transaction: clean what is left after the rollback.
      const rest = await this.diff()
      if (!rest.changes.some((c) => c.kind !== 'open-transaction')) return { strategy: chosen, touched: [], ms: performance.now() - t0, ...(note ? { note } : {}) }
      const more = await this.restore(rest, 'delete')
      return { ...more, strategy: chosen, ms: performance.now() - t0, note: 'rolled back, then deleted what other sessions committed' }
    }
    const touched = await this.restoreRows(internal, chosen)
    if (internal.dropped.length > 0) {
      // Forget the dropped tables so the next tests are not blamed for them again.
      const gone = new Set(internal.dropped.map((t) => t.oid))
      this.catalog = { ...this.catalog, tables: this.catalog.tables.filter((t) => !gone.has(t.oid)) }
      const now = parseCheck(await this.check(new Set(this.shadows.keys()), []), this.catalog)
      if (this.base) this.base.catalog = now.catalog
      await this.resume()
      throw new GuardRestoreError(
        'RIG_GUARD_TABLE_DROPPED',
        this.info.name,
        `${internal.dropped.map((t) => t.display).join(', ')} was dropped by the test and cannot be rebuilt from rows. ` +
          `The rest was restored; create the guard with \`snapshot: true\` so \`auto\` restores it from the baseline snapshot, or re-run your migrations.`,
      )
    }
    await this.resume()
    return { strategy: chosen, touched, ms: performance.now() - t0, ...(note ? { note } : {}) }
  }

  private async restoreRows(internal: PgInternal, strategy: 'delete' | 'truncate'): Promise<string[]> {
    const seqs = this.catalog.sequences.filter((s) => internal.sequences.includes(s.oid))
    const sequences = seqs.map((s) => {
      const [value, called] = (this.base?.sequences.get(s.oid) ?? '1/0').split('/')
      return { sql: s.sql, value: value ?? '1', called: called === '1' }
    })
    // Logged: restore the touched keys, clear what was read, and tell the log which transaction was rig's.
    const log = internal.detection === 'triggers' && internal.read && this.detect.log && this.replica ? this.detect.log : undefined
    for (;;) {
      const replica = this.replica
      const { sql, touched } = buildRestoreSql({
        strategy,
        catalog: this.catalog,
        changed: internal.tables,
        shadows: this.shadows,
        sequences,
        drop: internal.created.map((t) => t.sql),
        replica,
        asOwners: !this.embedded,
        mark: this.mark,
        ...(log && internal.read ? { keys: strategy === 'delete' ? (internal.keys ?? new Map()) : undefined, extra: log.restoreSql(internal.read) } : {}),
        // Counted: the log's entries are stale, it starts again at a clean state.
        ...(!log && this.detect.installed ? { extra: { beforeCommit: [`delete from ${quoteIdent(changesSchema(this.shadowSchema))}.log`] } } : {}),
      })
      try {
        const res = await this.run<{ mark: string; lsn?: string; xid?: string; others?: string }>(sql, undefined, 'restore')
        const row = res.rows[0]
        this.mark = BigInt(row?.mark ?? this.mark)
        if (log && row) log.restored(row)
        const schemas = internal.created.length > 0 ? await this.dropCreatedSchemas() : []
        return [...touched.map((t) => t.display), ...internal.created.map((t) => t.display), ...schemas.map((n) => `schema ${n}`)]
      } catch (err) {
        await this.restoreClient?.query('rollback').catch(() => {})
        // Not a superuser: no replica mode; fall back to foreign-key order once.
        if (sqlState(err) === '42501' && replica) {
          this.replica = false
          continue
        }
        if (err instanceof StoreUnavailableError) throw err
        throw new GuardRestoreError('RIG_GUARD_RESTORE_FAILED', this.info.name, `${strategy} restore failed: ${(err as Error).message}. Try strategy 'snapshot'.`, err)
      }
    }
  }

  /**
   * A session inside one long transaction, rolled back to a savepoint after each test: hand it to
   * code running in the test process. Switches `auto` to the `transaction` strategy.
   */
  async transactionClient(): Promise<TransactionClient> {
    if (!this.base) throw new GuardUsageError('RIG_GUARD_NO_BASELINE', `store "${this.info.name}": call baseline() before transactionClient()`)
    this.tx ??= await TransactionClient.open(this.url, { waitMs: this.connectWait })
    return this.tx
  }

  /** Runs an SQL script (a fixture file) on a connection of its own, as one simple query. */
  async runScript(text: string): Promise<void> {
    assertMayClean(this.info, {}, 'load a fixture into')
    const client = await connectGuard(this.url, { waitMs: this.connectWait }).catch((err: unknown) => {
      throw new StoreUnavailableError(this.info.name, this.info.target, err)
    })
    try {
      await client.query(text)
    } finally {
      await client.end().catch(() => {})
    }
  }

  /** Snapshots replace a database under its connections: the embedded fallback cannot do that. */
  private assertSnapshots(): void {
    if (!this.embedded) return
    throw new GuardUsageError(
      'RIG_SNAPSHOT_UNSUPPORTED',
      `store "${this.info.name}" runs on the embedded PGlite fallback, which serves one session to every connection and cannot replace a database under it: ` +
        `snapshots, fixture switching and the \`snapshot\` strategy need a PostgreSQL server. Install one (\`rig doctor\` says how); a fixture loaded for the whole run (\`rig({ fixture })\`) works without.`,
    )
  }

  /**
   * Schemas created since the baseline and left empty once their tables were dropped (a suite's
   * schema per test): dropped too, or the next run's `create schema` fails. One that still holds
   * something (a function, a type) is left alone.
   */
  private async dropCreatedSchemas(): Promise<string[]> {
    const now = await schemaNames(await this.restoreSession())
    const created = [...now].filter((n) => !this.baseSchemas.has(n) && !KEPT_SCHEMA.test(n))
    const dropped: string[] = []
    for (const n of created) {
      const res = await this.run<{ empty: boolean }>(`select not exists (select 1 from pg_class where relnamespace = $1::regnamespace) as empty`, [quoteIdent(n)], 'restore')
      if (!res.rows[0]?.empty) continue
      if (await this.run(`drop schema ${quoteIdent(n)}`, undefined, 'restore').then(() => true, () => false)) dropped.push(n)
    }
    return dropped
  }

  async keep(diff: StoreDiff, options: KeepOptions): Promise<KeptData> {
    assertMayClean(this.info, {}, 'keep data in')
    const internal = diff.internal as PgInternal
    const byOid = new Map(this.catalog.tables.map((t) => [t.oid, t]))
    const changed = internal.tables.flatMap((oid) => byOid.get(oid) ?? [])
    return keepTables(await this.session(), [...changed, ...internal.created], options)
  }

  async dropKept(): Promise<number> {
    assertMayClean(this.info, {}, 'drop kept data in')
    return dropKeptSchemas(await this.session())
  }

  async saveSnapshot(name: string): Promise<void> {
    assertMayClean(this.info, {}, 'save a snapshot on')
    this.assertSnapshots()
    await this.snapshots.save(name)
  }

  async restoreSnapshot(name: string): Promise<void> {
    assertMayClean(this.info, {}, 'restore a snapshot on')
    this.assertSnapshots()
    await this.tx?.close()
    this.tx = undefined
    await this.snapshots.restore(name)
    if (this.baselineOptions) await this.baseline({ ...this.baselineOptions, snapshot: false })
  }

  verifySnapshot(name: string): Promise<void> {
    this.assertSnapshots()
    return this.snapshots.verify(name)
  }

  listSnapshots(): Promise<string[]> {
    return this.snapshots.list()
  }

  async dropSnapshot(name: string): Promise<boolean> {
    assertMayClean(this.info, {}, 'drop a snapshot on')
    return this.snapshots.drop(name)
  }

  /** Transactions open on the application's connections to this database (see in-flight.ts). */
  async settle(): Promise<InFlight[]> {
    const tables = this.options.queues ?? []
    const waiting = tables.length > 0 ? queueRows((await this.run<{ t: string; n: string }>(queueTablesSql(tables))).rows) : []
    // PGlite serves every connection from one session: no transaction to tell apart.
    if (this.embedded) return waiting
    return [...waiting, ...inFlight((await this.run<InFlightRow>(IN_FLIGHT_SQL)).rows)]
  }

  async close(): Promise<void> {
    await this.tx?.close()
    this.tx = undefined
    this.detect.stop('closed')
    if (this.baselineOptions?.snapshot) await this.snapshots.drop(BASELINE_SNAPSHOT).catch(() => {})
    await this.disconnect()
  }
}

/**
 * A guard store for a PostgreSQL database.
 *
 * @example
 * const db = postgresStore(env.get('db'), { exclude: ['audit.*'] })
 */
export function postgresStore(source: StoreSource, options: PostgresStoreOptions = {}): PostgresStore {
  return new PostgresStore(source, options)
}
