// `rig up` with a MariaDB service, `rig snapshot` on it, `rig down`: real subprocesses in a
// throw-away project.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { leftovers, makeProject, type Project } from '../support/project.ts'
import { waitUntil } from '../support/procs.ts'
import { sql } from './helpers.ts'

const CONFIG = `
import { defineConfig, mariadb } from 'testrig'
export default defineConfig({ services: { legacy: mariadb({ database: 'fleet' }) } })
`

describe('rig up / snapshot / down with mariadb()', { shuffle: false }, () => {
  let p: Project
  let url: string
  beforeAll(async () => {
    p = makeProject(CONFIG)
    const r = await p.rig(['up', '--detach', '--json'])
    expect(r.code, r.stderr).toBe(0)
    url = (JSON.parse(r.stdout) as { services: Record<string, { url: string }> }).services.legacy?.url ?? ''
  }, 120_000)
  afterAll(async () => {
    await p.dispose()
    expect(await waitUntil(() => leftovers(p.dir).length === 0)).toBe(true)
  })

  it('prints the URL with its credentials and the status', async () => {
    expect(url).toMatch(/^mysql:\/\/root:[A-Za-z0-9_-]{24}@127\.0\.0\.1:\d+\/fleet$/)
    const r = await p.rig(['status'])
    expect(r.stdout).toMatch(/^legacy\s+mariadb\s+ready\s+mysql:\/\//m)
  })

  it('saves, lists, restores and drops a snapshot', async () => {
    await sql(url, `create table vehicles (id int auto_increment primary key, plate varchar(10)); insert into vehicles (plate) values ('AB-1'), ('AB-2')`)
    expect((await p.rig(['snapshot', 'save', 'two'])).code).toBe(0)
    await sql(url, `delete from vehicles; insert into vehicles (plate) values ('ZZ-9')`)
    const restored = await p.rig(['snapshot', 'restore', 'two'])
    expect(restored.code, restored.stderr).toBe(0)
    expect(restored.stdout).toMatch(/restored snapshot "two" \(legacy\)/)
    expect(await sql(url, `select plate from vehicles order by id`)).toEqual([{ plate: 'AB-1' }, { plate: 'AB-2' }])
    const list = await p.rig(['snapshot', 'list', '--json'])
    expect(JSON.parse(list.stdout)).toEqual({ snapshots: [{ name: 'two', stores: ['legacy'] }] })
    expect((await p.rig(['snapshot', 'drop', 'two'])).code).toBe(0)
    const missing = await p.rig(['snapshot', 'restore', 'two'])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain('no snapshot "two" for store "legacy"')
  })

  it('down stops it', async () => {
    expect((await p.rig(['down'])).code).toBe(0)
    expect(await waitUntil(() => leftovers(p.dir).length === 0)).toBe(true)
  })
})
