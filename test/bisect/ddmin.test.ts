// The search alone, with a probe that knows the answer: how many replays a bisect costs.
import { describe, expect, test } from 'vitest'
import { ddmin, findPolluters, type Probe } from '../../src/bisect/ddmin.ts'

/** A probe failing when `rule` holds for the subset, counting the distinct subsets it was asked about. */
function oracle(rule: (s: Set<number>) => boolean): { fails: Probe; runs: () => number } {
  const seen = new Set<string>()
  return {
    fails: async (subset) => {
      seen.add(subset.join(','))
      return rule(new Set(subset))
    },
    runs: () => seen.size,
  }
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i)

describe('bisect search', () => {
  test('one polluter among 100: found in at most 2·log2(n) replays, wherever it is', async () => {
    const worst = { runs: 0 }
    for (const p of range(100)) {
      const o = oracle((s) => s.has(p))
      expect((await findPolluters(range(100), o.fails)).sets).toEqual([[p]])
      worst.runs = Math.max(worst.runs, o.runs())
    }
    // + the two checks (alone, recorded order) the engine makes first.
    expect(worst.runs + 2).toBeLessThanOrEqual(2 * Math.log2(100) + 2)
  })

  test('two polluters that each suffice are both found', async () => {
    const o = oracle((s) => s.has(17) || s.has(80))
    expect((await findPolluters(range(100), o.fails)).sets).toEqual([[17], [80]])
  })

  test('two polluters that fail the test only together are found as one set', async () => {
    const o = oracle((s) => s.has(3) && s.has(71))
    expect((await findPolluters(range(100), o.fails)).sets).toEqual([[3, 71]])
  })

  test("the guard's guess is tried first: a right guess costs one replay", async () => {
    const o = oracle((s) => s.has(42))
    expect((await findPolluters(range(100), o.fails, [42])).sets).toEqual([[42]])
    // the guess, then the rest without it
    expect(o.runs()).toBe(2)
  })

  test('a wrong guess costs one replay and the search goes on', async () => {
    const o = oracle((s) => s.has(42))
    expect((await findPolluters(range(100), o.fails, [7, 8])).sets).toEqual([[42]])
  })

  test('ddmin returns a 1-minimal set: removing any member makes it pass', async () => {
    const rule = (s: Set<number>): boolean => (s.has(5) && s.has(6)) || s.has(30)
    const o = oracle(rule)
    const found = await ddmin(range(40), o.fails)
    expect(await o.fails(found)).toBe(true)
    for (const i of found) expect(rule(new Set(found.filter((x) => x !== i)))).toBe(false)
  })
})
