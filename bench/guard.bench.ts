// Guard benchmark: what it costs to put the database back after each test as the schema grows,
// rig's two ways of finding changes (logged by triggers, the default where the server allows it;
// counted table by table, the path before it and the fallback) against what suites do by hand,
// all measured in the same run on the same server:
//
//   columns  50, 200 and 1000 tables × 100 seeded rows; 50 tables + a seeded table of 1M rows
//            that each test changes one row of
//   rows     rig check + restore (with triggers: in one round trip, and in two as before),
//            rig check when nothing was written, rig's baseline (each with triggers and
//            counted), BEGIN … ROLLBACK, a hand-written DELETE of the touched rows (these two
//            on a copy without rig's triggers, interleaved test by test with rig's checks),
//            TRUNCATE of every table, drop + clone of the database from a template; and per test
//            with the test's own writes included (triggers make writes dearer)
//
//   node_modules/.bin/node bench/guard.bench.ts [--runs N] [--big-rows N] [--only 50,200,1000,1M] [--no-write]
//   node_modules/.bin/node bench/guard.bench.ts --ab owners|DIR [--runs N] [--only …]
//
// `--ab` measures only rig's check + restore, two sides interleaved test by test (guard-ab.ts):
// tables owned by the superuser against tables owned by a role (the restore's SET LOCAL ROLE),
// or another checkout DIR against this one; results in bench/results/guard-ab-{owners,checkout}.json
// and their sections of bench/RESULTS.md.
//
// Writes bench/results/guard.json and the guard section of bench/RESULTS.md (bench/README.md
// says what each figure measures).
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { connectPg, type PgClient } from '../src/drivers/pg.ts'
import { connectRedis } from '../src/drivers/redis.ts'
import { createGuard, type Guard, postgresStore, postgresWorkers, redisStore } from '../src/guard/index.ts'
import { defineConfig, type Environment, postgres, redis, startEnvironment } from '../src/index.ts'
import { allTables, handCleanup, schemaSql, testWrites, type Workload, writesOnEmpty } from './guard-workload.ts'
import { abColumn, abSection, abSides } from './guard-ab.ts'
import { writeResultsSection } from './lib/results-md.ts'
import { type Summary, summarize as summarizeTo } from './lib/stats.ts'

const here = path.dirname(fileURLToPath(import.meta.url))
// Sub-millisecond figures: 0.1 ms steps would hide the ratios.
const summarize = (xs: readonly number[]): Summary => summarizeTo(xs, 3)
const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '200' },
    'big-rows': { type: 'string', default: '1000000' },
    only: { type: 'string', default: '50,200,1000,1M' },
    'no-write': { type: 'boolean', default: false },
    ab: { type: 'string' },
  },
})
const RUNS = Number(values.runs)
const BIG = Number(values['big-rows'])
const log = (line: string): void => void process.stderr.write(`${line}\n`)

const WORKLOADS: Workload[] = [
  { label: '50', tables: 50, rowsPerTable: 100, bigRows: 0 },
  { label: '200', tables: 200, rowsPerTable: 100, bigRows: 0 },
  { label: '1000', tables: 1000, rowsPerTable: 100, bigRows: 0 },
  { label: '1M', tables: 50, rowsPerTable: 100, bigRows: BIG },
].filter((w) => values.only.split(',').includes(w.label))

/** The figures of one column, ms. */
type Row =
  | 'logCheckRestore' | 'countCheckRestore' | 'logNothing' | 'countNothing' | 'beginRollback' | 'handDelete' | 'truncateAll' | 'reclone'
  | 'logBaseline' | 'logInstall' | 'countBaseline' | 'writes' | 'logWrites'
  | 'logCycle' | 'countCycle' | 'beginRollbackCycle' | 'handDeleteCycle' | 'logSeparate'

const time = async (fn: () => Promise<unknown>): Promise<number> => {
  const t0 = performance.now()
  await fn()
  return performance.now() - t0
}

