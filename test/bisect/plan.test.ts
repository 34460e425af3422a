// What a bisect works on, from a report: the failing test, the tests before it in its own
// worker (others ran beside it, not before it), the tests the guard saw leave data first.
import { describe, expect, test } from 'vitest'
import { pickTarget, planBisect } from '../../src/bisect/select.ts'
import type { RunReport, TestEntry } from '../../src/report/model.ts'

const entry = (name: string, worker: number, extra: Partial<TestEntry> = {}): TestEntry => ({ id: `test/${name}.test.ts > ${name}`, file: `test/${name}.test.ts`, name, status: 'passed', durationMs: 1, errors: [], leaks: [], logErrors: [], worker, ...extra })

function report(tests: TestEntry[]): RunReport {
  return { version: 1, startedAt: '2026-11-29T10:00:00.000Z', durationMs: 100, seed: 42, files: [...new Set(tests.map((t) => t.file))], repro: '', summary: { passed: 0, failed: 1, skipped: 0, leaks: 1, logErrors: 0 }, environment: { startMs: 1, attached: false, services: [] }, tests }
}

describe('planBisect', () => {
  test("candidates are the tests before the target in its worker, in order, skipped ones and files' own entries left out; leakers are the guess", () => {
    const r = report([
      entry('a', 1),
      entry('b', 2, { leaks: [{ store: 'postgres db', items: ['public.cars +1 row'] }] }),
      entry('c', 1, { leaks: [{ store: 'postgres db', items: ['public.cars +1 row'] }] }),
      entry('d', 1, { status: 'skipped' }),
      entry('(file)', 1),
      entry('e', 1),
      entry('target', 1, { status: 'failed' }),
      entry('after', 1),
    ])
    const plan = planBisect(r, pickTarget(r, undefined, 'report.json'))
    expect(plan.target.name).toBe('target')
    expect(plan.candidates.map((t) => t.name)).toEqual(['a', 'c', 'e'])
    expect(plan.guess).toEqual([1])
    expect(plan.seed).toBe(42)
  })

  test('a report without workers (one process): every test before the target', () => {
    const r = report([entry('a', 1), entry('b', 2), entry('target', 2, { status: 'failed' })].map(({ worker: _, ...t }) => t))
    expect(planBisect(r, pickTarget(r, 'target', 'report.json')).candidates.map((t) => t.name)).toEqual(['a', 'b'])
  })
})
