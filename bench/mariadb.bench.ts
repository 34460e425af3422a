// MariaDB benchmark: `mariadb()` ready with a warm init cache against the naive
// `mariadb-install-db` + start; the guard's per-test check + restore on the 50-table workload
// of bench/guard.bench.ts against TRUNCATE of every table; the check when nothing leaked; and
// the ways to copy a database for a worker (rig's SQL copy, mysqldump | mariadb, transportable
// tablespaces). Every baseline is measured in the same run, on the same server.
//
//   node_modules/.bin/node bench/mariadb.bench.ts [--runs N] [--no-write]
//
// Writes bench/results/mariadb.json and the mariadb section of bench/RESULTS.md.
import { execFile, spawn } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { connectMysql, type MysqlConnection } from '../src/drivers/mysql.ts'
import { createGuard, mariadbStore } from '../src/guard/index.ts'
import { copyDatabase, withMaintenance } from '../src/guard/mariadb/copy-database.ts'
import { defineConfig, mariadb, startEnvironment } from '../src/index.ts'
import { unprivilegedUser } from '../src/providers/process/user.ts'
import { requireServer } from '../src/services/mariadb/binaries.ts'
import { writeResultsSection } from './lib/results-md.ts'
import { type Summary, summarize } from './lib/stats.ts'

const { values } = parseArgs({ options: { runs: { type: 'string', default: '200' }, 'no-write': { type: 'boolean', default: false } } })
const RUNS = Number(values.runs)
const TABLES = 50
const ROWS = 100
const here = path.dirname(new URL(import.meta.url).pathname)
const user = unprivilegedUser()
const names = Array.from({ length: TABLES }, (_, i) => `t${String(i + 1).padStart(2, '0')}`)

// The schema of bench/guard.bench.ts, in MariaDB's dialect.
const schema = (): string =>
  names
    .flatMap((t, i) => {
      const ref = i > 0 && (i + 1) % 2 === 0 ? `, parent_id int, foreign key (parent_id) references ${names[i - 1]}(id)` : ''
      const rows = Array.from({ length: ROWS }, (_, g) => `('row ${g + 1}', ${g + 1}${ref ? `, ${g + 1}` : ''})`).join(', ')
      return [
        `create table ${t} (id int auto_increment primary key, name varchar(100) not null, n int not null default 0, created_at timestamp default current_timestamp${ref})`,
        `insert into ${t} (name, n${ref ? ', parent_id' : ''}) values ${rows}`,
      ]
    })
    .join(';\n')

const TEST_WRITES = `insert into t10 (name, n, parent_id) values ('new', 1, 5); insert into t21 (name) values ('new'); update t21 set n = n + 1 where id = 7`

async function time(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now()
  await fn()
  return performance.now() - t0
}

function exec(cmd: string, args: readonly string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, [...args], { maxBuffer: 256 * 1024 * 1024, ...(user ? { uid: user.uid, gid: user.gid } : {}) }, (err, out, stderr) => (err ? reject(new Error(`${cmd}: ${stderr || err.message}`)) : resolve(out)))
    if (input !== undefined) child.stdin?.end(input)
  })
}

/** The naive way: a fresh data dir from mariadb-install-db, the server started on it, polled until `select 1` answers. */
async function naiveStart(server: string, port: number): Promise<{ total: number; install: number }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mariadb-naive-'))
  if (user) fs.chownSync(dir, user.uid, user.gid)
  const t0 = performance.now()
  try {
    await exec('mariadb-install-db', ['--no-defaults', `--datadir=${dir}/data`, '--auth-root-authentication-method=normal'])
    const install = performance.now() - t0
    const child = spawn(server, ['--no-defaults', `--datadir=${dir}/data`, `--socket=${dir}/s.sock`, `--pid-file=${dir}/p.pid`, `--port=${port}`, '--bind-address=127.0.0.1'], { stdio: ['ignore', 'ignore', 'pipe'], ...(user ? { uid: user.uid, gid: user.gid } : {}) })
    let log = ''
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (log += d))
    let exited = false
    child.once('exit', () => (exited = true))
    try {
      for (const end = Date.now() + 60_000; ; ) {
        if (exited || Date.now() > end) throw new Error(`the naive server did not answer: ${log.slice(-500)}`)
        try {
          const c = await connectMysql(`mysql://root@127.0.0.1:${port}/mysql`, { timeoutMs: 1000 })
          await c.query('select 1')
          await c.end()
          break
        } catch {
          await new Promise((r) => setTimeout(r, 5))
        }
      }
      return { total: performance.now() - t0, install }
    } finally {
      if (!exited) {
        child.kill('SIGKILL')
        await new Promise((r) => child.once('exit', r))
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port
      srv.close(() => resolve(port))
    })
  })
}