/** Samples until `n` are taken or `budgetMs` has passed (at least `min`), after `warm` unmeasured ones. */
async function sample(n: number, budgetMs: number, fn: (i: number) => Promise<number>, { warm = 3, min = 5 } = {}): Promise<number[]> {
  for (let i = 0; i < warm; i++) await fn(-1 - i)
  const out: number[] = []
  const t0 = performance.now()
  for (let i = 0; i < n && (out.length < min || performance.now() - t0 < budgetMs); i++) out.push(await fn(i))
  return out
}

/** Per test: its own writes, rig's check after them, rig's check after a test that wrote nothing. */
interface RigSamples {
  writes: number[]
  leak: number[]
  clean: number[]
  /** Check, then restore, each in its own round trip (`diff()` + `restore()`, as before the check restored in its own). */
  separate: number[]
  strategies: Set<string>
}

/**
 * rig's check after a test that wrote, then after one that wrote nothing, for one way of finding
 * changes; `between` runs before each sample (the baselines measured in the same moments).
 */
async function rigSeries(env: Environment, w: Workload, app: PgClient, detection: 'triggers' | 'count', runs: number, between?: (i: number) => Promise<void>): Promise<RigSamples> {
  const store = postgresStore(env.get('db'), { detection })
  const guard = createGuard({ stores: [store] })
  await guard.baseline()
  const out: RigSamples = { writes: [], leak: [], clean: [], separate: [], strategies: new Set() }
  try {
    await sample(runs, between ? 40_000 : 20_000, async (i) => {
      await between?.(i)
      const t0 = await time(() => app.query(testWrites(w, i)))
      const t1 = await time(async () => {
        const r = await guard.check('writes')
        const s = r.stores[0]
        if (!r.leaked || s?.detection !== detection || r.errors.length > 0) throw new Error(`expected a ${detection} leak, got ${JSON.stringify(r.stores)} ${r.errors.map((e) => e.message)}`)
        out.strategies.add(`${s.restore?.strategy ?? '?'}${s.restore?.withCheck ? ' (with the check)' : ''}`)
      })
      const t2 = await time(async () => {
        const r = await guard.check('reads')
        if (r.stores[0]?.changes.length) throw new Error(`the restore left ${JSON.stringify(r.stores[0].changes)}`)
      })
      let t3 = Number.NaN
      if (detection === 'triggers') {
        await app.query(testWrites(w, i))
        t3 = await time(async () => {
          const d = await store.diff()
          await store.restore(d, 'auto')
        })
        if ((await guard.check('reads')).stores[0]?.changes.length) throw new Error('the separate restore left changes')
      }
      if (i >= 0) out.writes.push(t0), out.leak.push(t1), out.clean.push(t2), out.separate.push(t3)
      return t1
    })
  } finally {
    await guard.close()
  }
  return out
}

async function baselineCost(env: Environment, detection: 'triggers' | 'count', runs: number): Promise<number[]> {
  const out: number[] = []
  for (let i = 0; i < runs; i++) {
    const guard: Guard = createGuard({ stores: [postgresStore(env.get('db'), { detection })] })
    out.push(await time(() => guard.baseline()))
    await guard.close()
  }
  return out
}

/** Removes rig's triggers and log: the hand-written methods run on a database without them. */
const dropLog = (app: PgClient): Promise<unknown> => app.query(`drop schema if exists rig_guard_changes cascade`)

const sum = (xs: readonly number[], ys: readonly number[]): number[] => xs.map((x, i) => x + (ys[i] ?? 0))

async function withClient<T>(url: string, fn: (c: PgClient) => Promise<T>): Promise<T> {
  const c = await connectPg(url)
  try {
    return await fn(c)
  } finally {
    await c.end()
  }
}

