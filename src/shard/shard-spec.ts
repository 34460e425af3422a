// Which shard this machine runs: `i/N` from the plugin's option, RIG_SHARD, or the variables
// CI services set on parallel jobs (CircleCI, GitLab, Buildkite). GitHub Actions has none: its
// matrix passes `--shard ${{ matrix.shard }}/N` to Vitest, or RIG_SHARD.
import { RigError } from '../errors.ts'

/** One shard of N, 1-based. */
export interface Shard {
  index: number
  count: number
}

/** Parses `i/N` (1 ≤ i ≤ N); `source` names where it came from in the error. */
export function parseShard(value: string, source: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(value)
  const index = Number(m?.[1])
  const count = Number(m?.[2])
  if (!m || count < 1) throw new RigError('RIG_SHARD_INVALID', `${source} "${value}": give the shard as i/N, e.g. 2/4 for the second of four machines`, { exitCode: 2 })
  if (index < 1 || index > count) throw new RigError('RIG_SHARD_INVALID', `${source} "${value}": the shard index must be from 1 to ${count} (shards are numbered from 1)`, { exitCode: 2 })
  return { index, count }
}

/** CI variables: [index variable, count variable, whether the index starts at 0]. */
const CI_VARIABLES: readonly [string, string, boolean][] = [
  ['CIRCLE_NODE_INDEX', 'CIRCLE_NODE_TOTAL', true],
  ['BUILDKITE_PARALLEL_JOB', 'BUILDKITE_PARALLEL_JOB_COUNT', true],
  // GitLab's `parallel:` numbers jobs from 1.
  ['CI_NODE_INDEX', 'CI_NODE_TOTAL', false],
]

/** The shard the environment asks for (RIG_SHARD first, then a CI's parallel-job variables), if any. */
export function shardFromEnv(env: NodeJS.ProcessEnv = process.env): (Shard & { source: string }) | undefined {
  if (env.RIG_SHARD) return { ...parseShard(env.RIG_SHARD, 'RIG_SHARD'), source: 'RIG_SHARD' }
  for (const [indexVar, countVar, fromZero] of CI_VARIABLES) {
    const i = env[indexVar]
    const n = env[countVar]
    if (i === undefined || n === undefined || i === '' || n === '') continue
    if (Number(n) <= 1) return undefined
    const index = Number(i) + (fromZero ? 1 : 0)
    return { ...parseShard(`${index}/${n}`, `${indexVar}=${i} ${countVar}=${n} (shard`), source: `${indexVar}/${countVar}` }
  }
  return undefined
}
