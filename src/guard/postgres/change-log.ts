// What changed since the clean state, logged as it happens: the cost of a check follows what the
// test wrote, not the size of the schema.
//
// - Rows: statement-level triggers with transition tables on every watched table append the keys
//   of the rows each statement touched (or, for a table without a key, how many) to an unlogged
//   table, `<shadow>_changes.log`. They fire for every session, in replica mode too (ENABLE
//   ALWAYS), and for TRUNCATE. Keys are read through `to_jsonb(row)`, so a test that renames or
//   drops a key column gets nulls (the table is then restored whole), never an error.
// - Sequences and DDL write no rows: `pg_walinspect` lists the WAL records that touched a
//   sequence, `pg_class` or `pg_trigger` since the clean state. Every watched sequence is
//   `setval` to its own value at the baseline (and by every restore), so its next `nextval`
//   always writes a record.
// - Reading is one round trip: the log (usually empty), the WAL position, the transactions left
//   open, and the WAL records when the position moved.
//
// Logical decoding was measured as the alternative (docs/guard.md): it needs no object in the
// database, but every `pg_logical_slot_get_changes` call throws away the session's catalog
// caches, which made a check cost 1–5 ms where this one costs a fraction of a millisecond.
import type { PgClient, PgResult } from '../../drivers/pg.ts'
import { createHash, randomBytes } from 'node:crypto'
import { changesSchema, type Catalog, type TableInfo } from './catalog.ts'
import { install, resetSequences, TRIGGERS, unavailable } from './change-log-install.ts'
import { quoteIdent, quoteLiteral } from './connection.ts'

/** What the log and the WAL say happened since the clean state. */
export interface LogRead {
  /** Sessions idle in a transaction: pid → ms open. */
  open: Map<number, number>
  /** Rows touched per table oid (a partition's counted at its root) and operation (`i`nsert, `o`ld/`n`ew row of an update, `u`pdate without key, `d`elete, `t`runcate). */
  counts: Array<{ rel: number; op: string; n: number }>
  /** Keys of the touched rows of tables with a key, in the order they were logged (at most `keyLimit + 1` per table). */
  keys: Array<{ rel: number; op: string; key: unknown[] | null }>
  /** Transactions whose log entries were read: the restore deletes exactly those. */
  xids: string[]
  /** Sequences someone other than rig wrote to, by file node. */
  sequences: Set<number>
  /** `last_value/is_called` of unlogged sequences (no WAL to read), by oid. */
  unloggedSequences: Map<number, string>
  /** Someone other than rig wrote to `pg_class`: tables may have been created, dropped or renamed. */
  catalogTouched: boolean
  /** Someone other than rig wrote to `pg_trigger`: rig's triggers may have been disabled for a while. */
  triggersTouched: boolean
}

interface ProbeRow {
  k: string
  a: string | null
  b: string | null
  c: string | null
  /** A string from a result row, a number from `check_call`'s JSON. */
  n: string | number | null
}

/** What `after_restore()` returns. */
interface AfterRow {
  r_lsn?: string
  r_xid?: string
  r_mark?: string
  r_others?: string | number
}

/** What the log says when {@link ChangeLog.quietQuery} found nothing moved: nothing. */
export const nothingRead = (): LogRead => ({ open: new Map(), counts: [], keys: [], xids: [], sequences: new Set(), unloggedSequences: new Map(), catalogTouched: false, triggersTouched: false })

const LSN = /^[0-9A-F]{1,8}\/[0-9A-F]{1,8}$/
const OWN_XIDS_KEPT = 32

/** What {@link ChangeLog.fusedSql} needs beyond the log. */
export interface FusedInput {
  catalog: Catalog
  /** Seeded tables: oid → quoted shadow copy. */
  shadows: ReadonlyMap<number, string>
  /** `last_value/is_called` per sequence oid at the baseline. */
  baseSequences: ReadonlyMap<number, string>
  /** Restore when the changes allow it (else read only). */
  restore: boolean
  /** Open transactions not to report. */
  ignorePids: readonly number[]
}

/** Why changes cannot be logged here, or the log. */
export type LogStart = { log: ChangeLog } | { reason: string }