async function column(w: Workload): Promise<{ results: Partial<Record<Row, Summary>>; notes: Record<string, string>; pgVersion: string }> {
  const results: Partial<Record<Row, Summary>> = {}
  const notes: Record<string, string> = {}
  const env = await startEnvironment(defineConfig({ services: { db: postgres({ database: 'bench' }) } }))
  let pgVersion = ''
  try {
    const url = env.get('db').url
    let app = await connectPg(url)
    pgVersion = String((await app.query<{ v: string }>("select current_setting('server_version') as v")).rows[0]?.v)
    notes.seedS = `${((await time(() => app.query(schemaSql(w)))) / 1000).toFixed(1)} s`
    await app.query('vacuum analyze')
    const scale = w.tables >= 1000 || w.bigRows > 0 ? 4 : w.tables >= 200 ? 2 : 1
    const runs = Math.max(30, Math.round(RUNS / scale))
    const few = w.tables >= 1000 || w.bigRows > 0 ? 3 : 5

    // What suites do by hand, on a copy of the database as the application sees it (no triggers
    // of rig's), interleaved with rig's checks below, so that a shared machine's load weighs on
    // both alike.
    await app.end()
    const maintUrl = url.replace(/\/bench$/, '/postgres')
    await withClient(maintUrl, (m) => m.query(`create database bench_plain template bench`))
    app = await connectPg(url)
    const plain = await connectPg(url.replace(/\/bench$/, '/bench_plain'))
    const rollback = { reset: [] as number[], cycle: [] as number[] }
    const hand = { writes: [] as number[], reset: [] as number[] }
    const byHand = async (i: number): Promise<void> => {
      const t1 = await time(() => plain.query('begin'))
      const t2 = await time(() => plain.query(testWrites(w, i)))
      const t3 = await time(() => plain.query('rollback'))
      const t4 = await time(() => plain.query(testWrites(w, i)))
      const t5 = await time(() => plain.query(handCleanup(w, i)))
      if (i >= 0) rollback.reset.push(t1 + t3), rollback.cycle.push(t1 + t2 + t3), hand.writes.push(t4), hand.reset.push(t5)
    }

    log(`[${w.label}] rig, counted`)
    results.countBaseline = summarize(await baselineCost(env, 'count', few))
    const count = await rigSeries(env, w, app, 'count', runs)
    results.countCheckRestore = summarize(count.leak)
    results.countNothing = summarize(count.clean)
    results.countCycle = summarize(sum(count.writes, count.leak))
    notes.countStrategy = [...count.strategies].join(', ')

    log(`[${w.label}] rig, triggers: baselines`)
    results.logInstall = summarize([await time(() => baselineCost(env, 'triggers', 1))])
    results.logBaseline = summarize(await baselineCost(env, 'triggers', few))
    log(`[${w.label}] rig, triggers, interleaved with BEGIN … ROLLBACK and a hand DELETE`)
    // Test by test, as in a suite: each way starts after the other ran, and pays for waking its
    // connections' backends as a test does after the runner's own work (milliseconds on a
    // loaded machine, microseconds on a quiet one).
    const logged = await rigSeries(env, w, app, 'triggers', runs, byHand)
    await plain.end()
    await withClient(maintUrl, (m) => m.query(`drop database bench_plain`))
    results.beginRollback = summarize(rollback.reset)
    results.beginRollbackCycle = summarize(rollback.cycle)
    results.writes = summarize(hand.writes)
    results.handDelete = summarize(hand.reset)
    results.handDeleteCycle = summarize(sum(hand.writes, hand.reset))
    results.logCheckRestore = summarize(logged.leak)
    results.logSeparate = summarize(logged.separate)
    results.logNothing = summarize(logged.clean)
    results.logWrites = summarize(logged.writes)
    results.logCycle = summarize(sum(logged.writes, logged.leak))
    notes.triggersStrategy = [...logged.strategies].join(', ')
    await dropLog(app)

    log(`[${w.label}] drop + clone`)
    await app.end()
    const maint = await connectPg(url.replace(/\/bench$/, '/postgres'))
    await maint.query(`create database bench_tpl template bench`)
    results.reclone = summarize(
      await sample(few * 3, 20_000, async () => {
        await maint.query(`drop database if exists bench_copy with (force)`)
        return time(() => maint.query(`create database bench_copy template bench_tpl strategy = file_copy`))
      }, { warm: 1, min: few }),
    )
    await maint.query(`drop database if exists bench_copy with (force)`)
    await maint.query(`drop database bench_tpl`)
    await maint.end()

    log(`[${w.label}] TRUNCATE`)
    app = await connectPg(url)
    results.truncateAll = summarize(
      await sample(few * 4, 20_000, async () => {
        await app.query(writesOnEmpty(w))
        return time(() => app.query(`truncate ${allTables(w)}`))
      }, { warm: 1, min: few }),
    )
    await app.end()
  } finally {
    await env.stop()
  }
  return { results, notes, pgVersion }
}

