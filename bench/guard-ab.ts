// The guard's per-test cost, two sides interleaved test by test in one process (so a shared
// machine's load weighs on both alike), each side on its own PostgreSQL (the WAL is the server's:
// one side's writes would move the other's quiet check off its short path):
//
//   --ab owners      this checkout, tables owned by the superuser against tables owned by a role
//                    without superuser rights (the restore runs as that role: SET LOCAL ROLE)
//   --ab DIR         another checkout (its node_modules linked) against this one, same workload
//
// Rows: a test's writes then rig's check + restore (one round trip where the log allows), the
// check of a test that wrote nothing, the check and restore in two round trips, and settle +
// check as the runners do it after each test (settleAndCheck where the side has it, else
// settle() then check()), after a test that wrote and after one that did not.
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { connectPg, type PgClient } from '../src/drivers/pg.ts'
import { schemaSql, tableName, testWrites, type Workload } from './guard-workload.ts'
import { type Summary, summarize } from './lib/stats.ts'

type Rig = typeof import('../src/index.ts')
type GuardApi = typeof import('../src/guard/index.ts')

interface Side {
  name: string
  rig: Rig
  guard: GuardApi
  /** Tables owned by this role (created without superuser rights) instead of the superuser. */
  owner?: string
}

/** The sides of `--ab owners` or `--ab <checkout>`. */
export async function abSides(ab: string): Promise<Side[]> {
  const rig = (await import('../src/index.ts')) as Rig
  const guard = (await import('../src/guard/index.ts')) as GuardApi
  if (ab === 'owners') return [{ name: 'superuser-owned', rig, guard }, { name: 'role-owned', rig, guard, owner: 'bench_app' }]
  const base = path.resolve(ab)
  return [
    { name: 'base', rig: (await import(pathToFileURL(path.join(base, 'src/index.ts')).href)) as Rig, guard: (await import(pathToFileURL(path.join(base, 'src/guard/index.ts')).href)) as GuardApi },
    { name: 'this', rig, guard },
  ]
}

/** The figures of one side. */
type AbRow = 'checkRestore' | 'nothing' | 'separate' | 'settled' | 'settledNothing'

type GuardLike = InstanceType<GuardApi['Guard']>
type Report = Awaited<ReturnType<GuardLike['check']>>

/** What a runner does after a test: `settleAndCheck` where the side's guard has it, else settle() then check(). */
async function settleAndCheck(guard: GuardLike, test: string): Promise<Report> {
  const g = guard as GuardLike & { settleAndCheck?: (test: string) => Promise<{ report: Report }> }
  if (g.settleAndCheck) return (await g.settleAndCheck(test)).report
  const settled = await guard.settle()
  if (settled.error) await guard.settle()
  return guard.check(test)
}

/** Per side: medians of a test's check + restore, the check after nothing, two round trips, settled. */
export interface AbColumn {
  sides: Record<string, Record<AbRow, Summary> & { strategies: string[] }>
  /** Second side ÷ first, medians. */
  ratios: Record<AbRow, number>
}

const time = async (fn: () => Promise<unknown>): Promise<number> => {
  const t0 = performance.now()
  await fn()
  return performance.now() - t0
}

/** Hands every table of the workload to `owner` (a role without superuser rights). */
function ownedBy(w: Workload, owner: string): string {
  const tables = [...Array.from({ length: w.tables }, (_, i) => tableName(i + 1)), ...(w.bigRows > 0 ? ['big'] : [])]
  return [`create role ${owner}`, ...tables.map((t) => `alter table ${t} owner to ${owner}`)].join(';\n')
}

