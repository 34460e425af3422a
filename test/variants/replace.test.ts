// A variant that replaces one implementation of a system by another: the same suite against
// PostgreSQL and against MariaDB in one run (`rig({ variants: true })`), the app wired to
// whichever database its variant starts, each database guarded by its own guard.
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, test } from 'vitest'
import { FIXTURES, REPO, leftovers, type Project } from '../support/project.ts'
import { pluginProject, until, vitest } from '../support/vitest-project.ts'

let project: Project | undefined

afterEach(async () => {
  await project?.dispose()
  project = undefined
})

describe('a variant that replaces a service', () => {
  test('postgres() in one variant, mariadb() in the other: the app gets the database of its variant, the tests reach it and its guard sees what they leave', async () => {
    project = pluginProject(
      `import { defineConfig, command, http, mariadb, postgres } from 'testrig'
export default defineConfig({
  services: {
    db: postgres(),
    app: command({ run: [process.execPath, ${JSON.stringify(path.join(FIXTURES, 'echo-server.cjs'))}], dependsOn: ['db'], env: { PORT: '{port}', DATABASE_URL: '{db.url}' }, ready: http('/health') }),
  },
  variants: { pg: {}, maria: { services: { db: mariadb() } } },
})
`,
      '{ order: { shuffle: false }, variants: true }',
    )
    fs.symlinkSync(path.join(REPO, 'node_modules', 'mysql2'), path.join(project.dir, 'node_modules', 'mysql2'))
    project.write(
      'test/db.test.ts',
      `import { test, expect } from 'vitest'
import { services, variant } from 'testrig/vitest'
import pg from 'pg'
import mysql from 'mysql2/promise'
const url = () => services().db.url
async function sql(text: string): Promise<unknown[]> {
  if (variant() === 'maria') {
    const c = await mysql.createConnection(url())
    try { return (await c.query(text))[0] as unknown[] } finally { await c.end() }
  }
  const c = new pg.Client({ connectionString: url() })
  await c.connect()
  try { return (await c.query(text)).rows } finally { await c.end() }
}
test('the app is wired to the database of its variant', async () => {
  expect(await (await fetch(services().app.url + '/env/DATABASE_URL')).text()).toBe(url())
  expect(url().split(':')[0]).toBe(variant() === 'maria' ? 'mysql' : 'postgres')
})
test('the database is the one the variant names', async () => {
  const [row] = (await sql('select version() as v')) as { v: string }[]
  expect(row?.v).toMatch(variant() === 'maria' ? /MariaDB/ : /^PostgreSQL/)
})
test('leaves a table behind', async () => {
  await sql('create table left_behind (id int)')
})
`,
    )
    const r = await vitest(project)
    expect(r.code).toBe(1)
    for (const [v, store] of [
      ['pg', /postgres db/],
      ['maria', /mariadb db/],
    ] as const) {
      const report = JSON.parse(fs.readFileSync(path.join(project.dir, 'rig-report', v, 'report.json'), 'utf8')) as { variant: string; tests: { name: string; status: string; leaks: { store: string; items: string[] }[] }[] }
      expect(report.variant).toBe(v)
      expect(report.tests.map((t) => [t.name, t.status])).toEqual([
        ['the app is wired to the database of its variant', 'passed'],
        ['the database is the one the variant names', 'passed'],
        ['leaves a table behind', 'failed'],
      ])
      const leak = report.tests[2]?.leaks[0]
      expect(leak?.store).toMatch(store)
      expect(leak?.items.join(' ')).toMatch(/left_behind/)
    }
    await until(() => leftovers(project!.dir).length === 0, 30_000)
    expect(leftovers(project.dir)).toEqual([])
  }, 400_000)
})
