import { describe, expect, test } from 'vitest'
import type { CheckDefinition, CheckFn, CheckOptions } from '../../src/checks/check.ts'
import type { CheckResult } from '../../src/checks/result.ts'
import { runChecks } from '../../src/checks/runner.ts'

const def = (name: string, fn: CheckFn, options: CheckOptions = {}): CheckDefinition => ({ name, options, fn })
const byName = (results: CheckResult[]): Record<string, CheckResult> => Object.fromEntries(results.map((r) => [r.name, r]))
const tick = () => new Promise((r) => setImmediate(r))

describe('runChecks', () => {
  test('runs checks in parallel: five checks that each wait for all five to start all pass', async () => {
    let started = 0
    let release!: () => void
    const all = new Promise<void>((r) => (release = r))
    const checks = Array.from({ length: 5 }, (_, i) =>
      def(`c${i}`, async () => {
        if (++started === 5) release()
        await all
      }),
    )
    const report = await runChecks(checks, { concurrency: 10, defaultTimeout: 10_000 })
    expect(report.status).toBe('pass')
    expect(report.counts.pass).toBe(5)
  })

  test('never has more than `concurrency` checks running', async () => {
    let active = 0
    let peak = 0
    const checks = Array.from({ length: 12 }, (_, i) =>
      def(`c${i}`, async () => {
        peak = Math.max(peak, ++active)
        for (let k = 0; k < 5; k++) await tick()
        active--
      }),
    )
    await runChecks(checks, { concurrency: 3 })
    expect(peak).toBe(3)
  })

  test('a check that never resolves is timed out and its signal aborted', async () => {
    let signal: AbortSignal | undefined
    const report = await runChecks([def('hang', (ctx) => ((signal = ctx.signal), new Promise(() => {})), { timeout: 50 }), def('ok', () => {})])
    const r = byName(report.results)
    expect(r.hang).toMatchObject({ status: 'fail', reason: 'timeout', detail: expect.stringContaining('timed out after 50 ms') })
    expect(r.ok?.status).toBe('pass')
    expect(signal?.aborted).toBe(true)
    expect(report.status).toBe('fail')
  })

  test('dependents of a failed check report "blocked by" instead of failing', async () => {
    let ran = false
    const report = await runChecks([
      def('db', () => {
        throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })
      }),
      def('api', () => void (ran = true), { dependsOn: ['db'] }),
      def('ui', () => {}, { dependsOn: ['api'] }),
    ])
    const r = byName(report.results)
    expect(r.db).toMatchObject({ status: 'fail', reason: 'connect' })
    expect(r.api).toMatchObject({ status: 'blocked', blockedBy: ['db'], detail: 'blocked by "db"' })
    expect(r.ui).toMatchObject({ status: 'blocked', blockedBy: ['api'] })
    expect(ran).toBe(false)
    expect(report.counts).toMatchObject({ fail: 1, blocked: 2 })
  })

  test('a failing smoke check runs its diagnostics and carries them; a passing one does not', async () => {
    const runs: string[] = []
    const checks = [
      def('api', () => false, { tags: ['smoke'], diagnostics: ['port', 'dns'] }),
      def('web', () => {}, { tags: ['smoke'], diagnostics: ['cdn'] }),
      def('port', () => void runs.push('port'), { tags: ['diagnostic'] }),
      def('dns', () => {
        runs.push('dns')
        throw new Error('no such host')
      }, { tags: ['diagnostic'] }),
      def('cdn', () => void runs.push('cdn'), { tags: ['diagnostic'] }),
    ]
    const report = await runChecks(checks, { tags: ['smoke'] })
    expect(report.results.map((r) => r.name)).toEqual(['api', 'web'])
    const api = byName(report.results).api
    expect(api).toMatchObject({ status: 'fail', reason: 'assertion', detail: 'the check returned false' })
    expect(api?.diagnostics?.map((d) => [d.name, d.status])).toEqual([
      ['port', 'pass'],
      ['dns', 'fail'],
    ])
    expect(runs.sort()).toEqual(['dns', 'port'])
  })

  test('a tier budget caps the timeout of its checks', async () => {
    const report = await runChecks([def('slow smoke', () => new Promise(() => {}), { tags: ['smoke'], timeout: 60_000 })], { tiers: { smoke: { budget: 80 } } })
    expect(report.results[0]).toMatchObject({ status: 'fail', reason: 'timeout', detail: expect.stringContaining('"smoke" tier') })
  })

  test('warnings, detail strings and plain errors', async () => {
    const report = await runChecks([
      def('warned', (ctx) => ctx.warn('disk 91% full')),
      def('detail', () => 'all 3 replicas'),
      def('outcome', () => ({ status: 'warn', detail: 'slow' })),
      def('thrown', () => {
        throw new Error('boom')
      }),
      def('helper value', () => ({ statusCode: 200, status: 200 })),
    ])
    const r = byName(report.results)
    expect(r.warned).toMatchObject({ status: 'warn', detail: 'disk 91% full' })
    expect(r.detail).toMatchObject({ status: 'pass', detail: 'all 3 replicas' })
    expect(r.outcome).toMatchObject({ status: 'warn', detail: 'slow' })
    expect(r.thrown).toMatchObject({ status: 'fail', reason: 'error', detail: 'boom' })
    expect(r['helper value']?.status).toBe('pass')
    expect(report.status).toBe('fail')
  })

  test('a cancelled run aborts running checks', async () => {
    const ac = new AbortController()
    const p = runChecks([def('hang', () => new Promise(() => {}), { timeout: 60_000 })], { signal: ac.signal })
    setImmediate(() => ac.abort(new Error('Ctrl-C')))
    const report = await p
    expect(report.results[0]?.status).toBe('fail')
  })
})
