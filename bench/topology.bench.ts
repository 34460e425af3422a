// A PostgreSQL primary with one replica against a single primary, in the same run: time to
// ready (the replica caught up), and how a replica is made: a copy of the init cache (what rig
// does) against pg_basebackup from the running primary. Then switchover and failover, each
// timed three ways: the call until it returns, until the new primary accepts a write, and until
// an application's next request through the stable primary address succeeds on the new primary
// (a pg.Pool that writes every 10 ms, as an API under load would).
//
//   node_modules/.bin/node bench/topology.bench.ts [--rounds N] [--no-write]
//
// Writes bench/results/topology.json and the topology section of bench/RESULTS.md.
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import pg from 'pg'
import { defineConfig, postgres, startEnvironment, type Environment } from '../src/index.ts'
import { run } from '../src/providers/process/run.ts'
import { unprivilegedUser } from '../src/providers/process/user.ts'
import { sparesSettled } from '../src/services/postgres/spare.ts'
import { writeResultsSection } from './lib/results-md.ts'
import { round, summarize, type Summary } from './lib/stats.ts'

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' }, 'no-write': { type: 'boolean', default: false } } })
const ROUNDS = Number(values.rounds)
const here = path.dirname(new URL(import.meta.url).pathname)
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

async function readyMs(replicas: number): Promise<number> {
  await sparesSettled()
  const env = await startEnvironment(defineConfig({ services: { db: postgres(replicas ? { replicas } : {}) } }))
  const ms = env.startMs
  await env.stop()
  return ms
}

/** A replica's data made two ways from the running primary's service: cp -a of the cache entry, pg_basebackup. */
async function makeReplicaData(env: Environment, entry: string): Promise<{ copy: number; basebackup: number }> {
  const svc = env.get('db')
  const user = unprivilegedUser()
  const v = env.vars()
  const binDir = path.dirname(execFileSync('sh', ['-c', 'ls -d /usr/lib/postgresql/*/bin/pg_basebackup | tail -1'], { encoding: 'utf8' }).trim())
  const a = path.join(svc.dir, 'bench-copy')
  const b = path.join(svc.dir, 'bench-basebackup')
  let t = performance.now()
  await run('cp', ['-a', entry, a])
  const copy = performance.now() - t
  t = performance.now()
  await run(path.join(binDir, 'pg_basebackup'), ['-D', b, '-d', `host=${svc.dir} port=${v.RIG_DB_DIRECT_PORT} user=${v.RIG_DB_USER}`, '-X', 'stream', '-c', 'fast'], { user, cwd: svc.dir })
  const basebackup = performance.now() - t
  fs.rmSync(a, { recursive: true, force: true })
  fs.rmSync(b, { recursive: true, force: true })
  return { copy, basebackup }
}

interface OpTiming {
  callMs: number
  writesMs: number
  appMs: number
}

/** Times `op` while an application queries through `stable` every 10 ms and the new primary is polled for a write. */
async function timeOp(op: () => Promise<unknown>, stable: string, newPrimary: () => string): Promise<OpTiming> {
  const app = new pg.Pool({ connectionString: stable, max: 2 })
  app.on('error', () => {})
  await app.query('select 1')
  const newPort = Number(new URL(newPrimary()).port)
  let appAt = 0
  let writesAt = 0
  let running = true
  const t0 = performance.now()
  const appLoop = (async () => {
    while (running && !appAt) {
      const started = performance.now()
      try {
        // Counted only when the new primary served it: a query that starts after the call can
        // still reach the old primary before the operation takes it down.
        const r = await app.query<{ port: string }>("insert into bench_writes default values returning current_setting('port') as port")
        if (started > t0 && Number(r.rows[0]?.port) === newPort) appAt = performance.now()
      } catch {
        // a connection cut by the switch: the pool opens another on the next query
      }
      await sleep(10)
    }
  })()
  const callP = op().then(() => performance.now())
  const writesLoop = (async () => {
    while (running && !writesAt) {
      try {
        const c = new pg.Client({ connectionString: newPrimary(), connectionTimeoutMillis: 1000 })
        await c.connect()
        try {
          const r = await c.query('select pg_is_in_recovery() as r')
          if (r.rows[0]?.r === false) {
            await c.query('insert into bench_writes default values')
            writesAt = performance.now()
          }
        } finally {
          await c.end()
        }
      } catch {
        // not up yet
      }
      if (!writesAt) await sleep(5)
    }
  })()
  const calledAt = await callP
  for (const deadline = performance.now() + 30_000; (!appAt || !writesAt) && performance.now() < deadline; ) await sleep(10)
  running = false
  await Promise.all([appLoop, writesLoop])
  await app.end()
  return { callMs: calledAt - t0, writesMs: writesAt - t0, appMs: appAt - t0 }
}

