// Delta debugging over the tests that ran before a failing one: which of them make it fail.
// A probe runs a subset (in the recorded order) followed by the failing test and says whether
// it failed. One polluter is found by halving (one run per level); when halving stops making
// sense (two tests that pollute only together) it falls back to ddmin (Zeller & Hildebrandt),
// which finds a 1-minimal set. Independent polluters are found one after the other: the rest
// is run again without what was found.

/** Runs `subset` (indices into the candidates, ascending) then the failing test; true when it failed. */
export type Probe = (subset: readonly number[]) => Promise<boolean>

/** Splits `items` into `n` contiguous chunks of nearly equal size. */
function split(items: readonly number[], n: number): number[][] {
  const out: number[][] = []
  let start = 0
  for (let i = 0; i < n; i++) {
    const end = start + Math.floor((items.length - start) / (n - i))
    if (end > start) out.push(items.slice(start, end))
    start = end
  }
  return out
}

/** ddmin: a 1-minimal subset of `items` (for which `fails` holds) that still fails. */
export async function ddmin(items: readonly number[], fails: Probe): Promise<number[]> {
  let c = [...items]
  let n = 2
  while (c.length >= 2) {
    const chunks = split(c, n)
    let next: number[] | undefined
    for (const chunk of chunks) {
      if (await fails(chunk)) {
        next = chunk
        n = 2
        break
      }
    }
    // With two chunks each one's complement is the other one, already tried.
    if (!next && chunks.length > 2) {
      for (const chunk of chunks) {
        const complement = c.filter((i) => !chunk.includes(i))
        if (await fails(complement)) {
          next = complement
          n = Math.max(n - 1, 2)
          break
        }
      }
    }
    if (next) c = next
    else if (n >= c.length) break
    else n = Math.min(c.length, n * 2)
  }
  return c
}

/**
 * Halving on the assumption of one polluter: one run per level. Returns the minimal set, found
 * by ddmin from the smallest set known to fail when the assumption breaks.
 */
export async function narrow(items: readonly number[], fails: Probe): Promise<number[]> {
  let known = [...items]
  let c = [...items]
  while (c.length > 1) {
    const half = c.slice(0, Math.ceil(c.length / 2))
    if (await fails(half)) {
      known = half
      c = half
    } else {
      c = c.slice(half.length)
    }
  }
  if (c.length === 1 && (await fails(c))) return c
  return ddmin(known, fails)
}

/** What the search found: sets of candidates, each of which makes the test fail on its own. */
export interface Polluters {
  /** Each set is minimal: its tests pollute together (usually one test). */
  sets: number[][]
}

/**
 * Every independent polluting set among `items` (all of which, run before the test, make it
 * fail). `guess` (e.g. the tests the guard saw leave data) is tried first: when it fails on its
 * own, the search starts inside it.
 */
export async function findPolluters(items: readonly number[], fails: Probe, guess: readonly number[] = [], maxSets = 8): Promise<Polluters> {
  const sets: number[][] = []
  let rest = [...items]
  let first = true
  while (sets.length < maxSets) {
    if (!first && (rest.length === 0 || !(await fails(rest)))) break
    let pool = rest
    const g = guess.filter((i) => rest.includes(i))
    if (g.length > 0 && g.length < rest.length && (await fails(g))) pool = g
    first = false
    const found = await narrow(pool, fails)
    sets.push(found)
    rest = rest.filter((i) => !found.includes(i))
  }
  return { sets }
}
