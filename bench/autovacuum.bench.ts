// Should rig's PostgreSQL run autovacuum? Two servers side by side, one with PostgreSQL's
// default (autovacuum on), one with `autovacuum: false`, run the same suite shaped like a job
// queue's in alternating rounds: each test creates its own schema, queues jobs, lets four
// connections take them concurrently (FOR UPDATE SKIP LOCKED), writes to a shared guarded
// table, drops its schema (the suite's own cleanup), then the guard checks and restores.
//
//   node_modules/.bin/node bench/autovacuum.bench.ts [--seconds 240] [--round 20] [--no-write]
//
// Reports per variant: test wall time (median, p90, p99, max), the guard check (median, p90,
// max), the cleanup's DROP SCHEMA (median, max, how many waited ≥ 200 ms), guard errors, and
// how often autovacuum and autoanalyze ran (user tables and the catalog). Writes
// bench/results/autovacuum.json and the autovacuum section of bench/RESULTS.md.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { connectPg, type PgClient } from '../src/drivers/pg.ts'
import { createGuard, type Guard } from '../src/guard/index.ts'
import { defineConfig, type Environment, postgres, startEnvironment } from '../src/index.ts'
import { storesFor } from '../src/guard/stores-for.ts'
import { writeResultsSection } from './lib/results-md.ts'
import { quantile, round, summarize, type Summary } from './lib/stats.ts'

const RESULTS_JSON = path.join(import.meta.dirname, 'results', 'autovacuum.json')
const { values: args } = parseArgs({ options: { seconds: { type: 'string', default: '240' }, round: { type: 'string', default: '20' }, 'no-write': { type: 'boolean', default: false } } })
const log = (line: string): void => void process.stderr.write(`${line}\n`)
const WORKERS = 4
const JOBS = 60

interface Variant {
  name: 'autovacuum on' | 'autovacuum off'
  env: Environment
  guard: Guard
  clients: PgClient[]
  tests: number[]
  checks: number[]
  drops: number[]
  guardErrors: number
  lostJobs: number
  /** Tests whose rows, read back without ORDER BY, did not come in the order they were inserted. */
  outOfOrder: number
}

async function open(name: Variant['name']): Promise<Variant> {
  const settings: Record<string, boolean> = name === 'autovacuum off' ? { autovacuum: false } : {}
  const env = await startEnvironment(defineConfig({ services: { db: postgres({ settings }) } }))
  const url = env.get('db').url
  const setup = await connectPg(url)
  await setup.query(`create extension if not exists pgcrypto;
    create table public.queue (name text primary key, policy text, created_on timestamptz default now());
    create table public.job_stats (id serial primary key, queue text, completed int, at timestamptz default now());
    create table public.event (id serial primary key, kind text, body text);
    insert into public.queue (name, policy) select 'q' || g, 'standard' from generate_series(1, 20) g;`)
  await setup.end()
  const guard = createGuard({ stores: storesFor(env) })
  await guard.baseline()
  const clients = await Promise.all(Array.from({ length: WORKERS + 1 }, () => connectPg(url)))
  return { name, env, guard, clients, tests: [], checks: [], drops: [], guardErrors: 0, lostJobs: 0, outOfOrder: 0 }
}