/** Options of {@link ChangeLog.start}. */
export interface ChangeLogOptions {
  /** The schema of the shadow copies; the log lives in `<shadow>_changes`. */
  shadowSchema: string
  /** More touched rows than this in one table: it is restored whole, keys are not read. */
  keyLimit: number
}

/** The change log of one database, read and cleared through `client` (the guard's check session). */
export class ChangeLog {
  private client: PgClient
  private readonly schema: string
  private readonly inspect: string
  /** WAL insert position of the clean state. */
  private mark: string
  private readonly ownXids: string[] = []
  private readonly limit: number

  private constructor(client: PgClient, schema: string, inspect: string, mark: string, limit: number) {
    this.client = client
    this.schema = schema
    this.inspect = inspect
    this.mark = mark
    this.limit = limit
  }

  /**
   * Checks the server allows it (PostgreSQL 15+, a superuser, contrib's pg_walinspect), installs
   * the log and the triggers of `catalog` (kept from earlier baselines when unchanged), resets the
   * sequences' WAL-ahead counters and empties the log. Call it once the baseline is in place.
   */
  static async start(client: PgClient, catalog: Catalog, options: ChangeLogOptions): Promise<LogStart> {
    const why = await unavailable(client)
    if (why) return { reason: why }
    const schema = quoteIdent(changesSchema(options.shadowSchema))
    try {
      const { inspect, roots } = await install(client, schema, catalog)
      await resetSequences(client, catalog)
      const res = await client.query<{ lsn: string }>(`delete from ${schema}.log; select pg_current_wal_insert_lsn()::text as lsn`)
      const rows = (Array.isArray(res) ? (res as PgResult<{ lsn: string }>[]).at(-1)?.rows : res.rows) ?? []
      const log = new ChangeLog(client, schema, inspect, rows[0]?.lsn ?? '0/0', options.keyLimit)
      log.roots = roots
      await log.prepare(catalog)
      return { log }
    } catch (err) {
      return { reason: `the change log could not be installed: ${(err as Error).message}` }
    }
  }

  private async prepare(catalog: Catalog): Promise<void> {
    this.unloggedSequences = catalog.sequences.filter((s) => s.unlogged)
    const db = await this.client.query<{ db: string; cls: string; trg: string }>(
      `select oid::text as db, pg_relation_filenode('pg_class')::text as cls, pg_relation_filenode('pg_trigger')::text as trg from pg_database where datname = current_database()`,
    )
    const { db: dbOid = '0', cls = '1259', trg = '2620' } = db.rows[0] ?? {}
    this.db = Number(dbOid)
    this.catalogNodes = { cls: Number(cls), trg: Number(trg) }
    const gate = `(select go from g)`
    const prepared = await this.client.query(`select 1 from pg_prepared_statements where name = 'rig_probe'`)
    if (prepared.rows.length > 0) await this.client.query(`deallocate rig_probe`)
    await this.client.query(`prepare rig_probe(pg_lsn, xid[], int[]) as
with p as materialized (select pg_current_wal_insert_lsn() as i, pg_current_wal_flush_lsn() as f),
  g as materialized (select i, f, i <> $1 as go from p),
  c as materialized (select xmin, id, rel, op, k, n from ${this.schema}.log)
select 'p'::text as k, (select i from g)::text as a, (select f from g)::text as b, null::text as c, null::int8 as n
union all select 'x', pid::text, null, null, (extract(epoch from clock_timestamp() - xact_start) * 1000)::int8 from pg_stat_get_activity(null)
  where datid = ${this.db} and pid <> pg_backend_pid() and state like 'idle in transaction%' and pid <> all($3)
union all select 'c', rel::text, op::text, null, sum(coalesce(n, 1))::int8 from c group by rel, op
union all select 'l', rel::text, op::text, k::text, id from (select id, rel, op, k, row_number() over (partition by rel order by id) as rn from c where n is null) l
  where rn <= ${this.limit + 1}
union all select 'v', xmin::text, null, null, null from (select distinct xmin from c) v${this.unloggedSequences.map((q) => `
union all select 's', '${q.oid}', last_value::text || '/' || case when is_called then '1' else '0' end, null, null from ${q.sql}`).join('')}
union all select 'w', resource_manager, substring(coalesce(block_ref, '') || ' ' || coalesce(description, '') from '\\m\\d+/(\\d+/\\d+)\\M'), null, null
  from ${this.inspect}.pg_get_wal_records_info($1, (select f from g))
  where ${gate} and $1 < (select f from g) and xid <> all($2)
    and (resource_manager = 'Sequence' or (resource_manager = 'Heap' and record_type ~ '^(INSERT|UPDATE|HOT_UPDATE|DELETE)'
      and (block_ref like ${quoteLiteral(`% rel %/${this.db}/${this.catalogNodes.cls} fork %`)} or block_ref like ${quoteLiteral(`% rel %/${this.db}/${this.catalogNodes.trg} fork %`)})))`)
  }

