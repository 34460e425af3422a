// Seeded order that stays stable when tests are removed: files are sorted by a hash of
// (seed, path), so any subset keeps its relative order and a failure replays with just the
// files that ran before it. `RIG_ORDER` replays an explicit file order. The replay command is
// built from the runner's own command line (`ReplayCommand`).
import { createHash, randomInt } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { RigError } from '../errors.ts'

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

/**
 * The file order to replay, from `RIG_ORDER`: a report.json of an earlier run (its `files`), or
 * a JSON array of paths relative to the project root.
 */
export function explicitOrder(root: string, env: NodeJS.ProcessEnv = process.env): string[] | undefined {
  const file = env.RIG_ORDER
  if (!file) return undefined
  let parsed: unknown
  try {
    parsed = JSON.parse(fs.readFileSync(path.resolve(root, file), 'utf8'))
  } catch (err) {
    throw new RigError('RIG_ORDER_INVALID', `RIG_ORDER=${file}: cannot read it (${(err as Error).message}); give a report.json of an earlier run or a JSON array of test files`, { exitCode: 2 })
  }
  const files = Array.isArray(parsed) ? parsed : (parsed as { files?: unknown }).files
  if (!Array.isArray(files) || !files.every((f) => typeof f === 'string')) {
    throw new RigError('RIG_ORDER_INVALID', `RIG_ORDER=${file}: expected a report.json (with "files") or a JSON array of test file paths`, { exitCode: 2 })
  }
  return files
}

/**
 * The order test files run in: by seeded hash (`shuffle`) or by path, then the files
 * `RIG_ORDER` names first, in its order. `pathOf` gives an item's absolute path.
 */
export function orderFiles<T>(items: readonly T[], pathOf: (item: T) => string, o: { seed: number; shuffle: boolean; root: string }): T[] {
  const sorted = o.shuffle ? seededSort(items, o.seed, (f) => pathOf(f).slice(o.root.length)) : [...items].sort((a, b) => pathOf(a).localeCompare(pathOf(b)))
  const order = explicitOrder(o.root)
  if (!order) return sorted
  // Files the order names run first, in its order; any others after them, as usual.
  const rank = (f: T): number => {
    const i = order.indexOf(path.relative(o.root, pathOf(f)))
    return i < 0 ? order.length : i
  }
  return sorted.map((f, i) => ({ f, i })).sort((a, b) => rank(a.f) - rank(b.f) || a.i - b.i).map((e) => e.f)
}

/** Quotes an argument for a POSIX shell when needed. */
export function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", "'\\''")}'`
}

/** How a runner's command line replays files, and one test. */
export interface ReplayCommand {
  /** The command, e.g. `['npx', 'vitest', 'run']`, with the arguments of the run that must be kept. */
  command: readonly string[]
  /** The flag that selects one test by its full name (`-t`, `--test-name-pattern`). */
  testFlag: string
  /** How a shard is written (`--shard=1/3`), when the runner shards. */
  shardFlag?: string
  /** The command carries the seed itself (Jest's `--seed`, node's `--test-random-seed`): no `RIG_SEED=`. */
  seedInCommand?: boolean
  /** How the runner joins describe names and the test's when it matches `testFlag` (Jest and node:test: a space); full names use ` > `. */
  nameSeparator?: string
  /**
   * The runner matches `testFlag` against more than the full name (Playwright: project, file,
   * then the titles), so the pattern is anchored at its end only.
   */
  matchesEnd?: boolean
  /** Files come after every option (node: what follows the first file is not read as an option). */
  filesLast?: boolean
}

/**
 * The options of `argv` named in `names` (`--config x`, `--config=x`, `-c x`), in their
 * order, values kept as given: what a replay command must repeat to select the same
 * configuration, root or project.
 */
export function keptArgs(argv: readonly string[], names: readonly string[]): string[] {
  const kept: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string
    const eq = a.indexOf('=')
    if (a.startsWith('--') && eq > 0 && names.includes(a.slice(0, eq))) kept.push(a)
    else if (names.includes(a) && i + 1 < argv.length) kept.push(a, argv[++i] as string)
  }
  return kept
}

/** The command that replays `files` in this order with `seed`, optionally one test only. */
export function reproCommand(seed: number, files: readonly string[], root: string, replay: ReplayCommand, options: { test?: string; shard?: string } = {}): string {
  const rel = files.map((f) => shellQuote(path.relative(root, f) || f))
  const parts = [...(replay.seedInCommand ? [] : [`RIG_SEED=${seed}`]), ...replay.command.map((a, i) => (i === 0 ? a : shellQuote(a))), ...(replay.filesLast ? [] : rel)]
  const test = options.test !== undefined && replay.nameSeparator !== undefined ? options.test.split(' > ').join(replay.nameSeparator) : options.test
  if (test) parts.push(replay.testFlag, shellQuote(`${replay.matchesEnd ? ' ' : '^'}${test.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`))
  if (options.shard && replay.shardFlag) parts.push(`${replay.shardFlag}=${options.shard}`)
  if (replay.filesLast) parts.push(...rel)
  return parts.join(' ')
}
