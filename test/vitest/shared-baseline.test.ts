// The plugin takes the guard's baseline once for the run and holds the guard in Vitest's main
// process: every test file is checked by the same session (the same shadow copies and
// connections, never made again), a leak is still blamed on its test and restored, and a schema
// change is followed from file to file as within one.
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

const CONFIG = `import { command, defineConfig, postgres } from 'testrig'
export default defineConfig({
  services: {
    db: postgres(),
    migrate: command({ run: [process.execPath, 'migrate.ts'], dependsOn: ['db'], oneShot: true, env: { DATABASE_URL: '{db.url}' } }),
  },
})
`

const MIGRATE = `import pg from 'pg'
const c = new pg.Client({ connectionString: process.env.DATABASE_URL })
await c.connect()
await c.query("create table cars (id serial primary key, name text not null); insert into cars (name) values ('van'), ('truck'); create table trips (id serial primary key, car_id int references cars(id))")
await c.end()
`

// Every file: the seeded rows and an empty trips table whose next id is 1; it writes down the
// oids of the guard's shadow copies as it found them.
const HEADER = (file: string): string => `import fs from 'node:fs'
import { expect, test } from 'vitest'
import pg from 'pg'
const q = async (sql) => {
  const c = new pg.Client({ connectionString: process.env.RIG_DB_URL })
  await c.connect()
  try { return (await c.query(sql)).rows } finally { await c.end() }
}
test('${file}: starts from the seeded data', async () => {
  expect((await q('select name from cars order by id')).map((r) => r.name)).toEqual(['van', 'truck'])
  expect(await q('insert into trips (car_id) values (1) returning id')).toEqual([{ id: 1 }])
  await q('delete from trips')
  const [{ o }] = await q("select string_agg(c.oid::text, ',' order by c.oid) as o from pg_class c where c.relnamespace = 'rig_guard'::regnamespace")
  fs.writeFileSync('shadow-${file}.txt', String(o))
  const [{ p }] = await q("select string_agg(pid::text, ',' order by pid) as p from pg_stat_activity where application_name = 'rig-guard' and datname = current_database()")
  fs.writeFileSync('guard-${file}.txt', String(p))
})
`

const report = (p: Project): { tests: { name: string; status: string; file: string; errors: string[] }[] } => JSON.parse(fs.readFileSync(path.join(p.dir, 'rig-report/report.json'), 'utf8'))

describe.each([true, false])('vitest plugin: one baseline for the run (isolate: %s)', (isolate) => {
  test('every file is checked by the run\'s guard; leaks are blamed on their test and restored; a schema change is followed into the next file', { timeout: 240_000 }, async () => {
    project = pluginProject(CONFIG, '{ order: { shuffle: false } }')
    project.write('vitest.config.ts', `import { defineConfig } from 'vitest/config'\nimport { rig } from 'testrig/vitest'\nexport default defineConfig({ plugins: [rig({ order: { shuffle: false } })], test: { include: ['test/**/*.test.ts'], isolate: ${isolate} } })\n`)
    project.write('migrate.ts', MIGRATE)
    project.write('test/a.test.ts', `${HEADER('a')}test('a: leaks', async () => { await q("insert into trips (car_id) values (2); update cars set name = 'bus' where id = 1") })\n`)
    project.write('test/b.test.ts', HEADER('b'))
    project.write('test/c.test.ts', `${HEADER('c')}test('c: changes the schema', async () => { await q('alter table cars add column color text; create table extra (id int)') })\n`)
    project.write('test/d.test.ts', `${HEADER('d')}test('d: leaks too', async () => { await q("update cars set name = 'bike' where id = 2") })\n`)
    const r = await vitest(project)
    const tests = report(project).tests
    const failed = Object.fromEntries(tests.filter((t) => t.status === 'failed').map((t) => [t.name, t.errors.join('\n')]))
    expect(Object.keys(failed).sort(), r.output).toEqual(['a: leaks', 'c: changes the schema', 'd: leaks too'])
    expect(failed['a: leaks']).toContain('public.trips +1 row')
    expect(failed['a: leaks']).toContain('public.cars 1 row changed')
    expect(failed['c: changes the schema']).toContain('public.extra created')
    expect(failed['d: leaks too']).toContain('public.cars 1 row changed')
    expect(tests.filter((t) => t.name.endsWith('starts from the seeded data')).map((t) => `${t.name} ${t.status}`)).toEqual(['a: starts from the seeded data passed', 'b: starts from the seeded data passed', 'c: starts from the seeded data passed', 'd: starts from the seeded data passed'])
    const written = (name: string): string => fs.readFileSync(path.join(project?.dir ?? '', `${name}.txt`), 'utf8')
    // Every file found the run's copies, c's DDL included: the guard is held by Vitest's main
    // process for the whole run (its connections, its baseline, c's DDL followed as within a file),
    // whether each file gets a fresh worker or not.
    expect(written('shadow-a')).not.toBe('null')
    for (const f of ['b', 'c', 'd']) expect(written(`shadow-${f}`)).toBe(written('shadow-a'))
    // (the restore's connection opens at the first restore, after a's first test)
    expect(written('guard-b')).not.toBe('null')
    expect(written('guard-c')).toBe(written('guard-b'))
    expect(written('guard-d')).toBe(written('guard-b'))
    expect(r.code).toBe(1)
    expect(leftovers(project.dir)).toEqual([])
    expect(envDirs(project.dir)).toEqual([])
  })
})
