// Guard benchmark: per-test leak check + restore on a 50-table schema (100 seeded rows per
// table, a test that writes to 2 tables), against TRUNCATE-every-table and re-clone-from-
// template measured in the same run; the cost when nothing leaked; clone time per worker DB.
//
//   node_modules/.bin/node bench/guard.bench.ts [--runs N] [--no-write]
//
// Writes bench/results/guard.json and the guard section of bench/RESULTS.md.
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { connectPg, type PgClient } from '../src/drivers/pg.ts'
import { connectRedis } from '../src/drivers/redis.ts'
import { createGuard, postgresStore, postgresWorkers, redisStore } from '../src/guard/index.ts'
import { defineConfig, postgres, redis, startEnvironment } from '../src/index.ts'
import { type Summary, summarize } from './lib/stats.ts'

const { values } = parseArgs({ options: { runs: { type: 'string', default: '200' }, 'no-write': { type: 'boolean', default: false } } })
const RUNS = Number(values.runs)
const TABLES = 50
const ROWS = 100
const here = path.dirname(new URL(import.meta.url).pathname)

const schema = (): string => {
  const out: string[] = []
  for (let i = 1; i <= TABLES; i++) {
    const t = `t${String(i).padStart(2, '0')}`
    // Every other table references the previous one, so restores deal with foreign keys.
    const ref = i > 1 && i % 2 === 0 ? `, parent_id int references t${String(i - 1).padStart(2, '0')}(id)` : ''
    out.push(`create table ${t} (id serial primary key, name text not null, n int not null default 0, created_at timestamptz default now()${ref})`)
    out.push(`insert into ${t} (name, n${ref ? ', parent_id' : ''}) select 'row ' || g, g${ref ? ', g' : ''} from generate_series(1, ${ROWS}) g`)
  }
  return out.join(';\n')
}

// "A test that writes to 2 tables": a new row in one, a new row and a changed seeded row in another.
const TEST_WRITES = `insert into t10 (name, n, parent_id) values ('new', 1, 5); insert into t21 (name) values ('new'); update t21 set n = n + 1 where id = 7`

async function time(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now()
  await fn()
  return performance.now() - t0
}

