import type { TestSequencer, TestSpecification, Vitest } from 'vitest/node'
import { orderFiles } from '../runner/order.ts'

/** A Vitest sequencer over the core's file order (seeded hash, `RIG_ORDER`); `shuffle: false` keeps path order. */
export function createSequencer(seed: number, shuffle: boolean): new (ctx: Vitest) => TestSequencer {
  return class RigSequencer implements TestSequencer {
    private readonly ctx: Vitest
    constructor(ctx: Vitest) {
      this.ctx = ctx
    }
    shard(files: TestSpecification[]): TestSpecification[] {
      const shard = this.ctx.config.shard
      if (!shard) return files
      // Shards are cut from a seed-independent order so a file stays in its shard across seeds.
      const sorted = [...files].sort((a, b) => a.moduleId.localeCompare(b.moduleId))
      const size = Math.ceil(sorted.length / shard.count)
      return sorted.slice((shard.index - 1) * size, shard.index * size)
    }
    sort(files: TestSpecification[]): TestSpecification[] {
      return orderFiles(files, (f) => f.moduleId, { seed, shuffle, root: this.ctx.config.root })
    }
  }
}
