// keepOnFailure through the Vitest plugin, on the environment of `rig up`: a failing test's
// tables are kept where the next test cannot see them, the failure says where, the data is still
// there after the run, and the next run drops it before it starts.
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, test } from 'vitest'
import { connectPg } from '../../src/drivers/pg.ts'
import type { Project } from '../support/project.ts'
import { pluginProject, vitest } from '../support/vitest-project.ts'

let project: Project | undefined

afterEach(async () => {
  await project?.dispose()
  project = undefined
})

const CONFIG = `import { defineConfig, postgres } from 'testrig'
export default defineConfig({ services: { db: postgres() } })
`

// A suite that keeps a schema per test and drops it in its own cleanup, which a failure skips.
const TESTS = `import { expect, test } from 'vitest'
import pg from 'pg'

const q = async (sql: string): Promise<unknown[]> => {
  const c = new pg.Client({ connectionString: process.env.RIG_DB_URL })
  await c.connect()
  try {
    return (await c.query(sql)).rows
  } finally {
    await c.end()
  }
}

test('starts from a database without the other tests\\' schemas', async () => {
  expect(await q("select nspname from pg_namespace where nspname like 'queue_%'")).toEqual([])
})

test('fails halfway through', async () => {
  await q("create schema queue_1; create table queue_1.job (id int primary key, state text); insert into queue_1.job values (1, 'active')")
  expect('active').toBe('completed')
  await q('drop schema queue_1 cascade')
})
`

const errorsOf = (p: Project, name: string): string => {
  const report = JSON.parse(fs.readFileSync(path.join(p.dir, 'rig-report/report.json'), 'utf8')) as { tests: { name: string; errors: string[] }[] }
  return report.tests.find((t) => t.name === name)?.errors.join('\n') ?? ''
}

describe('vitest plugin: guard.keepOnFailure', () => {
  test('keeps a failed test\'s tables in rig_kept_1 of rig up\'s database, says where, and the next run drops them first', async () => {
    project = pluginProject(CONFIG, "{ order: { shuffle: false }, guard: { keepOnFailure: true } }")
    project.write('test/queue.test.ts', TESTS)
    const up = await project.rig(['up', '--detach', '--json'])
    expect(up.code).toBe(0)
    const url = (JSON.parse(up.stdout) as { services: Record<string, { url: string }> }).services.db?.url as string
    const kept = async (): Promise<unknown[]> => {
      const c = await connectPg(url)
      try {
        const schemas = (await c.query<{ n: string }>(`select nspname as n from pg_namespace where nspname like 'rig_kept_%' or nspname like 'queue_%' order by 1`)).rows.map((r) => r.n)
        const rows = schemas.includes('rig_kept_1') ? (await c.query(`select * from rig_kept_1."queue_1.job"`)).rows : []
        return [schemas, rows]
      } finally {
        await c.end()
      }
    }

    for (let run = 1; run <= 2; run++) {
      const r = await vitest(project)
      expect(r.code).toBe(1)
      if (run === 2) expect(r.output).toContain('rig: db: dropped what the last run kept of 1 failed test')
      const errors = errorsOf(project, 'fails halfway through')
      expect(errors).toContain("expected 'active' to be 'completed'")
      expect(errors).toContain('rig kept what this test left:\n  postgres db: schema rig_kept_1 (1 table: queue_1.job)')
      // rig up's environment outlives the run: nothing says the data goes.
      expect(errors).not.toContain('goes with')
      expect(errorsOf(project, "starts from a database without the other tests' schemas")).toBe('')
      // Where the report's cut log excerpts send readers: the service's whole log.
      const report = JSON.parse(fs.readFileSync(path.join(project.dir, 'rig-report/report.json'), 'utf8')) as { environment: { services: { service: string; logFile?: string }[] } }
      expect(report.environment.services.find((s) => s.service === 'db')?.logFile).toBe(path.join('.rig', 'logs', 'db.log'))
      // The schema the test created is restored away; the copy stays.
      expect(await kept()).toEqual([['rig_kept_1'], [{ id: 1, state: 'active' }]])
    }
    // rig up, two vitest runs and rig down: a minute on a quiet machine.
  }, 240_000)
})