async function main(): Promise<void> {
  const loadBefore = os.loadavg()
  const started = performance.now()
  const env = await startEnvironment(defineConfig({ services: { db: postgres({ database: 'bench' }), cache: redis() } }))
  const results: Record<string, Summary> = {}
  const notes: Record<string, string> = {}
  let pgVersion = ''
  try {
    const url = env.get('db').url
    const app: PgClient = await connectPg(url)
    pgVersion = String((await app.query<{ v: string }>("select current_setting('server_version') as v")).rows[0]?.v)
    await app.query(schema())

    // rig: diff + restore (auto → delete) and the no-leak check, interleaved.
    const store = postgresStore(env.get('db'))
    const guard = createGuard({ stores: [store] })
    await guard.baseline()
    const leak: number[] = []
    const clean: number[] = []
    const strategies = new Set<string>()
    for (let i = 0; i < RUNS + 10; i++) {
      await app.query(TEST_WRITES)
      const tLeak = await time(async () => {
        const r = await guard.check('writes to 2 tables')
        if (!r.leaked) throw new Error('the benchmark test should have leaked')
        strategies.add(r.stores[0]?.restore?.strategy ?? '?')
      })
      const tClean = await time(async () => {
        const r = await guard.check('writes nothing')
        if (r.leaked) throw new Error('the restore left something behind')
      })
      if (i >= 10) leak.push(tLeak), clean.push(tClean)
    }
    results.rigDiffRestore = summarize(leak)
    results.rigNoLeak = summarize(clean)
    notes.rigDiffRestore = `strategy used: ${[...strategies].join(', ')}`

    // rig with the truncate strategy on the same workload.
    const tGuard = createGuard({ stores: [postgresStore(env.get('db'))], strategy: 'truncate' })
    await tGuard.baseline()
    const trunc: number[] = []
    for (let i = 0; i < Math.min(RUNS, 100) + 5; i++) {
      await app.query(TEST_WRITES)
      const t = await time(() => tGuard.check('writes to 2 tables'))
      if (i >= 5) trunc.push(t)
    }
    results.rigTruncateStrategy = summarize(trunc)
    await tGuard.close()
    await guard.close()

    // Baseline: TRUNCATE every table (what suites do after each test), then the same with the
    // seed data loaded again (what it takes to actually get back to the baseline).
    const all = Array.from({ length: TABLES }, (_, i) => `t${String(i + 1).padStart(2, '0')}`).join(', ')
    await app.query(`create schema seed; ${Array.from({ length: TABLES }, (_, i) => `create table seed.t${String(i + 1).padStart(2, '0')} as select * from t${String(i + 1).padStart(2, '0')}`).join('; ')}`)
    const reseed = Array.from({ length: TABLES }, (_, i) => {
      const t = `t${String(i + 1).padStart(2, '0')}`
      return `insert into ${t} select * from seed.${t}; select setval('${t}_id_seq', ${ROWS})`
    }).join('; ')
    const truncAll: number[] = []
    const truncReseed: number[] = []
    for (let i = 0; i < Math.min(RUNS, 60) + 5; i++) {
      await app.query(TEST_WRITES)
      const t1 = await time(() => app.query(`truncate ${all} restart identity cascade`))
      await app.query(reseed)
      await app.query(TEST_WRITES)
      const t2 = await time(() => app.query(`begin; truncate ${all} restart identity cascade; ${reseed}; commit`))
      if (i >= 5) truncAll.push(t1), truncReseed.push(t2)
    }
    results.truncateAll = summarize(truncAll)
    results.truncateAllReseed = summarize(truncReseed)
    await app.query('drop schema seed cascade')
    await app.end()

    // Baseline: re-clone the database from a template after each test.
    const maint = await connectPg(url.replace(/\/bench$/, '/postgres'))
    await maint.query(`select pg_terminate_backend(pid) from pg_stat_activity where datname = 'bench' and pid <> pg_backend_pid()`)
    await maint.query(`create database bench_tpl template bench`)
    const reclone: number[] = []
    for (let i = 0; i < 25; i++) {
      const t = await time(async () => {
        await maint.query(`drop database if exists bench_copy with (force)`)
        await maint.query(`create database bench_copy template bench_tpl`)
      })
      if (i >= 3) reclone.push(t)
    }
    results.recloneFromTemplate = summarize(reclone)
    for (const strategy of ['wal_log', 'file_copy'] as const) {
      const t = await time(async () => {
        await maint.query(`drop database if exists bench_copy with (force)`)
        await maint.query(`create database bench_copy template bench_tpl strategy = ${strategy}`)
      })
      notes[`reclone_${strategy}`] = `${t.toFixed(1)} ms`
    }
    await maint.query(`drop database if exists bench_copy with (force)`)
    await maint.query(`drop database bench_tpl`)
    await maint.end()

    // Per-worker clones: ms per clone, by strategy and concurrency.
    for (const [strategy, concurrency] of [['file_copy', 1], ['wal_log', 1], ['file_copy', 2], ['wal_log', 2]] as const) {
      const workers = postgresWorkers({ name: 'db', kind: 'postgres', target: url, startedByRig: true }, url, { strategy, concurrency })
      const per: number[] = []
      for (let run = 0; run < 5; run++) {
        const t = await time(() => workers.prepare(4, `bench${run}`))
        per.push(t / 4)
        await workers.drop(`bench${run}`)
      }
      results[`clonePerWorker_${strategy}_x${concurrency}`] = summarize(per)
    }

    // Redis: 1,000 baseline keys; a test adds 3 session keys.
    const r = await connectRedis(env.get('cache').url)
    await Promise.all(Array.from({ length: 1000 }, (_, i) => r.sendCommand(['SET', `product:${i}`, `value ${i}`])))
    const rGuard = createGuard({ stores: [redisStore(env.get('cache'))] })
    await rGuard.baseline()
    const rLeak: number[] = []
    const rClean: number[] = []
    for (let i = 0; i < Math.min(RUNS, 100) + 5; i++) {
      await Promise.all([1, 2, 3].map((k) => r.sendCommand(['SET', `session:${k}`, 'x', 'EX', '60'])))
      const t1 = await time(() => rGuard.check('logs in'))
      const t2 = await time(() => rGuard.check('reads'))
      if (i >= 5) rLeak.push(t1), rClean.push(t2)
    }
    results.redisDiffRestore = summarize(rLeak)
    results.redisNoLeak = summarize(rClean)
    await rGuard.close()
    r.destroy()
  } finally {
    await env.stop()
  }

  const ratio = (a: Summary | undefined, b: Summary | undefined): number => Math.round(((a?.median ?? 0) / (b?.median ?? 1)) * 10) / 10
  const fasterThanTruncate = ratio(results.truncateAll, results.rigDiffRestore)
  const fasterThanReseed = ratio(results.truncateAllReseed, results.rigDiffRestore)
  const fasterThanReclone = ratio(results.recloneFromTemplate, results.rigDiffRestore)
  const targets = {
    diffRestoreMedianLe5ms: (results.rigDiffRestore?.median ?? Infinity) <= 5,
    fasterThanTruncateAllGe8x: fasterThanTruncate >= 8,
    noLeakMedianLe2ms: (results.rigNoLeak?.median ?? Infinity) <= 2,
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
    loadBefore: loadBefore.map((x) => Math.round(x * 100) / 100),
    loadAfter: os.loadavg().map((x) => Math.round(x * 100) / 100),
  }
  const out = { date: new Date().toISOString(), commit, runs: RUNS, workload: { tables: TABLES, seededRowsPerTable: ROWS, testWrites: TEST_WRITES }, machine, results, ratios: { fasterThanTruncate, fasterThanReseed, fasterThanReclone }, targets, notes, totalS: Math.round((performance.now() - started) / 100) / 10 }
  console.log(JSON.stringify(out, null, 2))
  if (values['no-write']) return
  fs.mkdirSync(path.join(here, 'results'), { recursive: true })
  fs.writeFileSync(path.join(here, 'results', 'guard.json'), JSON.stringify(out, null, 2) + '\n')
  writeSection(out)
}