async function main(): Promise<void> {
  const loadBefore = os.loadavg()
  const started = performance.now()
  const results: Record<string, Summary> = {}
  const notes: Record<string, string> = {}
  const server = await requireServer('bench', 'mariadb')

  // Ready: warm init cache vs naive install + start, interleaved.
  await (await startEnvironment(defineConfig({ services: { db: mariadb() } }))).stop() // fills the cache
  const warm: number[] = []
  const naive: number[] = []
  const installs: number[] = []
  for (let i = 0; i < 10; i++) {
    const t0 = performance.now()
    const env = await startEnvironment(defineConfig({ services: { db: mariadb() } }))
    warm.push(performance.now() - t0)
    await env.stop()
    const n = await naiveStart(server.path, await freePort())
    naive.push(n.total)
    installs.push(n.install)
  }
  results.readyWarm = summarize(warm)
  results.naiveInstallStart = summarize(naive)
  results.naiveInstallOnly = summarize(installs)
  const coldCache = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-cold-cache-'))
  if (user) fs.chownSync(coldCache, user.uid, user.gid)
  const cold: number[] = []
  for (let i = 0; i < 3; i++) {
    fs.rmSync(path.join(coldCache, 'mariadb'), { recursive: true, force: true })
    process.env.RIG_CACHE_DIR = coldCache
    const t0 = performance.now()
    const env = await startEnvironment(defineConfig({ services: { db: mariadb() } }))
    cold.push(performance.now() - t0)
    await env.stop()
    delete process.env.RIG_CACHE_DIR
  }
  fs.rmSync(coldCache, { recursive: true, force: true })
  results.readyCold = summarize(cold)

  const env = await startEnvironment(defineConfig({ services: { db: mariadb({ database: 'bench' }) } }))
  try {
    const url = env.get('db').url
    const app: MysqlConnection = await connectMysql(url, { multipleStatements: true })
    await app.query(schema())

    // rig: check + restore (auto) and the no-leak check, interleaved.
    const store = mariadbStore(env.get('db'))
    // Time each round trip the store makes (check: counters, then tables and comparison; restore).
    const trips: number[] = []
    const sessions = (store as unknown as { sessions: { run: (sql: string, on?: string) => Promise<unknown[]> } }).sessions
    const run = sessions.run.bind(sessions)
    sessions.run = async (sql, on) => {
      const t0 = performance.now()
      try {
        return await run(sql, on)
      } finally {
        trips.push(performance.now() - t0)
      }
    }
    const perTrip: number[][] = [[], [], []]
    const guard = createGuard({ stores: [store] })
    await guard.baseline()
    const leak: number[] = []
    const clean: number[] = []
    const strategies = new Set<string>()
    for (let i = 0; i < RUNS + 10; i++) {
      await app.query(TEST_WRITES)
      trips.length = 0
      const tLeak = await time(async () => {
        const r = await guard.check('writes to 2 tables')
        if (!r.leaked || r.errors.length > 0) throw new Error(`the benchmark test should have leaked and been restored: ${r.message} ${r.errors.map((e) => e.message)}`)
        strategies.add(r.stores[0]?.restore?.strategy ?? '?')
      })
      const tClean = await time(async () => {
        const r = await guard.check('writes nothing')
        if (r.leaked) throw new Error(`the restore left something behind: ${r.message}`)
      })
      if (i >= 10) {
        leak.push(tLeak), clean.push(tClean)
        // 3 for the leak (when the restore session was already open), 1 for the clean check.
        if (trips.length === 4) trips.slice(0, 3).forEach((t, k) => perTrip[k]?.push(t))
      }
    }
    results.tripCounters = summarize(perTrip[0] ?? [])
    results.tripCompare = summarize(perTrip[1] ?? [])
    results.tripRestore = summarize(perTrip[2] ?? [])
    results.rigDiffRestore = summarize(leak)
    results.rigNoLeak = summarize(clean)
    notes.rigDiffRestore = `strategy used: ${[...strategies].join(', ')}`
    await guard.close()

    // The same where InnoDB's per-table counters cannot be trusted (automatic statistics
    // recalculation on, as on a server rig did not start): every table compared by checksum.
    await app.query('set global innodb_stats_auto_recalc = ON')
    const blind = createGuard({ stores: [mariadbStore(env.get('db'))] })
    await blind.baseline()
    const blindLeak: number[] = []
    for (let i = 0; i < Math.min(RUNS, 100) + 5; i++) {
      await app.query(TEST_WRITES)
      const t = await time(() => blind.check('writes to 2 tables'))
      if (i >= 5) blindLeak.push(t)
    }
    results.rigDiffRestoreChecksum = summarize(blindLeak)
    await blind.close()
    await app.query('set global innodb_stats_auto_recalc = OFF')

    // rig with the truncate strategy.
    const tGuard = createGuard({ stores: [mariadbStore(env.get('db'))], strategy: 'truncate' })
    await tGuard.baseline()
    const trunc: number[] = []
    for (let i = 0; i < Math.min(RUNS, 30) + 3; i++) {
      await app.query(TEST_WRITES)
      const t = await time(() => tGuard.check('writes to 2 tables'))
      if (i >= 3) trunc.push(t)
    }
    results.rigTruncateStrategy = summarize(trunc)
    await tGuard.close()

    // Baselines: TRUNCATE every table, and TRUNCATE + reload the seed.
    await app.query(`create database seed; ${names.map((t) => `create table seed.${t} as select * from ${t}`).join('; ')}`)
    const reseed = names.map((t) => `insert into ${t} select * from seed.${t}`).join('; ')
    const truncateAll = `set foreign_key_checks = 0; ${names.map((t) => `truncate table ${t}`).join('; ')}; set foreign_key_checks = 1`
    const truncAll: number[] = []
    const truncReseed: number[] = []
    for (let i = 0; i < 15 + 2; i++) {
      await app.query(TEST_WRITES)
      const t1 = await time(() => app.query(truncateAll))
      await app.query(`set foreign_key_checks = 0; ${reseed}; set foreign_key_checks = 1`)
      await app.query(TEST_WRITES)
      const t2 = await time(() => app.query(`${truncateAll}; set foreign_key_checks = 0; ${reseed}; set foreign_key_checks = 1`))
      if (i >= 2) truncAll.push(t1), truncReseed.push(t2)
    }
    results.truncateAll = summarize(truncAll)
    results.truncateAllReseed = summarize(truncReseed)
    await app.query('drop database seed')
    await app.end()

    // Copying the database for a worker, three ways.
    const sqlCopy: number[] = []
    const dump: number[] = []
    const transport: number[] = []
    const a = new URL(url)
    const cli = ['--no-defaults', '-h127.0.0.1', `-P${a.port}`, `-u${a.username}`, `-p${decodeURIComponent(a.password)}`]
    await withMaintenance(url, async (m) => {
      const datadir = String(((await m.query('select @@datadir as d'))[0] as { d: string }[])[0]?.d)
      for (let i = 0; i < 6; i++) {
        await m.query('drop database if exists copy_sql; drop database if exists copy_dump; drop database if exists copy_ts')
        sqlCopy.push(await time(() => copyDatabase(m, 'bench', 'copy_sql')))
        dump.push(
          await time(async () => {
            const text = await exec('mariadb-dump', [...cli, '--single-transaction', '--routines', '--triggers', 'bench'])
            await m.query('create database copy_dump')
            await exec('mariadb', [...cli, 'copy_dump'], text)
          }),
        )
        transport.push(
          await time(async () => {
            await m.query(`create database copy_ts; ${names.map((t) => `create table copy_ts.${t} like bench.${t}; alter table copy_ts.${t} discard tablespace`).join('; ')}`)
            await m.query(`use bench; flush tables ${names.join(', ')} for export`)
            try {
              for (const t of names) for (const ext of ['ibd', 'cfg']) fs.copyFileSync(path.join(datadir, 'bench', `${t}.${ext}`), path.join(datadir, 'copy_ts', `${t}.${ext}`))
              if (user) for (const f of fs.readdirSync(path.join(datadir, 'copy_ts'))) fs.chownSync(path.join(datadir, 'copy_ts', f), user.uid, user.gid)
            } finally {
              await m.query('unlock tables')
            }
            await m.query(names.map((t) => `alter table copy_ts.${t} import tablespace`).join('; '))
          }),
        )
      }
      await m.query('drop database if exists copy_sql; drop database if exists copy_dump; drop database if exists copy_ts')
    })
    results.cloneSqlCopy = summarize(sqlCopy.slice(1))
    results.cloneDumpRestore = summarize(dump.slice(1))
    results.cloneTransportable = summarize(transport.slice(1))
  } finally {
    await env.stop()
  }

  const ratio = (x: Summary | undefined, y: Summary | undefined): number => Math.round(((x?.median ?? 0) / (y?.median ?? 1)) * 10) / 10
  const ratios = {
    naiveOverWarm: ratio(results.naiveInstallStart, results.readyWarm),
    fasterThanTruncate: ratio(results.truncateAll, results.rigDiffRestore),
    fasterThanReseed: ratio(results.truncateAllReseed, results.rigDiffRestore),
    dumpOverSqlCopy: ratio(results.cloneDumpRestore, results.cloneSqlCopy),
    transportableOverSqlCopy: ratio(results.cloneTransportable, results.cloneSqlCopy),
  }
  const targets = {
    diffRestoreMedianLe5ms: (results.rigDiffRestore?.median ?? Infinity) <= 5,
    fasterThanTruncateAllGe8x: ratios.fasterThanTruncate >= 8,
  }
  let commit = ''
  try {
    commit = (await new Promise<string>((r) => execFile('git', ['rev-parse', '--short', 'HEAD'], { cwd: here }, (_e, out) => r(String(out))))).trim()
  } catch {}
  const machine = {
    cpus: `${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}`,
    memGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    mariadb: server.version,
    loadBefore: loadBefore.map((x) => Math.round(x * 100) / 100),
    loadAfter: os.loadavg().map((x) => Math.round(x * 100) / 100),
  }
  const out = { date: new Date().toISOString(), commit, runs: RUNS, workload: { tables: TABLES, seededRowsPerTable: ROWS, testWrites: TEST_WRITES }, machine, results, ratios, targets, notes, totalS: Math.round((performance.now() - started) / 100) / 10 }
  console.log(JSON.stringify(out, null, 2))
  if (values['no-write']) return
  fs.mkdirSync(path.join(here, 'results'), { recursive: true })
  fs.writeFileSync(path.join(here, 'results', 'mariadb.json'), JSON.stringify(out, null, 2) + '\n')
  writeResultsSection('mariadb', section(out))
}