/** One test of the suite. */
async function runTest(v: Variant, i: number): Promise<void> {
  const t0 = performance.now()
  const [main, ...workers] = v.clients as [PgClient, ...PgClient[]]
  const s = `jobq_${i}`
  await main.query(`create schema ${s};
    create table ${s}.job (id uuid primary key default gen_random_uuid(), name text not null, state text not null default 'created', priority int not null default 0, data jsonb, created_on timestamptz not null default now(), completed_on timestamptz);
    create index on ${s}.job (name, state, priority desc, created_on, id);
    create table ${s}.archive (like ${s}.job);
    insert into ${s}.job (name, priority, data) select 'q' || (g % 3), g % 5, jsonb_build_object('n', g) from generate_series(1, ${JOBS}) g;
    update public.queue set policy = 'stately' where name = 'q${i % 20}';`)
  let done = 0
  await Promise.all(
    workers.map(async (c) => {
      for (;;) {
        const r = await c.query<{ id: string }>(`with next as (select id from ${s}.job where state = 'created' order by priority desc, created_on, id limit 3 for update skip locked)
          update ${s}.job j set state = 'completed', completed_on = now() from next where j.id = next.id returning j.id`)
        const n = (Array.isArray(r) ? r.at(-1)?.rows : r.rows)?.length ?? 0
        if (n === 0) break
        done += n
      }
    }),
  )
  if (done !== JOBS) v.lostJobs += JOBS - done
  // What many tests assume without saying: rows come back in the order they were written. The
  // guard deletes them after the test, so the table churns like a queue's.
  const ev = await main.query<{ id: number }>(`insert into public.event (kind, body) select 'e', repeat('x', 200) from generate_series(1, 30) returning id; select id from public.event`)
  const evRows: Array<{ id: number }> = (Array.isArray(ev) ? ev.at(-1)?.rows : ev.rows) ?? []
  const ids = evRows.map((r) => Number(r.id))
  if (ids.some((id: number, k: number) => k > 0 && id < (ids[k - 1] as number))) v.outOfOrder++
  await main.query(`insert into ${s}.archive select * from ${s}.job where state = 'completed'; delete from ${s}.job where state = 'completed';
    insert into public.job_stats (queue, completed) values ('q${i % 3}', ${done})`)
  const d0 = performance.now()
  await main.query(`drop schema ${s} cascade`)
  v.drops.push(performance.now() - d0)
  const c0 = performance.now()
  const rep = await v.guard.check(`test ${i}`)
  v.checks.push(performance.now() - c0)
  if (rep.errors.length > 0) v.guardErrors++
  v.tests.push(performance.now() - t0)
}

async function vacuumCounts(v: Variant): Promise<{ autovacuum: number; autoanalyze: number; catalogAutovacuum: number }> {
  const c = v.clients[0] as PgClient
  const r = await c.query<{ user_v: string; user_a: string; cat_v: string }>(`select
    coalesce(sum(autovacuum_count) filter (where schemaname not in ('pg_catalog', 'pg_toast', 'information_schema')), 0)::text as user_v,
    coalesce(sum(autoanalyze_count) filter (where schemaname not in ('pg_catalog', 'pg_toast', 'information_schema')), 0)::text as user_a,
    coalesce(sum(autovacuum_count) filter (where schemaname in ('pg_catalog', 'pg_toast')), 0)::text as cat_v
    from pg_stat_all_tables`)
  const row = (Array.isArray(r) ? r.at(-1)?.rows : r.rows)?.[0]
  return { autovacuum: Number(row?.user_v), autoanalyze: Number(row?.user_a), catalogAutovacuum: Number(row?.cat_v) }
}

/** Sizes at the end: the catalog (every test creates and drops a schema) and the churned tables. */
async function sizes(v: Variant): Promise<{ catalogKB: number; churnedKB: number; deadTuples: number }> {
  const c = v.clients[0] as PgClient
  const r = await c.query<{ cat: string; churn: string; dead: string }>(`select
    (select sum(pg_total_relation_size(c.oid)) from pg_class c where c.relnamespace = 'pg_catalog'::regnamespace and c.relkind = 'r')::text as cat,
    (select sum(pg_total_relation_size(t)) from unnest(array['public.job_stats', 'public.event', 'public.queue']::regclass[]) t)::text as churn,
    (select sum(n_dead_tup) from pg_stat_all_tables)::text as dead`)
  const row = (Array.isArray(r) ? r.at(-1)?.rows : r.rows)?.[0]
  return { catalogKB: Math.round(Number(row?.cat) / 1024), churnedKB: Math.round(Number(row?.churn) / 1024), deadTuples: Number(row?.dead) }
}

