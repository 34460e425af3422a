import type { TestSequencer, TestSpecification, Vitest } from 'vitest/node'
import { seededSort } from './order.ts'

/** A Vitest sequencer ordering files by a hash of (seed, path); `shuffle: false` keeps path order. */
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
      if (!shuffle) return [...files].sort((a, b) => a.moduleId.localeCompare(b.moduleId))
      return seededSort(files, seed, (f) => f.moduleId.slice(this.ctx.config.root.length))
    }
  }
}
