// Seeded order that stays stable when tests are removed: files are sorted by a hash of
// (seed, path), so any subset keeps its relative order and a failure replays with just the
// files that ran before it.
import { createHash, randomInt } from 'node:crypto'
import path from 'node:path'

/** The seed of this run: `RIG_SEED`, else the configured one, else random. */
export function resolveSeed(configured?: number): number {
  const fromEnv = Number(process.env.RIG_SEED)
  if (process.env.RIG_SEED && Number.isInteger(fromEnv)) return fromEnv
  return configured ?? randomInt(1, 2 ** 31 - 1)
}

/** The sort key of `id` under `seed`. */
export function orderKey(seed: number, id: string): string {
  return createHash('sha1').update(`${seed}:${id}`).digest('hex')
}

/** Sorts items by their seeded hash key. */
export function seededSort<T>(items: readonly T[], seed: number, idOf: (item: T) => string): T[] {
  return [...items].map((item) => ({ item, key: orderKey(seed, idOf(item)) })).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).map((e) => e.item)
}

/** Quotes an argument for a POSIX shell when needed. */
export function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", "'\\''")}'`
}

/** The command that replays `files` in this order with `seed`, optionally one test only. */
export function reproCommand(seed: number, files: readonly string[], root: string, options: { test?: string; shard?: string } = {}): string {
  const rel = files.map((f) => shellQuote(path.relative(root, f) || f))
  const parts = [`RIG_SEED=${seed}`, 'npx vitest run', ...rel]
  if (options.test) parts.push('-t', shellQuote(`^${options.test.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`))
  if (options.shard) parts.push(`--shard=${options.shard}`)
  return parts.join(' ')
}
