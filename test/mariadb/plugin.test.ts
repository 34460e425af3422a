// The Vitest plugin over a MariaDB service, in a throw-away project run by a real `vitest run`:
// a fixture loaded from an SQL file, a leak failing the test that made it, and per-worker copies.
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, test } from 'vitest'
import { envDirs, leftovers, type Project } from '../support/project.ts'
import { pluginProject, vitest } from '../support/vitest-project.ts'

let project: Project | undefined
afterEach(async () => {
  await project?.dispose()
  project = undefined
})

const CONFIG = `import { defineConfig, mariadb } from 'testrig'
export default defineConfig({ services: { db: mariadb() }, fixtures: { fleet: { db: 'fleet.sql' } } })
`
const FLEET = `create table cars (id int auto_increment primary key, name varchar(20) not null);
insert into cars (name) values ('a'), ('b'), ('c');
`
const report = (p: Project): { tests: { name: string; status: string; errors: string[] }[] } => JSON.parse(fs.readFileSync(path.join(p.dir, 'rig-report/report.json'), 'utf8'))

describe('vitest plugin with mariadb()', () => {
  test('a leak fails the test that made it, and the next test starts from the fixture', async () => {
    project = pluginProject(CONFIG, "{ fixture: 'fleet', order: { shuffle: false } }")
    project.write('fleet.sql', FLEET)
    project.write(
      'test/cars.test.ts',
      `import { expect, test } from 'vitest'
import mysql from 'mysql2/promise'
const q = async (sql: string) => { const c = await mysql.createConnection(process.env.RIG_DB_URL as string); try { return (await c.query(sql))[0] as any[] } finally { await c.end() } }
test('adds a car and forgets it', async () => { await q("insert into cars (name) values ('d')") })
test('sees the fleet only', async () => { expect(await q('select count(*) as n from cars')).toEqual([{ n: 3 }]) })
`,
    )
    fs.symlinkSync(path.join(import.meta.dirname, '../../node_modules/mysql2'), path.join(project.dir, 'node_modules/mysql2'))
    const r = await vitest(project)
    expect(r.code, r.output).toBe(1)
    const tests = report(project).tests
    expect(tests.find((t) => t.name === 'adds a car and forgets it')?.errors.join('\n')).toContain('mariadb db: cars +1 row')
    expect(tests.find((t) => t.name === 'sees the fleet only')?.status).toBe('passed')
    expect(leftovers(project.dir)).toEqual([])
    expect(envDirs(project.dir)).toEqual([])
  }, 120_000)

  test("isolation 'database': each worker writes to its own copy", async () => {
    project = pluginProject(CONFIG, "{ fixture: 'fleet', isolation: 'database' }")
    project.write('fleet.sql', FLEET)
    for (const n of [1, 2, 3]) {
      project.write(
        `test/w${n}.test.ts`,
        `import { expect, test } from 'vitest'
import mysql from 'mysql2/promise'
test('writes and reads its own copy', async () => {
  const c = await mysql.createConnection(process.env.RIG_DB_URL as string)
  try {
    await c.query("insert into cars (name) values ('w${n}')")
    const [rows] = await c.query('select count(*) as n, database() as d from cars')
    expect((rows as any[])[0].n).toBe(4)
    expect((rows as any[])[0].d).toMatch(/^rig_w_app_/)
    await c.query("delete from cars where name = 'w${n}'")
  } finally { await c.end() }
})
`,
      )
    }
    fs.symlinkSync(path.join(import.meta.dirname, '../../node_modules/mysql2'), path.join(project.dir, 'node_modules/mysql2'))
    const r = await vitest(project)
    expect(r.code, r.output).toBe(0)
    expect(leftovers(project.dir)).toEqual([])
  }, 120_000)
})