  private db = 0
  private unloggedSequences: Catalog['sequences'] = []
  private catalogNodes = { cls: 1259, trg: 2620 }
  /** Leaf partitions' oids → their watched root's. */
  private roots = new Map<number, number>()
  private readonly root = (oid: number): number => this.roots.get(oid) ?? oid

  /**
   * Reads what happened since the clean state, in one round trip. WAL not flushed yet (an
   * asynchronous commit, a sequence) is flushed first: pg_walinspect reads flushed WAL only.
   * `ignorePids`: open transactions not to report (rig's transaction client).
   */
  async read(ignorePids: readonly number[]): Promise<LogRead> {
    if (!LSN.test(this.mark)) throw new Error(`bad WAL position ${this.mark}`)
    const xids = `{${this.ownXids.join(',')}}`
    const pids = `{${ignorePids.map((p) => Math.trunc(p)).join(',')}}`
    const res = (await this.client.query<ProbeRow>(
      `begin; select case when pg_current_wal_insert_lsn() > pg_current_wal_flush_lsn() then pg_logical_emit_message(true, 'rig-flush', '') end; commit;
       execute rig_probe('${this.mark}', '${xids}', '${pids}')`,
    )) as unknown as PgResult<ProbeRow> | PgResult<ProbeRow>[]
    return this.parse((Array.isArray(res) ? res.at(-1)?.rows : res.rows) ?? [])
  }

  /** The probe's rows as a {@link LogRead}; moves the mark to the flushed WAL when the position moved. */
  private parse(rows: readonly ProbeRow[]): LogRead {
    const out: LogRead = { open: new Map(), counts: [], keys: [], xids: [], sequences: new Set(), unloggedSequences: new Map(), catalogTouched: false, triggersTouched: false }
    const keys: Array<[number, LogRead['keys'][number]]> = []
    for (const r of rows) {
      if (r.k === 'p') {
        if (r.a !== this.mark && r.b && LSN.test(r.b)) this.mark = r.b
      } else if (r.k === 'x') out.open.set(Number(r.a), Number(r.n))
      else if (r.k === 'c') out.counts.push({ rel: this.root(Number(r.a)), op: r.b ?? '', n: Number(r.n) })
      else if (r.k === 'l') keys.push([Number(r.n), { rel: this.root(Number(r.a)), op: r.b ?? '', key: r.c ? (JSON.parse(r.c) as unknown[]) : null }])
      else if (r.k === 'v' && r.a) out.xids.push(r.a)
      else if (r.k === 's' && r.b) out.unloggedSequences.set(Number(r.a), r.b)
      else if (r.k === 'w' && r.b) {
        const [db, node] = r.b.split('/').map(Number)
        if (db !== this.db) continue
        if (r.a === 'Sequence') out.sequences.add(node as number)
        else if (node === this.catalogNodes.trg) out.triggersTouched = true
        else out.catalogTouched = true
      }
    }
    out.keys = keys.sort((a, b) => a[0] - b[0]).map((k) => k[1])
    return out
  }