/** One column of the A/B: both sides seeded alike, then `runs` tests, alternating which side goes first. */
export async function abColumn(sides: readonly Side[], w: Workload, runs: number, log: (line: string) => void): Promise<AbColumn> {
  const live = await Promise.all(
    sides.map(async (s) => {
      const env = await s.rig.startEnvironment(s.rig.defineConfig({ services: { db: s.rig.postgres({ database: 'bench' }) } }))
      const app: PgClient = await connectPg(env.get('db').url)
      await app.query(schemaSql(w))
      if (s.owner) await app.query(ownedBy(w, s.owner))
      await app.query('vacuum analyze')
      const store = s.guard.postgresStore(env.get('db'), { detection: 'triggers' })
      const guard = s.guard.createGuard({ stores: [store] })
      await guard.baseline()
      return { side: s, env, app, store, guard, leak: [] as number[], clean: [] as number[], separate: [] as number[], settled: [] as number[], settledNothing: [] as number[], strategies: new Set<string>() }
    }),
  )
  try {
    log(`[${w.label}] A/B ${sides.map((s) => s.name).join(' vs ')}, ${runs} tests each`)
    for (let i = -3; i < runs; i++) {
      for (const l of i % 2 ? [...live].reverse() : live) {
        await l.app.query(testWrites(w, i))
        const t1 = await time(async () => {
          const r = await l.guard.check('writes')
          const s = r.stores[0]
          if (!r.leaked || s?.detection !== 'triggers' || r.errors.length > 0) throw new Error(`${l.side.name}: expected a logged leak, got ${JSON.stringify(r.stores)}`)
          l.strategies.add(`${s.restore?.strategy ?? '?'}${s.restore?.withCheck ? ' (with the check)' : ''}`)
        })
        const t2 = await time(() => l.guard.check('reads'))
        await l.app.query(testWrites(w, i))
        const t3 = await time(async () => {
          const d = await l.store.diff()
          await l.store.restore(d, 'auto')
        })
        if ((await l.guard.check('reads')).stores[0]?.changes.length) throw new Error(`${l.side.name}: the separate restore left changes`)
        // As the runners do after each test: settle, then check (settleAndCheck where the side has it).
        await l.app.query(testWrites(w, i))
        const t4 = await time(async () => {
          if (!(await settleAndCheck(l.guard, 'writes, settled')).leaked) throw new Error(`${l.side.name}: expected a leak after settling`)
        })
        const t5 = await time(async () => {
          if ((await settleAndCheck(l.guard, 'reads, settled')).stores[0]?.changes.length) throw new Error(`${l.side.name}: changes after a settled restore`)
        })
        if (i >= 0) l.leak.push(t1), l.clean.push(t2), l.separate.push(t3), l.settled.push(t4), l.settledNothing.push(t5)
      }
    }
  } finally {
    for (const l of live) {
      await l.guard.close()
      await l.app.end()
      await l.env.stop()
    }
  }
  const sum = (xs: number[]): Summary => summarize(xs, 3)
  const out: AbColumn['sides'] = Object.fromEntries(
    live.map((l) => [l.side.name, { checkRestore: sum(l.leak), nothing: sum(l.clean), separate: sum(l.separate), settled: sum(l.settled), settledNothing: sum(l.settledNothing), strategies: [...l.strategies] }]),
  )
  const [a, b] = live.map((l) => out[l.side.name])
  const r = (x?: Summary, y?: Summary): number => Math.round(((y?.median ?? Number.NaN) / (x?.median ?? Number.NaN)) * 100) / 100
  return {
    sides: out,
    ratios: { checkRestore: r(a?.checkRestore, b?.checkRestore), nothing: r(a?.nothing, b?.nothing), separate: r(a?.separate, b?.separate), settled: r(a?.settled, b?.settled), settledNothing: r(a?.settledNothing, b?.settledNothing) },
  }
}

/** The A/B as a RESULTS.md section. */
export function abSection(title: string, head: string, columns: Record<string, AbColumn>): string {
  const labels = Object.keys(columns)
  const names = Object.keys(columns[labels[0] ?? '']?.sides ?? {})
  const num = (x: number): string => (x < 10 ? x.toFixed(2) : x.toFixed(1))
  const cell = (s?: Summary): string => (s ? `${num(s.median)} (${num(s.p90)})` : '—')
  const rows: Array<[AbRow, string]> = [
    ['checkRestore', 'check + restore after a test that wrote'],
    ['nothing', 'check, nothing written'],
    ['separate', 'check, then restore, two round trips'],
    ['settled', 'settle + check + restore after a test that wrote, as the runners do'],
    ['settledNothing', 'settle + check, nothing written'],
  ]
  return [
    title,
    '',
    head,
    '',
    `| ms: median (p90) | ${labels.map((l) => (l === '1M' ? '50 tables + 1M-row table' : `${l} tables`)).join(' | ')} |`,
    `|---|${labels.map(() => '---').join('|')}|`,
    ...rows.flatMap(([k, name]) => [
      ...names.map((n) => `| ${name}, ${n} | ${labels.map((l) => cell(columns[l]?.sides[n]?.[k])).join(' | ')} |`),
      `| ${name}: ${names[1]} ÷ ${names[0]} | ${labels.map((l) => `${columns[l]?.ratios[k]}×`).join(' | ')} |`,
    ]),
    '',
    // The fastest sample is the floor of each path: what is left when the machine's load did not get in the way.
    `| fastest sample, ms (n) | ${labels.map((l) => (l === '1M' ? '50 tables + 1M-row table' : `${l} tables`)).join(' | ')} |`,
    `|---|${labels.map(() => '---').join('|')}|`,
    ...rows.flatMap(([k, name]) => [
      ...names.map((n) => `| ${name}, ${n} | ${labels.map((l) => `${num(columns[l]?.sides[n]?.[k].min ?? Number.NaN)} (${columns[l]?.sides[n]?.[k].n})`).join(' | ')} |`),
      `| ${name}: ${names[1]} ÷ ${names[0]} | ${labels.map((l) => `${floorRatio(columns[l], names, k)}×`).join(' | ')} |`,
    ]),
  ].join('\n')
}

function floorRatio(c: AbColumn | undefined, names: readonly string[], k: AbRow): number {
  const [a, b] = names.map((n) => c?.sides[n]?.[k].min ?? Number.NaN)
  return Math.round(((b ?? Number.NaN) / (a ?? Number.NaN)) * 100) / 100
}