/** Figures that do not depend on the schema's size: per-worker clones, Redis. */
async function extras(): Promise<Record<string, Summary>> {
  const out: Record<string, Summary> = {}
  const env = await startEnvironment(defineConfig({ services: { db: postgres({ database: 'bench' }), cache: redis() } }))
  try {
    const url = env.get('db').url
    const app = await connectPg(url)
    await app.query(schemaSql({ label: '50', tables: 50, rowsPerTable: 100, bigRows: 0 }))
    await app.end()
    for (const strategy of ['file_copy', 'wal_log'] as const) {
      const workers = postgresWorkers({ name: 'db', kind: 'postgres', target: url, startedByRig: true }, url, { strategy })
      const per: number[] = []
      for (let run = 0; run < 5; run++) {
        per.push((await time(() => workers.prepare(4, `bench${run}`))) / 4)
        await workers.drop(`bench${run}`)
      }
      out[`clonePerWorker_${strategy}`] = summarize(per)
    }
    const r = await connectRedis(env.get('cache').url)
    await Promise.all(Array.from({ length: 1000 }, (_, i) => r.sendCommand(['SET', `product:${i}`, `value ${i}`])))
    const guard = createGuard({ stores: [redisStore(env.get('cache'))] })
    await guard.baseline()
    const leak: number[] = []
    const clean: number[] = []
    await sample(100, 10_000, async (i) => {
      await Promise.all([1, 2, 3].map((k) => r.sendCommand(['SET', `session:${k}`, 'x', 'EX', '60'])))
      const t1 = await time(() => guard.check('logs in'))
      const t2 = await time(() => guard.check('reads'))
      if (i >= 0) leak.push(t1), clean.push(t2)
      return t1
    })
    out.redisDiffRestore = summarize(leak)
    out.redisNoLeak = summarize(clean)
    await guard.close()
    r.destroy()
  } finally {
    await env.stop()
  }
  return out
}