const loadBefore = os.loadavg().map((x) => round(x, 2))
const t0 = performance.now()
const variants = [await open('autovacuum on'), await open('autovacuum off')]
let n = 0
try {
  const perRound = Number(args.round)
  const until = performance.now() + Number(args.seconds) * 1000
  for (let r = 0; performance.now() < until; r++) {
    for (const v of r % 2 === 0 ? variants : [...variants].reverse()) for (let k = 0; k < perRound; k++) await runTest(v, n++)
    if (r % 10 === 0) log(`round ${r}: ${n} tests, ${Math.round((performance.now() - t0) / 1000)} s`)
  }
  // The statistics collector reports with a delay: give it a moment.
  await new Promise((r) => setTimeout(r, 1500))
  const rows = []
  for (const v of variants) {
    const counts = await vacuumCounts(v)
    rows.push({
      variant: v.name,
      tests: v.tests.length,
      testMs: { ...summarize(v.tests), p99: round(quantile(v.tests, 0.99)) },
      checkMs: summarize(v.checks),
      dropSchemaMs: summarize(v.drops),
      dropsOver200ms: v.drops.filter((x) => x >= 200).length,
      guardErrors: v.guardErrors,
      lostJobs: v.lostJobs,
      outOfOrder: v.outOfOrder,
      // Test time early and late in the run: does anything grow (bloat) without vacuum?
      firstQuarterMedianMs: round(quantile(v.tests.slice(0, Math.floor(v.tests.length / 4)), 0.5)),
      lastQuarterMedianMs: round(quantile(v.tests.slice(-Math.floor(v.tests.length / 4)), 0.5)),
      ...(await sizes(v)),
      ...counts,
    })
  }
  const result = { date: new Date().toISOString(), machine: { cpus: os.cpus().length, node: process.version, loadAvgBefore: loadBefore, loadAvgAfter: os.loadavg().map((x) => round(x, 2)) }, durationS: round((performance.now() - t0) / 1000, 1), rows }
  log(JSON.stringify(rows, null, 2))
  if (!args['no-write']) {
    fs.writeFileSync(RESULTS_JSON, `${JSON.stringify(result, null, 2)}\n`)
    const f = (s: Summary): string => `${round(s.median)} / ${round(s.p90)} / ${round(s.max)}`
    const table = rows.map((r) => `| ${r.variant} | ${r.tests} | ${f(r.testMs)} (p99 ${r.testMs.p99}) | ${r.firstQuarterMedianMs} / ${r.lastQuarterMedianMs} | ${f(r.checkMs)} | ${f(r.dropSchemaMs)} | ${r.dropsOver200ms} | ${r.outOfOrder} tests | ${r.guardErrors} | ${r.autovacuum} + ${r.autoanalyze} (catalog ${r.catalogAutovacuum}) | ${r.catalogKB} kB / ${r.churnedKB} kB |`).join('\n')
    writeResultsSection(
      'autovacuum',
      `## Autovacuum on or off — \`autovacuum.bench.ts\`

${result.date.slice(0, 10)}; ${result.machine.cpus} CPUs, Node ${result.machine.node}; load average ${loadBefore.join(' / ')} before, ${result.machine.loadAvgAfter.join(' / ')} after; ${result.durationS} s, rounds of ${args.round} tests alternating between the two servers. Each test: its own schema, ${JOBS} jobs taken by ${WORKERS} connections with \`FOR UPDATE SKIP LOCKED\`, a write to a shared guarded table, \`DROP SCHEMA\`, then the guard's check and restore. Times in ms as median / p90 / max.

| server | tests | test | test, first / last quarter | guard check | cleanup \`DROP SCHEMA\` | drops ≥ 200 ms | rows out of insertion order | guard errors | autovacuum + autoanalyze runs | catalog / churned tables at the end |
|---|---|---|---|---|---|---|---|---|---|---|
${table}`,
    )
  }
} finally {
  for (const v of variants) {
    for (const c of v.clients) await c.end().catch(() => {})
    await v.guard.close()
    await v.env.stop()
  }
}
