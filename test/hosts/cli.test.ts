// `rig host` against the environment `rig up --detach` runs: the list, a host's loss and a
// partition by words, usage errors with exit code 2, and nothing left in the kernel after `rig down`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { leftovers, makeProject, type Project } from '../support/project.ts'
import { waitUntil } from '../support/procs.ts'
import { NO_HOSTS, tryConnect } from './support.ts'
import type { HostsState } from '../../src/hosts/host-network.ts'

const CONFIG = `
import { defineConfig, redis } from 'testrig'
export default defineConfig({ hosts: { core1: {}, core2: {} }, services: { a: redis({ host: 'core1' }), b: redis({ host: 'core2' }) } })
`

describe.skipIf(NO_HOSTS)('rig host', { shuffle: false }, () => {
  let p: Project
  let env: Record<string, string> = {}
  beforeAll(async () => {
    p = makeProject(CONFIG)
    const r = await p.rig(['up', '--detach', '--json'])
    expect(r.code, r.stderr).toBe(0)
    const up = JSON.parse(r.stdout) as { services: Record<string, { env: Record<string, string> }> }
    env = { ...up.services.a?.env, ...up.services.b?.env }
  })
  afterAll(async () => {
    const list = JSON.parse((await p.rig(['host', '--list', '--json'])).stdout || '{"hosts":[]}') as HostsState
    await p.dispose()
    expect(await waitUntil(() => leftovers(p.dir).length === 0)).toBe(true)
    const { execFileSync } = await import('node:child_process')
    const netns = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    for (const h of list.hosts) expect(netns).not.toContain(h.netns)
  })

  it('lists the hosts with their addresses', async () => {
    const r = await p.rig(['host', '--list'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(new RegExp(`core1\\s+${env.RIG_A_HOST?.replaceAll('.', '\\.')}\\s+up\\s+rig-`))
    expect(r.stdout).toMatch(new RegExp(`core2\\s+${env.RIG_B_HOST?.replaceAll('.', '\\.')}\\s+up`))
  })

  it('down and up by words', async () => {
    const r = await p.rig(['host', 'core2', 'down', '--json'])
    expect(r.code, r.stderr).toBe(0)
    expect((JSON.parse(r.stdout) as HostsState).hosts.map((h) => h.down)).toEqual([false, true])
    expect(await tryConnect(env.RIG_B_HOST as string, Number(env.RIG_B_PORT), 3000)).not.toBe('connected')
    expect(await tryConnect(env.RIG_A_HOST as string, Number(env.RIG_A_PORT))).toBe('connected')
    expect((await p.rig(['host', 'core2', 'up'])).code).toBe(0)
    expect(await tryConnect(env.RIG_B_HOST as string, Number(env.RIG_B_PORT))).toBe('connected')
  })

  it('partition and heal by words', async () => {
    const r = await p.rig(['host', 'core1', 'partition', 'core2'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toContain('partition: core1 ✕ core2')
    expect((await p.rig(['host', 'core2', 'heal', 'core1'])).stdout).not.toContain('partition:')
  })

  it('usage errors and unknown hosts exit 2 with what to write', async () => {
    const bad = await p.rig(['host', 'core1', 'partition'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('usage: rig host NAME down|up | rig host NAME partition|heal OTHER | rig host --list')
    const unknown = await p.rig(['host', 'core9', 'down'])
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toMatch(/no host "core9" in this environment — did you mean "core1"\? \(hosts: core1, core2\)/)
  })
})
