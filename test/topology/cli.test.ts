// `rig topology` against the environment `rig up --detach` runs: the members and roles, a
// switchover and a failover with the addresses following, a rejoin, and usage errors with exit code 2.
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { leftovers, makeProject, type Project } from '../support/project.ts'
import { waitUntil } from '../support/procs.ts'

const CONFIG = `
import { defineConfig, postgres } from 'testrig'
export default defineConfig({ services: { db: postgres({ replicas: 1 }), plain: postgres() } })
`

interface TopologyJson {
  nodes: { node: number; role: string; port: number }[]
  changes: { kind: string; text: string }[]
  change?: { text: string; ms: number }
}

async function isPrimary(url: string): Promise<boolean> {
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  try {
    return (await c.query('select pg_is_in_recovery() as r')).rows[0]?.r === false
  } finally {
    await c.end()
  }
}

describe('rig topology', { shuffle: false }, () => {
  let p: Project
  let env: Record<string, string> = {}
  beforeAll(async () => {
    p = makeProject(CONFIG)
    const r = await p.rig(['up', '--detach', '--json'])
    expect(r.code, r.stderr).toBe(0)
    env = (JSON.parse(r.stdout) as { services: Record<string, { env: Record<string, string> }> }).services.db?.env ?? {}
  })
  afterAll(async () => {
    await p.dispose()
    expect(await waitUntil(() => leftovers(p.dir).length === 0)).toBe(true)
  })

  it('lists the members and their roles', async () => {
    const r = await p.rig(['topology', 'db'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/NODE\s+ROLE\s+ADDRESS\s+PID/)
    expect(r.stdout).toMatch(/0\s+primary\s+127\.0\.0\.1:\d+\s+\d+/)
    expect(r.stdout).toMatch(/1\s+replica\s+127\.0\.0\.1:\d+\s+\d+/)
  })

  it('switches over and fails over; the primary address follows; the killed node rejoins', async () => {
    const sw = await p.rig(['topology', 'db', 'switchover', '--json'])
    expect(sw.code, sw.stderr).toBe(0)
    expect((JSON.parse(sw.stdout) as TopologyJson).nodes.map((n) => n.role)).toEqual(['replica', 'primary'])
    expect(await isPrimary(env.RIG_DB_PRIMARY_URL as string)).toBe(true)
    expect(await isPrimary(env.RIG_DB_REPLICA_URL as string)).toBe(false)

    const fo = await p.rig(['topology', 'db', 'failover', '--during', 'refuse'])
    expect(fo.code, fo.stderr).toBe(0)
    expect(fo.stdout).toMatch(/^db: failover: node 1 killed, node 0 promoted in \d+ ms/)
    expect(await isPrimary(env.RIG_DB_PRIMARY_URL as string)).toBe(true)

    const back = await p.rig(['topology', 'db', 'rejoin', '1', '--json'])
    expect(back.code, back.stderr).toBe(0)
    const state = JSON.parse(back.stdout) as TopologyJson
    expect(state.nodes.map((n) => n.role)).toEqual(['primary', 'replica'])
    expect(state.changes.map((c) => c.text)).toEqual(['switchover: node 0 → replica, node 1 promoted', 'failover: node 1 killed, node 0 promoted', expect.stringMatching(/^rejoin: node 1 back as a replica/)])
  })

  it('bad input: exit code 2 and what to do', async () => {
    const self = await p.rig(['topology', 'db', 'promote', '0'])
    expect(self.code).toBe(2)
    expect(self.stderr).toContain('node 0 of "db" is the primary already')
    const plain = await p.rig(['topology', 'plain', 'failover'])
    expect(plain.code).toBe(2)
    expect(plain.stderr).toContain('service "plain" has no replicas, so it has no roles to change: give it `replicas: 1`')
    const op = await p.rig(['topology', 'db', 'explode'])
    expect(op.code).toBe(2)
    expect(op.stderr).toContain('unknown operation "explode" (promote, switchover, failover, rejoin)')
    const during = await p.rig(['topology', 'db', 'switchover', '--during', 'wait'])
    expect(during.code).toBe(2)
    expect(during.stderr).toContain('during must be "hold" or "refuse"')
    const unknown = await p.rig(['topology', 'nope'])
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toContain('no service "nope"')
  })
})
