import type { TestSequencer, TestSpecification, Vitest } from 'vitest/node'
import fs from 'node:fs'
import path from 'node:path'
import { RigError } from '../errors.ts'
import { seededSort } from './order.ts'

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
      const rel = (f: TestSpecification): string => path.relative(this.ctx.config.root, f.moduleId)
      const sorted = shuffle ? seededSort(files, seed, (f) => f.moduleId.slice(this.ctx.config.root.length)) : [...files].sort((a, b) => a.moduleId.localeCompare(b.moduleId))
      const order = explicitOrder(this.ctx.config.root)
      if (!order) return sorted
      // Files the order names run first, in its order; any others after them, as usual.
      const rank = (f: TestSpecification): number => {
        const i = order.indexOf(rel(f))
        return i < 0 ? order.length : i
      }
      return sorted.map((f, i) => ({ f, i })).sort((a, b) => rank(a.f) - rank(b.f) || a.i - b.i).map((e) => e.f)
    }
  }
}
