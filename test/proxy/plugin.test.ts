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
