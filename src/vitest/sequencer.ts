import type { TestSequencer, TestSpecification, Vitest } from 'vitest/node'
import path from 'node:path'
import { orderFiles } from '../runner/order.ts'
import { testSelection } from './selection.ts'
import { selectShard } from '../shard/select-shard.ts'

/** How shards are cut: where earlier timings are (see `selectShard`). */
export interface ShardOptions {
  timings?: string
  reportDir: string
}

/** A Vitest sequencer over the core's file order (seeded hash, `RIG_ORDER`); `shuffle: false` keeps path order. */
export function createSequencer(seed: number, shuffle: boolean, shards: ShardOptions = { reportDir: 'rig-report' }): new (ctx: Vitest) => TestSequencer {
  return class RigSequencer implements TestSequencer {
    private readonly ctx: Vitest
    constructor(ctx: Vitest) {
      this.ctx = ctx
    }
    shard(files: TestSpecification[]): TestSpecification[] {
      const shard = this.ctx.config.shard
      if (!shard) return files
      // Balanced on earlier timings, independent of the seed: a file stays in its shard across seeds.
      const root = this.ctx.config.root
      const rel = (f: TestSpecification): string => path.relative(root, f.moduleId)
      const picked = selectShard(root, [...new Set(files.map(rel))], shard, shards)
      process.stderr.write(`rig: ${picked.line}\n`)
      const chosen = new Set(picked.files)
      return files.filter((f) => chosen.has(rel(f)))
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