  /**
   * Statements for a restore of what `read` returned: first (rig's own writes are not logged),
   * before COMMIT (clear the entries read, remember the transaction id), after it (the WAL
   * position, and whether anyone else wrote since the read: if not, the next check does not
   * look at the restore's own WAL records).
   */
  restoreSql(read: Pick<LogRead, 'xids'>): { head: string[]; beforeCommit: string[]; afterCommit: string } {
    const xids = read.xids.filter((x) => /^\d+$/.test(x))
    return {
      head: [`set local rig.restoring = 'on'`],
      beforeCommit: [
        ...(xids.length > 0 ? [`delete from ${this.schema}.log where xmin = any('{${xids.join(',')}}'::xid[])`] : []),
        `select set_config('rig.restore_xid', (txid_current() % 4294967296)::text, false)`,
      ],
      // The gate must be a sub-select: a volatile function in WHERE is not a one-time filter, and
      // pg_walinspect refuses a start position that is not behind the flushed WAL.
      afterCommit:
        `with f as materialized (select pg_current_wal_flush_lsn() as l) ` +
        `select pg_current_wal_insert_lsn()::text as lsn, current_setting('rig.restore_xid') as xid, txid_snapshot_xmax(txid_current_snapshot())::text as mark, ` +
        `(select count(*) from ${this.inspect}.pg_get_wal_records_info('${this.mark}', (select l from f)) where '${this.mark}'::pg_lsn < (select l from f) ` +
        `and xid <> all(array['0', current_setting('rig.restore_xid')]::xid[]))::int8 as others`,
    }
  }

  /** Meta rows written by this process, for this catalog, these shadows and this baseline. */
  private meta: { catalog: Catalog; shadows: ReadonlyMap<number, string>; sequences: ReadonlyMap<number, string>; gen: string } | undefined

  /**
   * The fused query failed (its transaction rolled back): the `meta` and `seqs` rows it wrote
   * are gone, so the next one writes them again. Without this, check_restore found no meta of
   * the current generation and left every later restore to the usual way until the next baseline.
   */
  fusedFailed(): void {
    this.meta = undefined
  }

  /** True when the log can be read and restored in one call: no unlogged sequence to read. */
  get fusable(): boolean {
    return this.unloggedSequences.length === 0 && LSN.test(this.mark)
  }

  /** Statements writing `meta` and `seqs` (see change-log-install.ts) when what they describe changed. */
  private metaSql(input: FusedInput): string[] {
    if (!this.metaStale(input)) return []
    const gen = randomBytes(6).toString('hex')
    this.meta = { catalog: input.catalog, shadows: input.shadows, sequences: input.baseSequences, gen }
    const lit = (v: string | undefined): string => (v === undefined ? 'null' : quoteLiteral(v))
    const byOid = new Map(input.catalog.tables.map((t) => [t.oid, t]))
    const rels = [...input.catalog.tables.map((t) => [t.oid, t] as const), ...[...this.roots].flatMap(([leaf, root]) => (byOid.has(root) ? [[leaf, byOid.get(root) as TableInfo] as const] : []))]
    const rows = rels.map(([rel, t]) => {
      const shadow = input.shadows.get(t.oid)
      const keys = `unnest($1::jsonb[]) k`
      const typed = t.pk.map((_, i) => `(k ->> ${i})::${t.pkTypes[i] ?? 'text'}`)
      const match = (alias: string): string =>
        t.pk.length === 1 ? `${alias}${t.pk[0]} = any(array(select ${typed[0]} from ${keys}))` : `(${t.pk.map((c) => `${alias}${c}`).join(', ')}) in (select ${typed.join(', ')} from ${keys})`
      const insert = (where: string): string => `insert into ${t.sql} (${t.columns}) overriding system value select ${t.columns} from ${shadow} s${where}`
      const keyed = t.pk.length > 0 && shadow !== undefined
      return `(${rel}, '${gen}', ${lit(keyed ? `delete from ${t.sql} where ${match('')}` : undefined)}, ${lit(keyed ? insert(` where ${match('s.')}`) : undefined)}, ${lit(`delete from ${t.sql}`)}, ${lit(shadow ? insert('') : undefined)}, ${lit(t.role)})`
    })
    const seqs = input.catalog.sequences.map((q) => {
      const [value = '1', called = '0'] = (input.baseSequences.get(q.oid) ?? '1/0').split('/')
      return `(${q.oid}, '${gen}', ${q.filenode}, ${/^-?\d+$/.test(value) ? value : '1'}, ${called === '1'})`
    })
    return [
      ...(rows.length > 0 ? [`insert into ${this.schema}.meta (rel, gen, del, ins, wdel, wins, runas) values ${rows.join(', ')} on conflict (rel) do update set gen = excluded.gen, del = excluded.del, ins = excluded.ins, wdel = excluded.wdel, wins = excluded.wins, runas = excluded.runas`] : []),
      ...(seqs.length > 0 ? [`insert into ${this.schema}.seqs values ${seqs.join(', ')} on conflict (oid) do update set gen = excluded.gen, node = excluded.node, value = excluded.value, called = excluded.called`] : []),
    ]
  }

