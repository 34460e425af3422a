// Faults as tests set them through the Vitest plugin, in a throw-away project run by a real
// `vitest run`: removed after the test that set them (a held proxy too), listed in the report
// for that test only, and a fault on a service without a proxy failing with what to add.
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, expect, test } from 'vitest'
import { leftovers, type Project } from '../support/project.ts'
import { pluginProject, vitest } from '../support/vitest-project.ts'
import { waitUntil } from '../support/procs.ts'

let project: Project | undefined
afterEach(async () => {
  const dir = project?.dir
  await project?.dispose()
  project = undefined
  if (dir) expect(await waitUntil(() => leftovers(dir).length === 0)).toBe(true)
})

const config = `import { defineConfig, postgres, redis } from 'testrig'
export default defineConfig({ services: { db: postgres({ proxy: true }), cache: redis() } })
`

const testFile = `import { expect, test } from 'vitest'
import pg from 'pg'
import { rig } from 'testrig/vitest'

/** Connects, then times one query: the faults set in between apply to it. */
async function queryMs(between = async () => {}) {
  const c = new pg.Client({ connectionString: process.env.RIG_DB_URL })
  await c.connect()
  try {
    await between()
    const t = performance.now()
    await c.query('select 1')
    return performance.now() - t
  } finally {
    await c.end()
  }
}

test('a sets latency and holds the proxy', async () => {
  const db = rig.service('db')
  expect(db.url).toBe(process.env.RIG_DB_URL)
  expect(db.port).not.toBe(db.direct.port)
  expect(await queryMs(() => db.fault({ latency: 1000 }))).toBeGreaterThanOrEqual(950)
  await db.proxy.hold()
})

test('b starts without them', async () => {
  expect(await queryMs()).toBeLessThan(950)
})

test('c clears within the test', async () => {
  expect(await queryMs(async () => { await rig.service('db').fault({ latency: 1000 }); await rig.clearFaults() })).toBeLessThan(950)
})

test('d a fault on a service without a proxy says what to add', async () => {
  await expect(rig.service('cache').fault({ latency: 10 })).rejects.toThrow(/service "cache" has no proxy.*proxy: true/)
})
`

test('faults set by a test are removed after it and listed in its report entry', async () => {
  project = pluginProject(config)
  project.write('test/faults.test.ts', testFile)
  const run = await vitest(project)
  expect(run.code, run.output).toBe(0)
  const report = JSON.parse(fs.readFileSync(path.join(project.dir, 'rig-report/report.json'), 'utf8')) as { tests: { name: string; faults?: string[] }[] }
  const faults = Object.fromEntries(report.tests.map((t) => [t.name, t.faults]))
  expect(faults).toEqual({
    'a sets latency and holds the proxy': ['db: latency 1000ms', 'db: new connections held'],
    'b starts without them': undefined,
    'c clears within the test': ['db: latency 1000ms', 'every service: cleared'],
    'd a fault on a service without a proxy says what to add': ['cache: latency 10ms'],
  })
  expect(fs.readFileSync(path.join(project.dir, 'rig-report/index.html'), 'utf8')).toContain('Network faults it set')
})

// Two files in parallel workers (isolation 'database'): the test in one worker holds a fault
// while the other worker runs a test that sets and loses a fault of its own. The reset after that
// test removes only what it set: the first test still sees its latency, and after it ends the
// network is back as the config left it.
const longFile = `import fs from 'node:fs'
import { expect, test } from 'vitest'
import { rig } from 'testrig/vitest'
import { queryMs, until } from './lib.ts'

test('long holds its latency while the other worker resets after its own test', async () => {
  await rig.service('db').fault({ latency: 1000 })
  fs.writeFileSync('marks/long-set', '')
  await until('marks/short-reset')
  expect(await queryMs()).toBeGreaterThanOrEqual(950)
}, 60_000)
`

const shortFile = `import fs from 'node:fs'
import { expect, test } from 'vitest'
import { rig } from 'testrig/vitest'
import { until } from './lib.ts'

test('short 1 sets a fault of its own', async () => {
  await until('marks/long-set')
  await rig.service('db').fault({ bandwidth: 50_000_000 })
}, 60_000)

test('short 2 runs after the reset of short 1', () => {
  fs.writeFileSync('marks/short-reset', '')
  expect(fs.existsSync('marks/long-set')).toBe(true)
})
`

const libFile = `import fs from 'node:fs'
import pg from 'pg'

export async function until(file: string): Promise<void> {
  for (const end = Date.now() + 50_000; !fs.existsSync(file); await new Promise((r) => setTimeout(r, 50))) if (Date.now() > end) throw new Error('no ' + file)
}

/** Connects, then times one query. */
export async function queryMs(): Promise<number> {
  const c = new pg.Client({ connectionString: process.env.RIG_DB_URL })
  await c.connect()
  try {
    const t = performance.now()
    await c.query('select 1')
    return performance.now() - t
  } finally {
    await c.end()
  }
}
`

test('parallel workers: the reset after a test removes only the faults that test set', async () => {
  project = pluginProject(config, "{ isolation: 'database', order: { shuffle: false } }")
  project.write('test/lib.ts', libFile)
  project.write('test/long.test.ts', longFile)
  project.write('test/short.test.ts', shortFile)
  fs.mkdirSync(path.join(project.dir, 'marks'))
  const run = await vitest(project, { args: ['--maxWorkers=2'] })
  expect(run.code, run.output).toBe(0)
  const report = JSON.parse(fs.readFileSync(path.join(project.dir, 'rig-report/report.json'), 'utf8')) as { tests: { name: string; worker?: number; faults?: string[] }[]; changes?: { text: string }[] }
  const byName = Object.fromEntries(report.tests.map((t) => [t.name, t]))
  expect(byName['long holds its latency while the other worker resets after its own test']?.faults).toEqual(['db: latency 1000ms'])
  expect(byName['short 1 sets a fault of its own']?.faults).toEqual(['db: bandwidth 50000000 B/s'])
  expect(new Set(report.tests.map((t) => t.worker)).size).toBe(2)
})
