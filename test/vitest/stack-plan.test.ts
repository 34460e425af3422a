// Which services `isolation: 'stack'` copies per worker, what the copies depend on, and the
// configs it refuses before anything starts (no server needed: nothing is started).
import { describe, expect, test } from 'vitest'
import { command, defineConfig, postgres, redis } from '../../src/index.ts'
import { resolveOptions } from '../../src/runner/options.ts'
import { planStacks } from '../../src/runner/worker-stacks.ts'

describe("isolation 'stack': the plan", () => {
  test('long-running commands are copied; one-shot tasks are not (the clones hold their work) and drop out of the copies’ dependencies; stores are given', () => {
    const plan = planStacks(
      defineConfig({
        services: {
          db: postgres(),
          cache: redis(),
          migrate: command({ run: 'node migrate.js', dependsOn: ['db'], oneShot: true }),
          api: command({ run: 'node api.js {port}', dependsOn: { db: 'ready', cache: 'started', migrate: 'completed' } }),
          worker: command({ run: 'node worker.js', dependsOn: { api: 'ready', db: 'ready' } }),
        },
      }),
    )
    expect(plan.copied).toEqual(['api', 'worker'])
    expect(plan.given.sort()).toEqual(['cache', 'db'])
    expect(plan.dependsOn).toEqual({ api: { db: 'ready', cache: 'started' }, worker: { api: 'ready', db: 'ready' } })
  })

  test('a proxy in front of a copied command or of what it depends on is refused, saying why and what to do', () => {
    const withProxy = (proxied: 'db' | 'api') =>
      defineConfig({ services: { db: postgres(proxied === 'db' ? { faults: { latency: 10 } } : {}), api: command({ run: 'node api.js {port}', dependsOn: ['db'], ...(proxied === 'api' ? { proxy: true } : {}) }) } })
    expect(() => planStacks(withProxy('db'))).toThrow(/service "db" has a proxy .* the copies of "api" connect to their own copy of "db" directly, past it: faults set by a test would not reach them. Run the fault tests in a Vitest project of their own with isolation 'shared'/)
    expect(() => planStacks(withProxy('api'))).toThrow(expect.objectContaining({ code: 'RIG_STACK_PROXY' }))
  })

  test('a command on a named host is refused: its copies would run outside that host', () => {
    const config = defineConfig({ hosts: { core1: {} }, services: { db: postgres(), api: command({ run: 'node api.js {port}', dependsOn: ['db'], host: 'core1' }) } })
    expect(() => planStacks(config)).toThrow(expect.objectContaining({ code: 'RIG_STACK_HOST', message: expect.stringContaining(`service "api" runs on host "core1"`) }))
  })

  test('an unknown isolation is refused with the ones there are', () => {
    expect(() => resolveOptions({ isolation: 'stacks' as 'stack' })).toThrow(`rig({ isolation }) must be one of 'shared', 'database', 'stack', got "stacks"`)
  })
})
