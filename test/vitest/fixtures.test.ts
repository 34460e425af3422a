// Fixtures through the plugin, in throw-away projects run by a real `vitest run`: a fixture
// loaded once for the run (and cloned per worker under isolation 'database'), another one a
// test file switches to, and the next file back on the run's data.
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, test } from 'vitest'
import { connectPg } from '../../src/drivers/pg.ts'
import { envDirs, leftovers, type Project } from '../support/project.ts'
import { pluginProject, vitest } from '../support/vitest-project.ts'

let project: Project | undefined

afterEach(async () => {
  await project?.dispose()
  project = undefined
})

const config = `import { defineConfig, postgres, command } from 'testrig'
export default defineConfig({
  services: {
    db: postgres(),
    migrate: command({ run: [process.execPath, 'migrate.ts'], dependsOn: ['db'], oneShot: true, env: { DATABASE_URL: '{db.url}' } }),
  },
  fixtures: {
    fleet: { db: 'fixtures/fleet.sql' },
    customers: async ({ urls }) => {
      const pg = (await import('pg')).default
      const c = new pg.Client({ connectionString: urls.db })
      await c.connect()
      await c.query("insert into customers (name) values ('Ada'), ('Grace')")
      await c.end()
    },
  },
})
`

const migrate = `import pg from 'pg'
const c = new pg.Client({ connectionString: process.env.DATABASE_URL })
await c.connect()
await c.query('create table cars (id serial primary key, name text not null); create table customers (id serial primary key, name text not null)')
await c.end()
`

/** A test file asserting what the tables hold; \`before\` runs in beforeAll. */
const testFile = (expected: { cars: string[]; customers: string[] }, before = '', extra = ''): string => `import { beforeAll, expect, test } from 'vitest'
import pg from 'pg'
import { rig } from 'testrig/vitest'
const q = async (sql) => {
  const c = new pg.Client({ connectionString: process.env.RIG_DB_URL })
  await c.connect()
  try { return (await c.query(sql)).rows.map((r) => r.name) } finally { await c.end() }
}
${before ? `beforeAll(async () => { ${before} })` : ''}
test('sees its data', async () => {
  expect(await q('select name from cars order by id')).toEqual(${JSON.stringify(expected.cars)})
  expect(await q('select name from customers order by id')).toEqual(${JSON.stringify(expected.customers)})
})
${extra}
`

function fixtureProject(pluginOptions: string): Project {
  const p = pluginProject(config, pluginOptions)
  // Switching fixtures copies the database twice and loads rig.config.ts in the worker: seconds on a loaded machine.
  p.write('vitest.config.ts', `import { defineConfig } from 'vitest/config'\nimport { rig } from 'testrig/vitest'\nexport default defineConfig({ plugins: [rig(${pluginOptions})], test: { include: ['test/**/*.test.ts'], hookTimeout: 120_000 } })\n`)
  p.write('migrate.ts', migrate)
  p.write('fixtures/fleet.sql', "insert into cars (name) values ('van'), ('truck');\n")
  const fleet = { cars: ['van', 'truck'], customers: [] }
  p.write('test/a.test.ts', testFile(fleet))
  // Switches to another data set, loaded on top of the run's: its tests see it, and are
  // restored to it after a write.
  p.write(
    'test/b.test.ts',
    testFile({ cars: ['van', 'truck'], customers: ['Ada', 'Grace'] }, "await rig.useFixture('customers')", `test('writes', async () => { rig.allowLeak(); await q("insert into customers (name) values ('Linus')") })
test('sees the fixture again', async () => { expect(await q('select name from customers order by id')).toEqual(['Ada', 'Grace']) })`),
  )
  p.write('test/c.test.ts', testFile(fleet))
  return p
}

const report = (p: Project): { tests: { name: string; status: string; errors: string[] }[] } => JSON.parse(fs.readFileSync(path.join(p.dir, 'rig-report/report.json'), 'utf8'))