/** `--ab`: check + restore only, two sides interleaved (guard-ab.ts). */
async function mainAb(ab: string): Promise<void> {
  const loadBefore = os.loadavg()
  const sides = await abSides(ab)
  const columns: Record<string, Awaited<ReturnType<typeof abColumn>>> = {}
  for (const w of WORKLOADS) columns[w.label] = await abColumn(sides, w, Math.max(30, Math.round(RUNS / (w.tables >= 1000 || w.bigRows > 0 ? 4 : w.tables >= 200 ? 2 : 1))), log)
  const loadAfter = os.loadavg()
  const git = (dir: string): string => {
    try {
      return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: dir, encoding: 'utf8' }).trim()
    } catch {
      return '?'
    }
  }
  const commit = git(here)
  const base = ab === 'owners' ? undefined : git(path.resolve(ab))
  const load = (xs: number[]): string => xs.map((x) => x.toFixed(2)).join(' / ')
  const out = { date: new Date().toISOString(), commit, ...(base ? { base } : {}), ab: ab === 'owners' ? 'owners' : 'checkout', machine: { cpus: `${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}`, node: process.version, loadBefore: load(loadBefore), loadAfter: load(loadAfter) }, columns }
  console.log(JSON.stringify(out, null, 2))
  if (values['no-write']) return
  const what =
    ab === 'owners'
      ? `commit \`${commit}\`: the workload's tables owned by the superuser, against the same tables owned by a role without superuser rights, whose restore statements run as that role (\`SET LOCAL ROLE\`, issue 11's workload otherwise)`
      : `\`${base}\` (base) against \`${commit}\` (this)`
  const head = `${out.date.slice(0, 10)}, ${what}; each side on its own PostgreSQL, interleaved test by test, the first side alternating; ${out.machine.cpus}, Node ${out.machine.node}; load average ${out.machine.loadBefore} before, ${out.machine.loadAfter} after. Restore: ${Object.entries(columns).map(([l, c]) => `${l}: ${[...new Set(Object.values(c.sides).flatMap((s) => s.strategies))].join(', ')}`).join('; ')}.`
  fs.mkdirSync(path.join(here, 'results'), { recursive: true })
  fs.writeFileSync(path.join(here, 'results', `guard-ab-${out.ab}.json`), JSON.stringify(out, null, 2) + '\n')
  writeResultsSection(`guard-ab-${out.ab}`, abSection(ab === 'owners' ? '## Guard: restoring as the table\'s owner (`bench/guard.bench.ts --ab owners`)' : '## Guard: check + restore, before / after (`bench/guard.bench.ts --ab DIR`)', head, columns))
}

async function main(): Promise<void> {
  const loadBefore = os.loadavg()
  const started = performance.now()
  const columns: Record<string, { workload: Workload; results: Partial<Record<Row, Summary>>; notes: Record<string, string> }> = {}
  let pgVersion = ''
  for (const w of WORKLOADS) {
    const c = await column(w)
    columns[w.label] = { workload: w, results: c.results, notes: c.notes }
    pgVersion = c.pgVersion
  }
  log('per-worker clones, Redis')
  const other = await extras()
  const median = (label: string, row: Row): number => columns[label]?.results[row]?.median ?? Number.NaN
  const ratio = (a: number, b: number): number => Math.round((a / b) * 10) / 10
  const ratios: Record<string, Record<string, number>> = {}
  const targets: Record<string, boolean> = {}
  for (const label of Object.keys(columns)) {
    const rollback = median(label, 'beginRollback')
    ratios[label] = {
      resetVsRollback: ratio(median(label, 'logCheckRestore'), rollback),
      cycleVsRollback: ratio(median(label, 'logCycle'), median(label, 'beginRollbackCycle')),
      countVsLog: ratio(median(label, 'countCheckRestore'), median(label, 'logCheckRestore')),
      separateVsLog: ratio(median(label, 'logSeparate'), median(label, 'logCheckRestore')),
      truncateVsLog: ratio(median(label, 'truncateAll'), median(label, 'logCheckRestore')),
      writesWithTriggers: ratio(median(label, 'logWrites'), median(label, 'writes')),
    }
    const limit = label === '50' ? 1 : label === '1M' ? 5 : 2
    targets[`checkRestore_${label}_le${limit}ms`] = median(label, 'logCheckRestore') <= limit
    targets[`nothingWritten_${label}_le0.5ms`] = median(label, 'logNothing') <= 0.5
    targets[`cycle_${label}_within5xRollback`] = (ratios[label]?.cycleVsRollback ?? Infinity) <= 5
  }
  let commit = ''
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: here, encoding: 'utf8' }).trim()
  } catch {}
  const machine = {
    cpus: `${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}`,
    memGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    postgres: pgVersion,
    /** The benchmark's scheduling priority (`nice`; its PostgreSQL servers inherit it). */
    nice: os.getPriority(),
    loadBefore: loadBefore.map((x) => Math.round(x * 100) / 100),
    loadAfter: os.loadavg().map((x) => Math.round(x * 100) / 100),
  }
  const out = { date: new Date().toISOString(), commit, runs: RUNS, machine, columns, other, ratios, targets, totalS: Math.round((performance.now() - started) / 100) / 10 }
  console.log(JSON.stringify(out, null, 2))
  if (values['no-write']) return
  fs.mkdirSync(path.join(here, 'results'), { recursive: true })
  fs.writeFileSync(path.join(here, 'results', 'guard.json'), JSON.stringify(out, null, 2) + '\n')
  writeResultsSection('guard', section(out))
}

