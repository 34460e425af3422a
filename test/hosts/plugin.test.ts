// Hosts as tests drive them through the Vitest plugin, in a throw-away project run by a real
// `vitest run`: a partition or a host's loss a test sets is undone after it, listed in the
// report for that test only, and nothing is left in the kernel after the run.
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, test } from 'vitest'
import { leftovers, type Project } from '../support/project.ts'
import { pluginProject, vitest } from '../support/vitest-project.ts'
import { waitUntil } from '../support/procs.ts'
import { NO_HOSTS } from './support.ts'

let project: Project | undefined
afterEach(async () => {
  const dir = project?.dir
  await project?.dispose()
  project = undefined
  if (dir) expect(await waitUntil(() => leftovers(dir).length === 0)).toBe(true)
})

const config = `import { defineConfig, redis } from 'testrig'
export default defineConfig({ hosts: { core1: {}, core2: {} }, services: { a: redis({ host: 'core1' }), b: redis({ host: 'core2' }) } })
`

const testFile = `import { execFileSync } from 'node:child_process'
import http from 'node:http'
import net from 'node:net'
import { expect, inject, test } from 'vitest'
import { rig } from 'testrig/vitest'

const reach = (host, port) => new Promise((resolve) => {
  const s = net.connect({ host, port, timeout: 3000 })
  s.on('connect', () => { s.destroy(); resolve(true) })
  s.on('timeout', () => { s.destroy(); resolve(false) })
  s.on('error', () => resolve(false))
})
const hosts = () => new Promise((resolve, reject) => {
  http.get({ socketPath: inject('rig').controlSocket, path: '/hosts' }, (res) => {
    let body = ''
    res.on('data', (c) => (body += c)).on('end', () => resolve(JSON.parse(body)))
  }).on('error', reject)
})
const unreachableRoutes = (netns) => execFileSync('ip', ['-n', netns, 'route'], { encoding: 'utf8' }).split('\\n').filter((l) => l.startsWith('unreachable'))

test('a partitions core1 from core2 and takes core2 down', async () => {
  await rig.host('core1').partition('core2')
  await rig.host('core2').down()
  const h = await hosts()
  expect(h.partitions).toEqual([['core1', 'core2']])
  expect(unreachableRoutes(h.hosts[0].netns)).toEqual(['unreachable ' + h.hosts[1].address + ' '])
  expect(await reach(rig.service('a').host, rig.service('a').port)).toBe(true)
  expect(await reach(rig.service('b').host, rig.service('b').port)).toBe(false)
})

test('b finds both hosts up and joined again', async () => {
  expect(await reach(rig.service('b').host, rig.service('b').port)).toBe(true)
  const h = await hosts()
  expect(h.partitions).toEqual([])
  expect(h.hosts.map((x) => x.down)).toEqual([false, false])
  expect(h.hosts.flatMap((x) => unreachableRoutes(x.netns))).toEqual([])
})

test('c an unknown host says which hosts there are', async () => {
  await expect(rig.host('core3').down()).rejects.toThrow(/no host "core3" in this environment — did you mean "core1"\\? \\(hosts: core1, core2\\)/)
})
`

describe.skipIf(NO_HOSTS)('hosts in tests', () => {
  test('a partition and a host loss set by a test are undone after it and listed in its report entry', async () => {
    project = pluginProject(config)
    project.write('test/hosts.test.ts', testFile)
    const run = await vitest(project)
    expect(run.code, run.output).toBe(0)
    const report = JSON.parse(fs.readFileSync(path.join(project.dir, 'rig-report/report.json'), 'utf8')) as { tests: { name: string; faults?: string[] }[] }
    const faults = Object.fromEntries(report.tests.map((t) => [t.name, t.faults]))
    expect(faults).toEqual({
      'a partitions core1 from core2 and takes core2 down': ['hosts core1 ✕ core2: partitioned', 'host core2: down'],
      'b finds both hosts up and joined again': undefined,
      'c an unknown host says which hosts there are': ['host core3: down'],
    })
  })
})
