// Hosts asked for wrongly, or where they cannot be made: each a clear message that says what to
// do, and nothing left behind in the kernel (`ip netns list`, `ip link`) or as a process.
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import path from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { validateConfig } from '../../src/config/validate.ts'
import { removeHostsOf, sweepStaleHosts } from '../../src/hosts/sweep.ts'
import { command, external, postgres, redis, type Environment, type RigConfig } from '../../src/index.ts'
import { assertNothingLeft, rejection, start } from '../support/env.ts'
import { waitUntil } from '../support/procs.ts'
import { expectNothingInKernel, NO_HOSTS } from './support.ts'

let env: Environment | undefined
afterEach(async () => {
  await env?.stop()
  env = undefined
  if (!NO_HOSTS) expectNothingInKernel()
})
afterAll(async () => {
  await assertNothingLeft()
})

const hosts = { core1: {}, core2: {} }

describe('in the config (checked before anything starts)', () => {
  it('a service on an unknown host, or on a host when none is defined', () => {
    expect(() => validateConfig({ hosts, services: { db: postgres({ host: 'core3' }) } })).toThrow(/service "db": unknown host "core3" — did you mean "core1"\? \(hosts: core1, core2\)/)
    expect(() => validateConfig({ services: { db: postgres({ host: 'core1' }) } })).toThrow(/service "db": host "core1" is not defined: add it to the config's hosts, e.g. hosts: \{ core1: \{\} \}/)
    try {
      validateConfig({ hosts, services: { db: postgres({ host: 'edge' }) } })
    } catch (err) {
      expect((err as { code?: string }).code).toBe('RIG_UNKNOWN_HOST')
    }
    expect(() => validateConfig({ hosts, services: { db: postgres({ host: 7 as never }) } })).toThrow(/service "db": host must be the name of a host in `hosts`, got 7/)
  })

  it('bad host names, host options, hostNetwork values', () => {
    expect(() => validateConfig({ hosts: ['core1'] as never, services: { db: postgres() } })).toThrow(/hosts must be an object of host names, e.g. hosts: \{ core1: \{\}, core2: \{\} \}/)
    expect(() => validateConfig({ hosts: { '1core': {} }, services: { db: postgres() } })).toThrow(/host name "1core" must start with a letter/)
    expect(() => validateConfig({ hosts: { core1: { ip: '10.0.0.1' } as never }, services: { db: postgres() } })).toThrow(/host "core1": unknown option "ip"/)
    expect(() => validateConfig({ hosts, hostNetwork: '10.0.0.0', services: { db: postgres() } })).toThrow(/hostNetwork must be an IPv4 range from \/8 to \/24, e.g. "10.213.0.0\/16"/)
    expect(() => validateConfig({ hosts, hostNetwork: '10.0.0.0/28', services: { db: postgres() } })).toThrow(/hostNetwork must be an IPv4 range/)
    expect(() => validateConfig({ hosts, hostNetwork: '300.1.1.0/24', services: { db: postgres() } })).toThrow(/hostNetwork must be an IPv4 range/)
    expect(validateConfig({ hosts, hostNetwork: '10.99.0.0/16', services: { db: postgres({ host: 'core1' }) } })).toEqual(['db'])
  })

  it('placements that cannot work: behind the proxy, a dependency on no host, a kind rig does not run', () => {
    expect(() => validateConfig({ hosts, services: { db: postgres({ host: 'core1', proxy: true }) } })).toThrow(/service "db" is on host "core1" and behind rig's proxy .*use host\('core1'\)\.partition/)
    expect(() => validateConfig({ hosts, services: { db: postgres({ host: 'core1', faults: { latency: 5 } }) } })).toThrow(/behind rig's proxy/)
    expect(() => validateConfig({ hosts, services: { db: postgres(), api: command({ run: 'sleep 1', host: 'core2', dependsOn: ['db'] }) } })).toThrow(
      /service "api" is on host "core2" and depends on "db", which is on no host: .*put "db" on a host too/,
    )
    expect(() => validateConfig({ hosts, services: { ext: external({ url: 'postgres://localhost/x', host: 'core1' }) } })).toThrow(/a external service cannot be placed on a host .*remove `host`/)
    // A service on no host may depend on one on a host: the root namespace reaches every host.
    expect(validateConfig({ hosts, services: { db: postgres({ host: 'core1' }), api: command({ run: 'sleep 1', dependsOn: ['db'] }) } })).toEqual(['db', 'api'])
  })
})

describe.skipIf(NO_HOSTS)('at run time', () => {
  it('an unknown host, a partition naming one or a host with itself, hosts on an environment without any', async () => {
    env = await start({ hosts, services: { cache: redis({ host: 'core1' }) } })
    expect(() => env?.host('core3')).toThrow(/no host "core3" in this environment — did you mean "core1"\? \(hosts: core1, core2\)/)
    const unknown = await rejection(env.host('core1').partition('core9'))
    expect(unknown.code).toBe('RIG_UNKNOWN_HOST')
    expect(unknown.message).toMatch(/no host "core9"/)
    expect((await rejection(env.host('core1').partition('core1'))).message).toMatch(/a partition needs two different hosts, got "core1" twice/)
    // Nothing half-applied.
    expect(env.hosts?.state().partitions).toEqual([])
    await env.stop()
    env = await start({ services: { cache: redis() } })
    expect(() => env?.host('core1')).toThrow(/this environment has no hosts \(add hosts: \{ core1: \{\} \} to rig.config.ts/)
  })

  it('a hostNetwork that overlaps an address of this machine is refused, and nothing is made', async () => {
    const err = await rejection(start({ hosts, hostNetwork: '127.0.0.0/24', services: { cache: redis({ host: 'core1' }) } }))
    expect(err.code).toBe('RIG_HOST_ADDRESS_IN_USE')
    expect(err.message).toMatch(/hostNetwork 127\.0\.0\.0\/24 overlaps 127\.0\.0\.1\/8 on lo: choose a range this machine does not use/)
    expectNothingInKernel()
  })

  it('a hostNetwork taken by another environment: the next free /24 of a pool, an error for a fixed /24', async () => {
    const first = await start({ hosts, hostNetwork: '10.214.0.0/23', services: { cache: redis({ host: 'core1' }) } })
    try {
      const taken = first.hosts?.state().subnet as string
      env = await start({ hosts, hostNetwork: '10.214.0.0/23', services: { cache: redis({ host: 'core1' }) } })
      expect(env.hosts?.state().subnet).not.toBe(taken)
      await env.stop()
      env = undefined
      const err = await rejection(start({ hosts, hostNetwork: taken, services: { cache: redis({ host: 'core1' }) } }))
      expect(err.code).toBe('RIG_HOST_ADDRESS_IN_USE')
      expect(err.message).toContain(`overlaps ${taken.replace('.0/24', '.1/24')} on rig`)
    } finally {
      await first.stop()
    }
  })

  it('a service that fails to start on a host leaves no namespace behind', async () => {
    const err = await rejection(start({ hosts, services: { bad: command({ host: 'core2', run: 'exit 3', oneShot: true }) } }))
    expect(err.message).toMatch(/exited with code 3/)
    expectNothingInKernel()
  })
})

describe('without root or iproute2', () => {
  const config: RigConfig = { hosts, services: { db: postgres({ host: 'core1' }) } }

  it('RIG_NO_NETNS=1: the error says why and points at the proxy', async () => {
    process.env.RIG_NO_NETNS = '1'
    try {
      const err = await rejection(start(config))
      expect(err.code).toBe('RIG_HOSTS_UNSUPPORTED')
      expect(err.message).toMatch(/hosts \(core1, core2\) are network namespaces, which rig cannot make here: RIG_NO_NETNS=1 is set/)
      expect(err.message).toMatch(/use rig's proxy instead: `proxy: true` on the services/)
      expect(err.message).toContain('docs/topology.md')
    } finally {
      delete process.env.RIG_NO_NETNS
    }
  })

  it.skipIf(process.getuid?.() !== 0)('as a user that is not root', () => {
    const src = path.resolve(import.meta.dirname, '../../src/index.ts')
    const script = `import { startEnvironment, postgres } from ${JSON.stringify(src)}
      try { await startEnvironment({ hosts: { core1: {} }, services: { db: postgres({ host: 'core1' }) } }); console.log('started') }
      catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })) }`
    const r = spawnSync('runuser', ['-u', 'testrig', '--', process.execPath, '--no-warnings', '--input-type=module', '-e', script], { encoding: 'utf8', cwd: '/', timeout: 60_000, env: { PATH: process.env.PATH, HOME: '/nonexistent' } })
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as { code?: string; message?: string }
    expect(out.code, r.stdout + r.stderr).toBe('RIG_HOSTS_UNSUPPORTED')
    expect(out.message).toMatch(/which rig cannot make here: rig runs as uid \d+, not as root/)
  })
})

describe.skipIf(NO_HOSTS)('after a crash', () => {
  it('SIGKILL of the owner: the watchdog removes its namespaces and bridge', async () => {
    const child = spawn(process.execPath, ['--no-warnings', path.join(import.meta.dirname, 'fixtures/owner.ts')], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d))
    expect(await waitUntil(() => out.includes('\n'), 60_000)).toBe(true)
    const { id } = JSON.parse(out.split('\n')[0] ?? '{}') as { id: string }
    expect(kernelNamesOf(id).length).toBeGreaterThanOrEqual(3)
    child.kill('SIGKILL')
    expect(await waitUntil(() => kernelNamesOf(id).length === 0, 15_000), kernelNamesOf(id).join(', ')).toBe(true)
  })

  it("the sweep removes hosts whose owner is gone, and leaves a live owner's alone", async () => {
    const dead = spawnSync('true').pid as number
    const staleId = `${Date.now().toString(36)}-${dead}-abc123`
    const liveId = `${Date.now().toString(36)}-${process.pid}-def456`
    const made = (id: string): void => {
      execFileSync('ip', ['netns', 'add', `rig-${id}-n1`])
    }
    made(staleId)
    made(liveId)
    execFileSync('ip', ['link', 'add', 'rig0ad6fe', 'type', 'bridge'])
    execFileSync('ip', ['link', 'set', 'dev', 'rig0ad6fe', 'alias', `testrig ${staleId}`])
    try {
      sweepStaleHosts()
      expect(kernelNamesOf(staleId)).toEqual([])
      expect(kernelNamesOf(liveId)).toEqual([`rig-${liveId}-n1`])
    } finally {
      removeHostsOf(liveId)
      removeHostsOf(staleId)
    }
    expect(kernelNamesOf(liveId)).toEqual([])
  })
})

/** Namespaces and bridges of environment `id`. */
function kernelNamesOf(id: string): string[] {
  const netns = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((n) => n.startsWith(`rig-${id}-`))
  const links = (JSON.parse(execFileSync('ip', ['-j', 'link', 'show'], { encoding: 'utf8' })) as Array<{ ifname: string; ifalias?: string }>).filter((l) => l.ifalias === `testrig ${id}`).map((l) => l.ifname)
  return [...netns, ...links]
}