const ROWS: Array<[Row, string]> = [
  ['logCheckRestore', 'rig check + restore, changes logged by triggers (one round trip)'],
  ['logSeparate', 'the same, check and restore in two round trips (before)'],
  ['countCheckRestore', 'rig check + restore, changes counted (before; the fallback)'],
  ['logNothing', 'rig check, nothing written, triggers'],
  ['countNothing', 'rig check, nothing written, counted'],
  ['beginRollback', 'BEGIN … ROLLBACK (blind to other processes)'],
  ['handDelete', 'hand-written DELETE of the touched rows'],
  ['truncateAll', 'TRUNCATE every table (seed data lost)'],
  ['reclone', 'drop + clone from template (file_copy)'],
  ['logBaseline', "rig's baseline, triggers (installed)"],
  ['logInstall', "rig's first baseline, triggers (installs them)"],
  ['countBaseline', "rig's baseline, counted"],
]

/** Per test, the test's own writes included: what a suite pays. */
const CYCLES: Array<[Row, string]> = [
  ['writes', "the test's writes, no triggers"],
  ['logWrites', "the test's writes, rig's triggers on"],
  ['logCycle', 'writes + rig check + restore, triggers'],
  ['countCycle', 'writes + rig check + restore, counted'],
  ['beginRollbackCycle', 'BEGIN + writes + ROLLBACK'],
  ['handDeleteCycle', 'writes + hand-written DELETE'],
]

