// A/B of this checkout against another one (e.g. main) in ONE process, interleaved round by
// round, so that load from other work on a shared machine hits both alike: what a change costs
// in `postgres()` ready, an environment of 4, and the guard's checks.
//
//   git worktree add /tmp/rig-base main && ln -s "$PWD/node_modules" /tmp/rig-base/node_modules
//   node bench/ab.bench.ts --base /tmp/rig-base [--rounds 30] [--checks 200]
//
// Prints medians only; nothing is written (see bench/RESULTS.md for figures kept).
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import pg from 'pg'
import { createClient } from 'redis'

const { values: args } = parseArgs({ options: { base: { type: 'string' }, rounds: { type: 'string', default: '30' }, checks: { type: 'string', default: '200' } } })
if (!args.base) {
  process.stderr.write('usage: node bench/ab.bench.ts --base DIR (a checkout of the commit to compare with, its node_modules linked)\n')
  process.exit(2)
}
type Rig = typeof import('../src/index.ts')
const here = path.dirname(fileURLToPath(import.meta.url))
const impls: Record<'base' | 'this', Rig> = {
  base: (await import(pathToFileURL(path.resolve(args.base, 'src/index.ts')).href)) as Rig,
  this: (await import('../src/index.ts')) as Rig,
}
const names = ['base', 'this'] as const
const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN
/** Alternates which side goes first, round by round. */
const order = (i: number): readonly ('base' | 'this')[] => (i % 2 ? [...names].reverse() : names)
const samples = (): Record<'base' | 'this', number[]> => ({ base: [], this: [] })
const print = (what: string, s: Record<'base' | 'this', number[]>, digits = 1): void =>
  console.log(`${what.padEnd(34)} base ${med(s.base).toFixed(digits).padStart(8)} ms   this ${med(s.this).toFixed(digits).padStart(8)} ms   (${(med(s.this) / med(s.base)).toFixed(2)}×)`)

const FIXTURES = path.join(here, 'fixtures')
const four = (I: Rig) =>
  I.defineConfig({
    services: {
      db: I.postgres(),
      cache: I.redis(),
      api: I.command({ run: [process.execPath, path.join(FIXTURES, 'api.ts')], dependsOn: ['db', 'cache'], env: { DATABASE_URL: '{db.url}', REDIS_URL: '{cache.url}', PORT: '{port}' }, ready: I.http('/health') }),
      web: I.command({ run: [process.execPath, path.join(FIXTURES, 'web.ts')], dependsOn: ['api'], env: { API_URL: '{api.url}', PORT: '{port}' }, ready: I.http('/health') }),
    },
  })

// 1. postgres() warm ready (with its ready-wait phase) and an environment of 4.
const ready = samples()
const wait = samples()
const env4 = samples()
for (const n of names) await (await impls[n].startEnvironment(impls[n].defineConfig({ services: { db: impls[n].postgres() } }))).stop()
for (let i = 0; i < Number(args.rounds); i++) {
  for (const n of order(i)) {
    const I = impls[n]
    const at: Record<string, number> = {}
    let t = performance.now()
    const e = await I.startEnvironment(I.defineConfig({ services: { db: I.postgres() } }), { onEvent: (ev) => void (at[ev.type] ??= ev.at) })
    ready[n].push(performance.now() - t)
    wait[n].push((at.ready ?? Number.NaN) - (at.started ?? Number.NaN))
    await e.stop()
    t = performance.now()
    const e4 = await I.startEnvironment(four(I))
    env4[n].push(performance.now() - t)
    await e4.stop()
  }
}
print('postgres() warm ready', ready)
print('  of which spawn → ready', wait)
print('environment of 4 ready', env4)

// 2. The guard: 50 tables × 100 rows, a test that writes 2 tables; each side on its own servers.
const envs = { base: await impls.base.startEnvironment(impls.base.defineConfig({ services: { db: impls.base.postgres({ database: 'bench' }), cache: impls.base.redis() } })), this: await impls.this.startEnvironment(impls.this.defineConfig({ services: { db: impls.this.postgres({ database: 'bench' }), cache: impls.this.redis() } })) }
try {
  const ddl = Array.from({ length: 50 }, (_, t) => `create table t${t + 1} (id serial primary key, name text, n int, parent_id int); insert into t${t + 1} (name, n) select 'r' || g, g from generate_series(1, 100) g;`).join('\n')
  const sql = { base: new pg.Client({ connectionString: envs.base.get('db').url }), this: new pg.Client({ connectionString: envs.this.get('db').url }) }
  const kv = { base: createClient({ url: envs.base.get('cache').url }), this: createClient({ url: envs.this.get('cache').url }) }
  for (const n of names) {
    await sql[n].connect()
    await sql[n].query(ddl)
    await kv[n].connect()
    for (let k = 0; k < 200; k++) await kv[n].set(`seed:${k}`, 'v')
  }
  const guards = { base: impls.base.createGuard({ stores: impls.base.storesFor(envs.base) }), this: impls.this.createGuard({ stores: impls.this.storesFor(envs.this) }) }
  for (const n of names) await guards[n].baseline()
  const leak = samples()
  const clean = samples()
  for (let i = 0; i < Number(args.checks); i++) {
    for (const n of order(i)) {
      await sql[n].query(`insert into t10 (name, n, parent_id) values ('new', 1, 5); insert into t21 (name) values ('new'); update t21 set n = n + 1 where id = 7`)
      await kv[n].set('session:x', 'a')
      await kv[n].set('seed:3', 'changed')
      let t = performance.now()
      if (!(await guards[n].check('writes')).leaked) throw new Error(`${n}: the guard saw no leak`)
      leak[n].push(performance.now() - t)
      t = performance.now()
      await guards[n].check('clean')
      clean[n].push(performance.now() - t)
    }
  }
  print('guard: leak check + restore', leak, 2)
  print('guard: check, nothing leaked', clean, 2)
  for (const n of names) {
    await guards[n].close()
    await sql[n].end()
    await kv[n].quit()
  }
} finally {
  for (const n of names) await envs[n].stop()
}
