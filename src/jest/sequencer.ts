// rig's Jest test sequencer (set by rig.preset()): files in the order of the run's seed (Jest's
// --seed), stable when files are added or removed, so a failure replays with the files that ran
// before it; `RIG_ORDER` replays an explicit order. Shards are cut from the path order, so a
// file stays in its shard whatever the seed.
import { orderFiles } from '../runner/order.ts'

/** The part of a Jest test this sequencer reads. */
interface JestTest {
  path: string
  context: { config: { rootDir: string; testEnvironmentOptions?: { rig?: { order?: { shuffle?: boolean } } } } }
}

export default class RigSequencer {
  private readonly seed: number
  constructor(options: { globalConfig: { seed: number } }) {
    this.seed = options.globalConfig.seed
  }

  shard(tests: JestTest[], options: { shardIndex: number; shardCount: number }): JestTest[] {
    const sorted = [...tests].sort((a, b) => a.path.localeCompare(b.path))
    const size = Math.ceil(sorted.length / options.shardCount)
    return sorted.slice((options.shardIndex - 1) * size, options.shardIndex * size)
  }

  sort(tests: JestTest[]): JestTest[] {
    const config = tests[0]?.context.config
    if (!config) return tests
    return orderFiles(tests, (t) => t.path, { seed: this.seed, shuffle: config.testEnvironmentOptions?.rig?.order?.shuffle ?? true, root: config.rootDir })
  }

  /** `--onlyFailures` needs Jest's own cache of results, which rig's order does not keep: every file runs. */
  allFailedTests(tests: JestTest[]): JestTest[] {
    return tests
  }

  cacheResults(): void {}
}
