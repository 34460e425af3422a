// A service's port is reserved by binding port 0 on the wildcard address (free on every address,
// 127.0.0.1 included) rather than on 127.0.0.1: with a host, Node looks the address up first, and
// that first lookup of a process (node:dns, an IPv6 pattern compiled) cost its first start
// 10-20 ms. Checked in a fresh process, where nothing else has loaded node:dns yet.
import { spawnSync } from 'node:child_process'
import net from 'node:net'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { freePort } from '../../src/providers/process/ports.ts'

const PORTS = path.resolve(import.meta.dirname, '../../src/providers/process/ports.ts')

function bind(port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.once('error', reject)
    srv.listen({ port, host, exclusive: true }, () => srv.close(() => resolve()))
  })
}

describe('freePort', () => {
  it('returns a port a server can bind on 127.0.0.1 and on the wildcard address', async () => {
    const port = await freePort()
    expect(port).toBeGreaterThan(0)
    await bind(port, '127.0.0.1')
    await bind(port, '0.0.0.0')
  })

  it('looks no address up: a fresh process has not loaded node:dns after it', () => {
    const script = `
      const { freePort } = await import(${JSON.stringify(PORTS)})
      const before = process.moduleLoadList.includes('NativeModule dns')
      const port = await freePort()
      console.log(JSON.stringify({ before, after: process.moduleLoadList.includes('NativeModule dns'), port }))
    `
    const r = spawnSync(process.execPath, ['--no-warnings', '--input-type=module', '-e', script], { encoding: 'utf8' })
    expect(r.status, r.stderr).toBe(0)
    const out = JSON.parse(r.stdout.trim()) as { before: boolean; after: boolean; port: number }
    expect(out.before).toBe(false)
    expect(out.port).toBeGreaterThan(0)
    expect(out.after).toBe(false)
  })
})