async function main(): Promise<void> {
  const loadBefore = os.loadavg()
  const started = performance.now()
  // Ready: a single primary and a primary with one replica, alternating.
  const single: number[] = []
  const withReplica: number[] = []
  await readyMs(1)
  for (let r = 0; r < ROUNDS; r++) {
    if (r % 2 === 0) {
      single.push(await readyMs(0))
      withReplica.push(await readyMs(1))
    } else {
      withReplica.push(await readyMs(1))
      single.push(await readyMs(0))
    }
  }
  await sparesSettled()
  const env = await startEnvironment(defineConfig({ services: { db: postgres({ replicas: 1, synchronous: true }) } }))
  const copies: number[] = []
  const backups: number[] = []
  const failover: OpTiming[] = []
  const switchover: OpTiming[] = []
  const rejoin: number[] = []
  try {
    const v = env.vars()
    const stable = v.RIG_DB_PRIMARY_URL as string
    const nodeUrl = (n: number): string => (n === 0 ? (v.RIG_DB_DIRECT_URL as string) : (v[`RIG_DB_REPLICA_${n}_URL`] as string))
    const c = new pg.Client({ connectionString: stable })
    await c.connect()
    await c.query('create table bench_writes (id serial primary key, at timestamptz default now())')
    await c.end()
    // An init cache entry: the ~29 MB a replica starts from.
    const entry = execFileSync('sh', ['-c', `ls -d ${process.env.RIG_CACHE_DIR ?? (process.getuid?.() === 0 ? '/var/cache/testrig' : path.join(os.homedir(), '.cache/testrig'))}/postgres/*/data | head -1`], { encoding: 'utf8' }).trim()
    for (let r = 0; r < ROUNDS; r++) {
      const made = await makeReplicaData(env, entry)
      copies.push(made.copy)
      backups.push(made.basebackup)
    }
    const topo = env.get('db').topology
    if (!topo) throw new Error('no topology')
    for (let r = 0; r < ROUNDS; r++) {
      failover.push(await timeOp(() => topo.failover(), stable, () => nodeUrl(1)))
      const t = performance.now()
      await topo.rejoin(0)
      rejoin.push(performance.now() - t)
      switchover.push(await timeOp(() => topo.switchover({ to: 0 }), stable, () => nodeUrl(0)))
    }
  } finally {
    await env.stop()
  }
  const sum = (xs: OpTiming[]): Record<keyof OpTiming, Summary> => ({ callMs: summarize(xs.map((x) => x.callMs)), writesMs: summarize(xs.map((x) => x.writesMs)), appMs: summarize(xs.map((x) => x.appMs)) })
  let commit = ''
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: here, encoding: 'utf8' }).trim()
  } catch {}
  const result = {
    date: new Date().toISOString(),
    commit,
    rounds: ROUNDS,
    machine: { cpus: `${os.cpus().length} × ${os.cpus()[0]?.model.trim() ?? '?'}`, memGiB: round(os.totalmem() / 2 ** 30), node: process.version, loadBefore: loadBefore.map((x) => round(x, 2)), loadAfter: os.loadavg().map((x) => round(x, 2)) },
    ready: { single: summarize(single), withReplica: summarize(withReplica) },
    replicaData: { copy: summarize(copies), basebackup: summarize(backups) },
    failover: sum(failover),
    switchover: sum(switchover),
    rejoin: summarize(rejoin),
    totalS: round((performance.now() - started) / 1000),
  }
  console.log(JSON.stringify(result, null, 2))
  if (values['no-write']) return
  fs.mkdirSync(path.join(here, 'results'), { recursive: true })
  fs.writeFileSync(path.join(here, 'results', 'topology.json'), JSON.stringify(result, null, 2) + '\n')
  writeResultsSection('topology', section(result))
}

function section(r: {
  date: string
  commit: string
  rounds: number
  machine: { cpus: string; loadBefore: number[]; loadAfter: number[] }
  ready: { single: Summary; withReplica: Summary }
  replicaData: { copy: Summary; basebackup: Summary }
  failover: Record<keyof OpTiming, Summary>
  switchover: Record<keyof OpTiming, Summary>
  rejoin: Summary
}): string {
  const ms = (x: number): string => `${Math.round(x)} ms`
  const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}×`
  const op = (name: string, o: Record<keyof OpTiming, Summary>): string =>
    `| ${name} | ${ms(o.callMs.median)} (p90 ${ms(o.callMs.p90)}) | ${ms(o.writesMs.median)} (p90 ${ms(o.writesMs.p90)}) | ${ms(o.appMs.median)} (p90 ${ms(o.appMs.p90)}) |`
  return `## PostgreSQL replicas, switchover and failover (\`bench/topology.bench.ts\`)

${r.date.slice(0, 10)}, commit ${r.commit}, ${r.machine.cpus}, load ${r.machine.loadBefore.map((x) => x.toFixed(1)).join('/')} before, ${r.machine.loadAfter.map((x) => x.toFixed(1)).join('/')} after (a shared machine: compare the ratios, measured in the same run). ${r.rounds} rounds, medians.

| ready (warm init cache, spares refilled between starts) | median | p90 |
|---|---|---|
| \`postgres()\` (baseline) | ${ms(r.ready.single.median)} | ${ms(r.ready.single.p90)} |
| \`postgres({ replicas: 1 })\`, the replica caught up | ${ms(r.ready.withReplica.median)} (${ratio(r.ready.withReplica.median, r.ready.single.median)}) | ${ms(r.ready.withReplica.p90)} |

| a replica's data | median | p90 |
|---|---|---|
| \`cp -a\` of the init cache entry (what rig does when no spare is ready) | ${ms(r.replicaData.copy.median)} | ${ms(r.replicaData.copy.p90)} |
| \`pg_basebackup -X stream -c fast\` from the running primary | ${ms(r.replicaData.basebackup.median)} (${ratio(r.replicaData.basebackup.median, r.replicaData.copy.median)}) | ${ms(r.replicaData.basebackup.p90)} |

\`synchronous: true\`, one replica. Times from the call; the application is a pg.Pool writing through \`RIG_DB_PRIMARY_URL\` every 10 ms; its next request counts once the new primary served it (the port it answers from).

| operation | call returns | new primary accepts a write | the application's next request succeeds |
|---|---|---|---|
${op('failover (SIGKILL, promote)', r.failover)}
${op('switchover (clean stop, catch-up, promote, old primary back as replica)', r.switchover)}

A switchover's call returns only once the old primary caught up as a replica; writes go through
the stable address as soon as the new primary is promoted (held connections are let through then).
Rejoin of the killed primary (pg_rewind or pg_basebackup, restart, catch-up): ${ms(r.rejoin.median)} median.`
}

await main()