function section(o: { date: string; commit: string; machine: Record<string, unknown>; results: Record<string, Summary>; ratios: Record<string, number>; targets: Record<string, boolean>; notes: Record<string, string>; runs: number; totalS: number }): string {
  const row = (label: string, s: Summary | undefined, target = '—'): string =>
    s ? `| ${label} | ${s.median.toFixed(1)} ms | ${s.p90.toFixed(1)} ms | ${s.min.toFixed(1)} ms | ${s.max.toFixed(1)} ms | ${s.n} | ${target} |` : `| ${label} | — | | | | | |`
  const pass = (b: boolean | undefined): string => (b ? '**pass**' : '**miss**')
  const m = o.machine
  const r = o.results
  const busy = (m.loadBefore as number[])[0] ?? 0
  return [
    '## MariaDB (`bench/mariadb.bench.ts`)',
    '',
    ...(busy > os.cpus().length ? [`**The machine was busy (1-minute load ${busy} on ${os.cpus().length} CPUs): every figure, rig's and the baselines', is inflated by other work; rerun on an idle machine before comparing with the targets.**`, ''] : []),
    `${o.date.slice(0, 10)}, commit \`${o.commit}\`; ${m.cpus}, ${m.memGiB} GiB, Node ${m.node}, MariaDB ${m.mariadb}; load average ${(m.loadBefore as number[]).join(' / ')} before, ${(m.loadAfter as number[]).join(' / ')} after. ` +
      `Guard workload: the 50 tables × 100 seeded rows of the Guard section (every other table references the previous one); each "test" inserts a row into \`t10\`, inserts a row into \`t21\` and updates a seeded row of \`t21\`. ${o.runs} runs after 10 warm-ups; total ${o.totalS} s.`,
    '',
    '| figure | median | p90 | min | max | n | target |',
    '|---|---|---|---|---|---|---|',
    row('`mariadb()` ready, warm init cache (start → `select 1` answered)', r.readyWarm),
    row('`mariadb()` ready, cold (empty init cache)', r.readyCold),
    row('naive: `mariadb-install-db` + start + `select 1` (baseline)', r.naiveInstallStart),
    row('… of which `mariadb-install-db`', r.naiveInstallOnly),
    row(`rig: leak check + restore (\`auto\`, ${o.notes.rigDiffRestore})`, r.rigDiffRestore, `≤ 5 ms: ${pass(o.targets.diffRestoreMedianLe5ms)}`),
    row('… round trip 1: write counters, open transactions, InnoDB per-table counters', r.tripCounters),
    row('… round trip 2: table list and AUTO_INCREMENT, the 2 written tables compared with their shadow copies', r.tripCompare),
    row('… round trip 3: the restore (one transaction, 2 × ALTER TABLE … AUTO_INCREMENT, counters read back)', r.tripRestore),
    row('rig: check when nothing leaked (round trip 1 only)', r.rigNoLeak),
    row('rig: leak check + restore, per-table counters not trusted (every table by CHECKSUM TABLE)', r.rigDiffRestoreChecksum),
    row('rig: leak check + restore, `truncate` strategy', r.rigTruncateStrategy),
    row('baseline: TRUNCATE every table (seed data lost)', r.truncateAll),
    row('baseline: TRUNCATE every table + reload the seed', r.truncateAllReseed),
    row('copy for a worker: rig (CREATE TABLE + INSERT … SELECT, one round trip)', r.cloneSqlCopy),
    row('copy for a worker: `mariadb-dump` \\| `mariadb`', r.cloneDumpRestore),
    row('copy for a worker: transportable tablespaces (FLUSH … FOR EXPORT, copy .ibd, IMPORT)', r.cloneTransportable),
    '',
    `A warm \`mariadb()\` is **${o.ratios.naiveOverWarm}×** faster to ready than the naive install + start. rig's per-test restore is **${o.ratios.fasterThanTruncate}×** faster than TRUNCATE of every table (target ≥ 8×: ${pass(o.targets.fasterThanTruncateAllGe8x)}) ` +
      `and ${o.ratios.fasterThanReseed}× faster than TRUNCATE + reseed, keeping the seed data. Copies: the dump round trip takes ${o.ratios.dumpOverSqlCopy}× and transportable tablespaces ${o.ratios.transportableOverSqlCopy}× the time of rig's SQL copy, which also needs no access to the server's files.`,
  ].join('\n')
}

await main()
