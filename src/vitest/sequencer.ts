import type { TestSequencer, TestSpecification, Vitest } from 'vitest/node'
import path from 'node:path'
import { orderFiles } from '../runner/order.ts'
import { testSelection } from './selection.ts'

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
      const root = this.ctx.config.root
      const sorted = orderFiles(files, (f) => f.moduleId, { seed, shuffle, root })
      const selection = testSelection(root)
      if (!selection) return sorted
      // Exactly the selected tests (rig bisect): other files leave the run, the rest keep the listed order.
      const rel = (f: TestSpecification): string => path.relative(root, f.moduleId)
      const chosen = sorted.filter((f) => selection.names.has(rel(f)))
      for (const f of chosen) f.testNames = selection.names.get(rel(f))
      return chosen.sort((a, b) => selection.files.indexOf(rel(a)) - selection.files.indexOf(rel(b)))
    }
  }
}
