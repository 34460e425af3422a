// `rig fault` against the environment `rig up --detach` runs: faults by words, the list, the
// maintenance switch, clearing, and usage errors with exit code 2.
import net from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { leftovers, makeProject, type Project } from '../support/project.ts'
import { waitUntil } from '../support/procs.ts'

const CONFIG = `
import { defineConfig, redis } from 'testrig'
export default defineConfig({ services: { cache: redis({ proxy: true }), plain: redis() } })
`

interface NetJson {
  proxies: { service: string; port: number; mode: string; faults: { text: string; config: boolean }[] }[]
  partitions: unknown[]
}

/** Round trip of a PING through `port`, in ms, or -1 when nothing answers within `limitMs`. */
function pingMs(port: number, password: string, limitMs = 2000): Promise<number> {
  return new Promise((resolve) => {
    const t = performance.now()
    const s = net.connect({ host: '127.0.0.1', port })
    const timer = setTimeout(() => (s.destroy(), resolve(-1)), limitMs)
    s.on('error', () => (clearTimeout(timer), resolve(-1)))
    s.on('data', (d) => {
      if (String(d).includes('PONG')) {
        clearTimeout(timer)
        s.destroy()
        resolve(performance.now() - t)
      }
    })
    s.write(`AUTH default ${password}\r\nPING\r\n`)
  })
}

describe('rig fault', { shuffle: false }, () => {
  let p: Project
  let port = 0
  let password = ''
  beforeAll(async () => {
    p = makeProject(CONFIG)
    const r = await p.rig(['up', '--detach', '--json'])
    expect(r.code, r.stderr).toBe(0)
    const up = JSON.parse(r.stdout) as { services: Record<string, { env: Record<string, string> }> }
    port = Number(up.services.cache?.env.RIG_CACHE_PORT)
    password = up.services.cache?.env.RIG_CACHE_PASSWORD ?? ''
    expect(up.services.cache?.env.RIG_CACHE_DIRECT_PORT).toBeDefined()
  })
  afterAll(async () => {
    await p.dispose()
    expect(await waitUntil(() => leftovers(p.dir).length === 0)).toBe(true)
  })

  it('sets latency in words and lists it', async () => {
    const r = await p.rig(['fault', 'cache', 'latency', '300ms', 'jitter', '10ms'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/cache\s+redis:\/\/default:\*+@127\.0\.0\.1:\d+\s+127\.0\.0\.1:\d+\s+let through\s+\d+\s+latency 300ms ±10ms/)
    expect(await pingMs(port, password)).toBeGreaterThanOrEqual(280)
    const list = await p.rig(['fault', '--list', '--json'])
    const state = JSON.parse(list.stdout) as NetJson
    expect(state.proxies.map((x) => [x.service, x.port, x.faults.map((f) => f.text)])).toEqual([['cache', port, ['latency 300ms ±10ms']]])
  })

  it('rig status shows the address through the proxy', async () => {
    const r = await p.rig(['status', '--json'])
    const st = JSON.parse(r.stdout) as { services: Record<string, { port: number; proxy?: { port: number } }> }
    expect(st.services.cache?.proxy?.port).toBe(port)
    expect(st.services.cache?.port).not.toBe(port)
    expect(st.services.plain?.proxy).toBeUndefined()
    expect((await p.rig(['status'])).stdout).toMatch(new RegExp(`cache .*127\\.0\\.0\\.1:${port} \\(proxy\\)`))
  })

  it('holds new connections and lets them through on resume', async () => {
    expect((await p.rig(['fault', 'cache', 'clear'])).code).toBe(0)
    expect((await p.rig(['fault', 'cache', 'hold'])).stdout).toMatch(/\bheld\b/)
    // Held until `rig fault cache resume` (a CLI start, seconds on a loaded machine) gets there.
    const waiting = pingMs(port, password, 30_000)
    await new Promise((r) => setTimeout(r, 300))
    expect((await p.rig(['fault', 'cache', 'resume'])).code).toBe(0)
    expect(await waiting).toBeGreaterThanOrEqual(250)
  })

  it('rig fault clear puts every service back', async () => {
    await p.rig(['fault', 'cache', 'timeout'])
    expect(await pingMs(port, password)).toBe(-1)
    const r = await p.rig(['fault', 'clear', '--json'])
    expect((JSON.parse(r.stdout) as NetJson).proxies[0]?.faults).toEqual([])
    expect(await pingMs(port, password)).toBeGreaterThanOrEqual(0)
  })

  it('usage errors exit 2 and say what to write', async () => {
    const unknown = await p.rig(['fault', 'nope', 'latency', '1'])
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toContain('no service "nope" (services: cache, plain)')
    const noProxy = await p.rig(['fault', 'plain', 'latency', '10ms'])
    expect(noProxy.code).toBe(2)
    expect(noProxy.stderr).toContain('add `proxy: true` to its options')
    const badValue = await p.rig(['fault', 'cache', 'latency', 'soon'])
    expect(badValue.code).toBe(2)
    expect(badValue.stderr).toContain('latency needs a duration such as 200ms or 2s, got "soon"')
    const badWord = await p.rig(['fault', 'cache', 'slow'])
    expect(badWord.code).toBe(2)
    expect(badWord.stderr).toContain('unknown fault "slow"')
    const partition = await p.rig(['fault', 'cache', 'partition', 'plain'])
    expect(partition.code).toBe(2)
    expect(partition.stderr).toContain('neither depends on the other')
  })
})