function writeSection(o: { date: string; commit: string; machine: Record<string, unknown>; results: Record<string, Summary>; ratios: Record<string, number>; targets: Record<string, boolean>; notes: Record<string, string>; runs: number; totalS: number }): void {
  const row = (label: string, s: Summary | undefined, target = '—'): string =>
    s ? `| ${label} | ${s.median.toFixed(1)} ms | ${s.p90.toFixed(1)} ms | ${s.min.toFixed(1)} ms | ${s.max.toFixed(1)} ms | ${s.n} | ${target} |` : `| ${label} | — | | | | | |`
  const pass = (b: boolean | undefined): string => (b ? '**pass**' : '**miss**')
  const m = o.machine
  const r = o.results
  const lines = [
    '<!-- guard:start -->',
    '## Guard (`bench/guard.bench.ts`)',
    '',
    `${o.date.slice(0, 10)}, commit \`${o.commit}\`; ${m.cpus}, ${m.memGiB} GiB, Node ${m.node}, PostgreSQL ${m.postgres}; load average ${(m.loadBefore as number[]).join(' / ')} before, ${(m.loadAfter as number[]).join(' / ')} after. ` +
      `Workload: 50 tables × 100 seeded rows (every other table references the previous one); each "test" inserts a row into \`t10\`, inserts a row into \`t21\` and updates a seeded row of \`t21\`. ${o.runs} runs after 10 warm-ups; total ${o.totalS} s.`,
    '',
    '| figure | median | p90 | min | max | n | target |',
    '|---|---|---|---|---|---|---|',
    row(`rig: leak check + restore (\`auto\`, ${o.notes.rigDiffRestore})`, r.rigDiffRestore, `≤ 5 ms: ${pass(o.targets.diffRestoreMedianLe5ms)}`),
    row('rig: check when nothing leaked', r.rigNoLeak, `≤ 2 ms: ${pass(o.targets.noLeakMedianLe2ms)}`),
    row('rig: leak check + restore, `truncate` strategy', r.rigTruncateStrategy),
    row('baseline: TRUNCATE every table (seed data lost)', r.truncateAll),
    row('baseline: TRUNCATE every table + reload the seed', r.truncateAllReseed),
    row('baseline: drop + re-clone the database from a template', r.recloneFromTemplate),
    row('per-worker clone, `file_copy`, one at a time (ms per clone)', r.clonePerWorker_file_copy_x1),
    row('per-worker clone, `wal_log`, one at a time (ms per clone)', r.clonePerWorker_wal_log_x1),
    row('per-worker clone, `file_copy`, 2 in parallel (ms per clone)', r.clonePerWorker_file_copy_x2),
    row('per-worker clone, `wal_log`, 2 in parallel (ms per clone)', r.clonePerWorker_wal_log_x2),
    row('Redis (1,000 keys): leak check + restore of 3 added keys', r.redisDiffRestore),
    row('Redis (1,000 keys): check when nothing was written', r.redisNoLeak),
    '',
    `rig's per-test restore is **${o.ratios.fasterThanTruncate}×** faster than TRUNCATE of every table (target ≥ 8×: ${pass(o.targets.fasterThanTruncateAllGe8x)}), ` +
      `${o.ratios.fasterThanReseed}× faster than TRUNCATE + reseed, and ${o.ratios.fasterThanReclone}× faster than re-cloning from a template — while keeping the seed data, which TRUNCATE alone does not.`,
    '<!-- guard:end -->',
  ]
  const file = path.join(here, 'RESULTS.md')
  let text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '# Benchmark results\n'
  const section = lines.join('\n')
  const re = /<!-- guard:start -->[\s\S]*?<!-- guard:end -->/
  text = re.test(text) ? text.replace(re, section) : `${text.trimEnd()}\n\n${section}\n`
  fs.writeFileSync(file, text)
}

await main()