  /**
   * The common case's check, for the restore session: true when the WAL insert position is
   * still the clean state's, the log is empty and no session of the database is idle in a
   * transaction — exactly when {@link fusedSql} would find nothing to report or restore. A named
   * statement (parsed and planned once per session) that never enters plpgsql: one short round
   * trip. When something moved it flushes the WAL as {@link fusedSql} would first (its own
   * transaction commits, synchronously, after the read), so that query need not
   * (`{ flushed: true }`). Undefined when the fused query has something else to do first (write
   * `meta`).
   */
  quietQuery(input: FusedInput): { name: string; text: string; values: unknown[] } | undefined {
    if (!LSN.test(this.mark) || this.metaStale(input)) return undefined
    const text =
      `with q as materialized (select pg_current_wal_insert_lsn() = $1::pg_lsn and not exists (select from ${this.schema}.log) ` +
      `and not exists (select from pg_stat_get_activity(null) s where s.datid = ${this.db} and s.pid <> pg_backend_pid() ` +
      `and s.state like 'idle in transaction%' and s.pid <> all($2::int[])) as quiet) ` +
      `select quiet, case when not quiet and pg_current_wal_insert_lsn() > pg_current_wal_flush_lsn() then pg_logical_emit_message(true, 'rig-flush', '') end as flush from q`
    // Named after its text: a later baseline's log reuses the statement the session prepared.
    return { name: `rig_quiet_${createHash('sha1').update(text).digest('hex').slice(0, 16)}`, text, values: [this.mark, `{${input.ignorePids.map((p) => Math.trunc(p)).join(',')}}`] }
  }

  /**
   * The whole per-test check as one named statement (prepared once per session, one round trip):
   * `CALL check_call(…)`, which with `look` first lists the application's transactions in flight
   * as the settle look does (any: it does nothing else), answers as {@link quietQuery} does when nothing moved and
   * otherwise runs what {@link fusedSql} runs (flush, `check_restore`, COMMIT, `after_restore`).
   * Only on a session whose search_path is `pg_catalog, pg_temp` (the procedure refuses any
   * other); read the row with {@link callResult}. Undefined when `meta` must be written first.
   */
  callQuery(input: FusedInput, look = false): { name: string; text: string; values: unknown[] } | undefined {
    if (!LSN.test(this.mark) || this.metaStale(input)) return undefined
    const text =
      `call ${this.schema}.check_call($1::pg_lsn, $2::xid[], $3::int[], ${this.db}, ${this.catalogNodes.cls}, ${this.catalogNodes.trg}, ${this.limit}, $4::text, $5::boolean, $6::boolean)`
    return {
      name: `rig_call_${createHash('sha1').update(text).digest('hex').slice(0, 16)}`,
      text,
      values: [this.mark, `{${this.ownXids.join(',')}}`, `{${input.ignorePids.map((p) => Math.trunc(p)).join(',')}}`, this.meta?.gen ?? '', input.restore, look],
    }
  }

  /** What {@link callQuery} returned, as {@link fusedResult} says it; undefined when nothing was written. */
  callResult(row: { got?: string | null; after?: string | null } | undefined): { read: LogRead; restored: 'on' | 'none' | 'off' } | undefined {
    if (!row?.got) return undefined
    const rows = JSON.parse(row.got) as ProbeRow[]
    return this.fusedRows(rows, row.after ? (JSON.parse(row.after) as AfterRow) : undefined)
  }

  private metaStale(input: FusedInput): boolean {
    const m = this.meta
    return !(m && m.catalog === input.catalog && m.shadows === input.shadows && m.sequences === input.baseSequences)
  }