function section(o: { date: string; commit: string; machine: Record<string, unknown>; columns: Record<string, { workload: Workload; results: Partial<Record<Row, Summary>>; notes: Record<string, string> }>; other: Record<string, Summary>; ratios: Record<string, Record<string, number>>; targets: Record<string, boolean>; runs: number; totalS: number }): string {
  const labels = Object.keys(o.columns)
  const head = labels.map((l) => (l === '1M' ? `50 tables + ${(o.columns[l]?.workload.bigRows ?? 0).toLocaleString('en')}-row table` : `${l} tables`))
  const num = (x: number): string => (x < 1 ? x.toFixed(2) : x < 10 ? x.toFixed(1) : x.toFixed(0))
  const fmt = (s: Summary | undefined): string => (s ? `${num(s.median)} (${num(s.p90)})` : '—')
  const pass = (b: boolean | undefined): string => (b === undefined ? '—' : b ? '**pass**' : '**miss**')
  const m = o.machine
  const lines = [
    '## Guard (`bench/guard.bench.ts`)',
    '',
    `${o.date.slice(0, 10)}, commit \`${o.commit}\`; ${m.cpus}, ${m.memGiB} GiB, Node ${m.node}, PostgreSQL ${m.postgres}; load average ${(m.loadBefore as number[]).join(' / ')} before, ${(m.loadAfter as number[]).join(' / ')} after (other work shares this machine: read ratios)${m.nice ? `; run at nice ${m.nice as number}, its servers too` : ''}. ` +
      `Each column on its own PostgreSQL started by rig: N tables × 100 seeded rows, every other table referencing the previous one; a test inserts a row into \`t0010\`, inserts a row into \`t0021\` and changes a seeded row of it, and in the last column changes one row of the big table. BEGIN … ROLLBACK and the hand-written DELETE run on a copy of the database without rig's triggers, one test of theirs before each of rig's (triggers) on the same server; the two-round-trip restore runs in the same loop. Per-test cost after the test's own writes, ms: median (p90). Total ${o.totalS} s.`,
    '',
    `| per-test reset | ${head.join(' | ')} |`,
    `|---|${labels.map(() => '---').join('|')}|`,
    ...ROWS.map(([row, name]) => `| ${name} | ${labels.map((l) => fmt(o.columns[l]?.results[row])).join(' | ')} |`),
    `| rig (triggers) ÷ BEGIN … ROLLBACK | ${labels.map((l) => `${o.ratios[l]?.resetVsRollback}×`).join(' | ')} |`,
    `| counted ÷ triggers (check + restore) | ${labels.map((l) => `${o.ratios[l]?.countVsLog}×`).join(' | ')} |`,
    `| two round trips ÷ one (check + restore, triggers) | ${labels.map((l) => `${o.ratios[l]?.separateVsLog}×`).join(' | ')} |`,
    '',
    `| per test, its writes included | ${head.join(' | ')} |`,
    `|---|${labels.map(() => '---').join('|')}|`,
    ...CYCLES.map(([row, name]) => `| ${name} | ${labels.map((l) => fmt(o.columns[l]?.results[row])).join(' | ')} |`),
    `| rig (triggers) ÷ BEGIN … ROLLBACK | ${labels.map((l) => `${o.ratios[l]?.cycleVsRollback}×`).join(' | ')} |`,
    `| writes with triggers ÷ without | ${labels.map((l) => `${o.ratios[l]?.writesWithTriggers}×`).join(' | ')} |`,
    '',
    `Targets: check + restore ≤ 1 ms at 50 tables, ≤ 2 ms at 200 and 1000, ≤ 5 ms with the 1M-row table; nothing written ≤ 0.5 ms; within 5× of BEGIN … ROLLBACK in every column (per test, writes included: BEGIN and ROLLBACK alone cost two round trips).`,
    '',
    `| target | ${labels.join(' | ')} |`,
    `|---|${labels.map(() => '---').join('|')}|`,
    `| check + restore | ${labels.map((l) => pass(Object.entries(o.targets).find(([k]) => k.startsWith(`checkRestore_${l}_le`))?.[1])).join(' | ')} |`,
    `| nothing written ≤ 0.5 ms | ${labels.map((l) => pass(o.targets[`nothingWritten_${l}_le0.5ms`])).join(' | ')} |`,
    `| within 5× of BEGIN … ROLLBACK | ${labels.map((l) => pass(o.targets[`cycle_${l}_within5xRollback`])).join(' | ')} |`,
    '',
    `Restore strategy used: ${labels.map((l) => `${l}: triggers ${o.columns[l]?.notes.triggersStrategy}, counted ${o.columns[l]?.notes.countStrategy}`).join('; ')}. Seeding took ${labels.map((l) => `${o.columns[l]?.notes.seedS} (${l})`).join(', ')}.`,
    '',
    '| other figures (50 tables) | median | p90 | n |',
    '|---|---|---|---|',
    ...[
      ['per-worker clone, `file_copy` (ms per clone, 4 clones)', o.other.clonePerWorker_file_copy],
      ['per-worker clone, `wal_log` (ms per clone, 4 clones)', o.other.clonePerWorker_wal_log],
      ['Redis (1,000 keys): check + restore of 3 added keys', o.other.redisDiffRestore],
      ['Redis (1,000 keys): check when nothing was written', o.other.redisNoLeak],
    ].map(([name, s]) => `| ${name as string} | ${(s as Summary | undefined)?.median.toFixed(1) ?? '—'} ms | ${(s as Summary | undefined)?.p90.toFixed(1) ?? '—'} ms | ${(s as Summary | undefined)?.n ?? '—'} |`),
  ]
  return lines.join('\n')
}

await (values.ab ? mainAb(values.ab) : main())