describe('vitest plugin: fixtures', () => {
  for (const isolation of ['shared', 'database'] as const) {
    test(`rig({ fixture }) is every file's data; rig.useFixture switches one file (isolation '${isolation}')`, { timeout: 240_000 }, async () => {
      project = fixtureProject(`{ fixture: 'fleet', isolation: '${isolation}', order: { shuffle: false } }`)
      const r = await vitest(project)
      expect(r.output).toMatch(/rig: fixture "fleet" loaded in \d+ ms/)
      const tests = report(project).tests
      expect(tests.filter((t) => t.status !== 'passed').map((t) => `${t.name}: ${t.errors.join('\n')}`)).toEqual([])
      expect(tests).toHaveLength(5)
      expect(r.code).toBe(0)
      expect(leftovers(project.dir)).toEqual([])
      expect(envDirs(project.dir)).toEqual([])
    })
  }

  test('an unknown fixture fails the run with the known names; a broken one names its file and line', async () => {
    project = fixtureProject(`{ fixture: 'fleat', order: { shuffle: false } }`)
    const r = await vitest(project)
    expect(r.code).not.toBe(0)
    expect(r.output).toMatch(/no fixture "fleat" — did you mean "fleet"\?/)
    expect(leftovers(project.dir)).toEqual([])

    project.write('vitest.config.ts', fs.readFileSync(path.join(project.dir, 'vitest.config.ts'), 'utf8').replace("'fleat'", "'fleet'"))
    project.write('fixtures/fleet.sql', "insert into cars (name) values ('van');\ninsert into cars (nom) values ('truck');\n")
    const r2 = await vitest(project)
    expect(r2.code).not.toBe(0)
    expect(r2.output).toMatch(/fixture "fleet" \(store "db"\) failed to load: fixtures\/fleet\.sql:2:\d+: column "nom" of relation "cars" does not exist/)
    expect(leftovers(project.dir)).toEqual([])
  })

  test('on the environment of rig up, the run gives the data back as it was', { timeout: 240_000 }, async () => {
    project = fixtureProject(`{ fixture: 'fleet', order: { shuffle: false } }`)
    const up = await project.rig(['up', '--detach', '--json'])
    expect(up.code).toBe(0)
    const url = (JSON.parse(up.stdout) as { services: Record<string, { url: string }> }).services.db?.url as string
    for (let run = 1; run <= 2; run++) {
      const r = await vitest(project)
      expect(r.output).toMatch(/using the environment started by rig up/)
      expect(report(project).tests.filter((t) => t.status !== 'passed').map((t) => t.errors.join('\n'))).toEqual([])
    }
    const c = await connectPg(url)
    try {
      expect((await c.query<{ n: number }>('select count(*)::int as n from cars')).rows).toEqual([{ n: 0 }])
      expect((await c.query<{ n: number }>(`select count(*)::int as n from pg_database where datname like 'rig_snap_%'`)).rows).toEqual([{ n: 0 }])
    } finally {
      await c.end()
    }
  })

  test('rig up --fixture loads a data set once the services are ready; a misspelt one starts nothing', async () => {
    project = fixtureProject(`{ order: { shuffle: false } }`)
    const bad = await project.rig(['up', '--detach', '--fixture', 'fleat'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/no fixture "fleat" — did you mean "fleet"\?/)
    expect(leftovers(project.dir)).toEqual([])
    const up = await project.rig(['up', '--detach', '--json', '--fixture', 'fleet'])
    expect(up.code).toBe(0)
    const url = (JSON.parse(up.stdout) as { services: Record<string, { url: string }> }).services.db?.url as string
    const c = await connectPg(url)
    try {
      expect((await c.query<{ name: string }>('select name from cars order by id')).rows).toEqual([{ name: 'van' }, { name: 'truck' }])
    } finally {
      await c.end()
    }
  })
})