  /**
   * The check and, when the changes allow it, the restore, as one simple query (one round
   * trip) for the restore session: flush, then in one transaction read the log and the WAL and
   * put the rows and sequences back (`check_restore`), then after COMMIT what the usual restore
   * reads after it (`after_restore`). Read the result with {@link fusedResult}.
   */
  fusedSql(input: FusedInput, options: { flushed?: boolean } = {}): { sql: string; index: number } {
    if (!LSN.test(this.mark)) throw new Error(`bad WAL position ${this.mark}`)
    const xids = `{${this.ownXids.join(',')}}`
    const pids = `{${input.ignorePids.map((p) => Math.trunc(p)).join(',')}}`
    const parts = [
      // Flushed by the quiet query just before, when it ran (quietQuery).
      ...(options.flushed ? [] : [`begin`, `select case when pg_current_wal_insert_lsn() > pg_current_wal_flush_lsn() then pg_logical_emit_message(true, 'rig-flush', '') end`, `commit`]),
      // The session is in replica mode already (set once: setting it resets cached plans);
      // check_restore sets rig.restoring when it restores.
      `begin`,
      ...this.metaSql(input),
      `select * from ${this.schema}.check_restore('${this.mark}', '${xids}', '${pids}', ${this.db}, ${this.catalogNodes.cls}, ${this.catalogNodes.trg}, ${this.limit}, '${this.meta?.gen ?? ''}', ${input.restore})`,
      `commit`,
      `select * from ${this.schema}.after_restore()`,
    ]
    return { sql: parts.join(';\n'), index: parts.length - 3 }
  }

  /**
   * What {@link fusedSql} returned: the read, and whether the changes were restored (`on`),
   * there was nothing to restore (`none`), or they are left to the usual restore (`off`).
   */
  fusedResult(results: ReadonlyArray<PgResult<Record<string, unknown>>>, index: number): { read: LogRead; restored: 'on' | 'none' | 'off' } {
    return this.fusedRows((results[index]?.rows ?? []) as unknown as ProbeRow[], results.at(-1)?.rows[0] as AfterRow | undefined)
  }

  private fusedRows(rows: readonly ProbeRow[], after: AfterRow | undefined): { read: LogRead; restored: 'on' | 'none' | 'off' } {
    const state = rows.find((r) => r.k === 'r')?.a
    const read = this.parse(rows.filter((r) => r.k !== 'r'))
    if (state === 'on' && after) {
      this.restored({ lsn: after.r_lsn, xid: after.r_xid, others: after.r_others })
      this.restoredMark = after.r_mark
    }
    return { read, restored: state === 'on' ? 'on' : state === 'none' ? 'none' : 'off' }
  }

  /** The transaction horizon after the last fused restore (`after_restore`). */
  restoredMark: string | undefined

  /** Records what the restore reported (`restoreSql().afterCommit`). */
  restored(row: { lsn?: string; xid?: string; others?: string | number }): void {
    if (row.xid && /^\d+$/.test(row.xid)) {
      this.ownXids.push(row.xid)
      if (this.ownXids.length > OWN_XIDS_KEPT) this.ownXids.shift()
    }
    // Nobody else wrote since the read: the restore's own records are the only new WAL.
    if (Number(row.others) === 0 && row.lsn && LSN.test(row.lsn)) this.mark = row.lsn
  }

  /**
   * False when one of rig's triggers is missing on a table that still exists, disabled, or was
   * changed since the clean state (`markXid`: its transaction horizon): writes may have gone
   * unlogged meanwhile (`ALTER TABLE … DISABLE TRIGGER ALL` around a fixture load does that).
   */
  async intact(markXid: bigint, tables: readonly number[]): Promise<boolean> {
    const res = await this.client.query<{ bad: string }>(
      `select count(*)::text as bad from unnest($1::oid[]) as o where exists (select from pg_class where oid = o)
         and (select count(*) from pg_trigger t where t.tgrelid = o and t.tgname like 'rig\\_guard\\_%' and t.tgenabled = 'A'
              and not (age(t.xmin) <= (select age($2::text::xid)))) < ${TRIGGERS.length}`,
      [[...tables, ...this.roots.keys()], String(markXid % 4294967296n)],
    )
    return res.rows[0]?.bad === '0'
  }

  /** The session the log is read through. */
  get session(): PgClient {
    return this.client
  }

  /** Reads through another session (the first one went away): the log itself lives in the database. */
  async attach(client: PgClient, catalog: Catalog): Promise<void> {
    this.client = client
    await this.prepare(catalog)
  }
}
