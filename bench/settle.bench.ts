// Settle benchmark: what waiting for "settled" costs per test when nothing is in flight, against
// the guard's check alone, in the same run on the same stores. One guard over PostgreSQL,
// MariaDB, Redis (a list named as queue) and RabbitMQ (20 queues, one consumed) that rig
// started; each round is a "test" that writes one row to PostgreSQL, then either the check
// alone or settle + check, alternated so both see the same machine.
//
//   node_modules/.bin/node bench/settle.bench.ts [--runs N] [--no-write]
//
// Writes bench/results/settle.json and the settle section of bench/RESULTS.md.
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { connectAmqp } from '../src/drivers/amqp.ts'
import { connectMysql } from '../src/drivers/mysql.ts'
import { connectPg } from '../src/drivers/pg.ts'
import { createGuard, mariadbStore, postgresStore, rabbitmqStore, redisStore } from '../src/guard/index.ts'
import { defineConfig, mariadb, postgres, rabbitmq, redis, startEnvironment } from '../src/index.ts'
import { writeResultsSection } from './lib/results-md.ts'
import { type Summary, summarize } from './lib/stats.ts'

const { values } = parseArgs({ options: { runs: { type: 'string', default: '200' }, 'no-write': { type: 'boolean', default: false } } })
const RUNS = Number(values.runs)
const here = path.dirname(new URL(import.meta.url).pathname)
const started = performance.now()
const loadBefore = os.loadavg()

const env = await startEnvironment(defineConfig({ services: { db: postgres(), maria: mariadb({ readyTimeout: 120_000 }), cache: redis(), mq: rabbitmq({ readyTimeout: 120_000 }) } }))
const samples: Record<'check' | 'settleCheck' | 'settle' | 'settleAll' | 'settlePg' | 'settleMaria' | 'settleRedis' | 'settleMq', number[]> = {
  check: [],
  settleCheck: [],
  settle: [],
  settleAll: [],
  settlePg: [],
  settleMaria: [],
  settleRedis: [],
  settleMq: [],
}
try {
  const pg = await connectPg(env.get('db').url)
  await pg.query('create table rentals (id serial primary key, n int); create table cars (id int primary key); insert into cars select generate_series(1, 50)')
  const my = await connectMysql(env.get('maria').url)
  await my.query('create table cars (id int primary key)')
  await my.end()
  const mq = await connectAmqp(env.get('mq').url)
  const ch = await mq.createChannel()
  for (let i = 0; i < 20; i++) await ch.assertQueue(`q${i}`, { durable: true })
  // One queue has a consumer, as an application's would.
  await ch.consume('q0', (m) => m && ch.ack(m))
  const stores = [postgresStore(env.get('db')), mariadbStore(env.get('maria')), redisStore(env.get('cache'), { queues: ['jobs'] }), rabbitmqStore(env.get('mq'))]
  const guard = createGuard({ stores })
  await guard.baseline()
  const test = (): Promise<unknown> => pg.query('insert into rentals (n) values (1)')
  const one = async (key: keyof typeof samples, fn: () => Promise<unknown>): Promise<void> => {
    const t0 = performance.now()
    await fn()
    samples[key].push(performance.now() - t0)
  }
  for (let i = 0; i < RUNS + 10; i++) {
    const keep = i >= 10
    await test()
    if (keep) await one('check', () => guard.check('bench'))
    else await guard.check('warm-up')
    await test()
    const t0 = performance.now()
    const s = await guard.settle()
    const t1 = performance.now()
    if (!s.settled || s.rounds !== 1) throw new Error(`settle found work in flight: ${s.error?.message}`)
    await guard.check('bench')
    if (keep) {
      samples.settleCheck.push(performance.now() - t0)
      samples.settle.push(t1 - t0)
    }
    // Each store's look alone, and the loop over all four without a check.
    if (keep) {
      await one('settleAll', () => guard.settle())
      await one('settlePg', () => stores[0]!.settle!())
      await one('settleMaria', () => stores[1]!.settle!())
      await one('settleRedis', () => stores[2]!.settle!())
      await one('settleMq', () => stores[3]!.settle!())
    }
  }
  await guard.close()
  await mq.close()
  await pg.end()
} finally {
  await env.stop()
}

const results = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, summarize(v, 2)])) as Record<keyof typeof samples, Summary>
const ratios = { settleCheckOverCheck: Math.round((results.settleCheck.median / results.check.median) * 100) / 100 }
const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: here, encoding: 'utf8' }).trim()
const machine = { cpus: `${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}`, memGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10, node: process.version, loadBefore: loadBefore.map((x) => Math.round(x * 100) / 100), loadAfter: os.loadavg().map((x) => Math.round(x * 100) / 100) }
const out = { date: new Date().toISOString(), commit, runs: RUNS, machine, results, ratios, totalS: Math.round((performance.now() - started) / 100) / 10 }
console.log(JSON.stringify(out, null, 2))

const f = (s: Summary): string => `${s.median.toFixed(2)} ms (p90 ${s.p90.toFixed(2)})`
const busy = (machine.loadBefore[0] ?? 0) > os.cpus().length ? ' **The machine was busy (1-minute load above its CPUs): read the ratio, not the absolute figures.**' : ''
const section = [
  '## Settle (`bench/settle.bench.ts`)',
  '',
  `${out.date.slice(0, 10)}, commit \`${commit}\`; ${machine.cpus}, ${machine.memGiB} GiB, Node ${machine.node}; load average ${machine.loadBefore.join(' / ')} before, ${machine.loadAfter.join(' / ')} after.${busy} ${RUNS} runs after 10 warm-ups, interleaved; total ${out.totalS} s.`,
  '',
  'One guard over PostgreSQL, MariaDB, Redis (one list named as a queue) and RabbitMQ (20 queues, one with a consumer), nothing in flight; each "test" inserts one PostgreSQL row.',
  '',
  '| per test | median |',
  '|---|---|',
  `| check alone (baseline) | ${f(results.check)} |`,
  `| settle + check | ${f(results.settleCheck)} (**${ratios.settleCheckOverCheck}×** the check alone) |`,
  `| settle alone (one round: every store asked at once) | ${f(results.settleAll)} |`,
  `| — PostgreSQL look (\`pg_stat_activity\`) | ${f(results.settlePg)} |`,
  `| — MariaDB look (InnoDB status + processlist) | ${f(results.settleMaria)} |`,
  `| — Redis look (one \`EVAL\`) | ${f(results.settleRedis)} |`,
  `| — RabbitMQ look (agent, 20 queues) | ${f(results.settleMq)} |`,
].join('\n')
if (!values['no-write']) {
  fs.mkdirSync(path.join(here, 'results'), { recursive: true })
  fs.writeFileSync(path.join(here, 'results', 'settle.json'), `${JSON.stringify(out, null, 2)}\n`)
  writeResultsSection('settle', section)
}
console.log(section)
