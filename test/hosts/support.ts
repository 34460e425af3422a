// What a hosts test needs: whether this machine can make hosts, what rig left in the kernel
// (namespaces, links) for the environments of this process, and a TCP connect that reports its
// outcome rather than throwing.
import { execFileSync } from 'node:child_process'
import net from 'node:net'
import { expect } from 'vitest'
import { hostsUnavailable } from '../../src/hosts/support.ts'

/** Why hosts cannot be made here (tests that need them are skipped), or undefined. */
export const NO_HOSTS = hostsUnavailable()

/** Namespaces and links of environments this process owns (their ids carry its pid). */
export function leftInKernel(): string[] {
  const mine = (s: string): boolean => s.includes(`-${process.pid}-`)
  const netns = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((n) => n.startsWith('rig-') && mine(n))
  const all = JSON.parse(execFileSync('ip', ['-j', 'link', 'show'], { encoding: 'utf8' })) as Array<{ ifname: string; ifalias?: string }>
  const bridges = all.filter((l) => /^rig[0-9a-f]{6}$/.test(l.ifname))
  const ours = bridges.filter((l) => l.ifalias !== undefined && mine(l.ifalias)).map((l) => l.ifname)
  // A port belongs to its bridge; one whose bridge is gone is a leftover whoever made it.
  const ports = all.filter((l) => /^rig[0-9a-f]{6}h\d+$/.test(l.ifname)).map((l) => l.ifname).filter((p) => ours.some((b) => p.startsWith(`${b}h`)) || !bridges.some((b) => p.startsWith(`${b.ifname}h`)))
  const links = [...ours, ...ports]
  return [...netns, ...links]
}

/** Asserts `ip netns list` and `ip link` show nothing of this process's environments. */
export function expectNothingInKernel(): void {
  expect(leftInKernel()).toEqual([])
}

/** Connects to host:port; resolves with 'connected' or the error code. Gives up after `ms`. */
export function tryConnect(host: string, port: number, ms = 10_000): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port })
    const timer = setTimeout(() => {
      s.destroy()
      resolve('no answer')
    }, ms)
    s.once('connect', () => {
      clearTimeout(timer)
      s.destroy()
      resolve('connected')
    })
    s.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer)
      resolve(e.code ?? e.message)
    })
  })
}
