// Shard planning and its inputs, without running a suite: LPT on recorded timings, estimates
// for files the timings lack, the CI's variables, merging shard reports.
import { describe, expect, test } from 'vitest'
import { estimate, planShards } from '../../src/shard/plan.ts'
import { parseShard, shardFromEnv } from '../../src/shard/shard-spec.ts'
import { mergeReports } from '../../src/shard/merge-reports.ts'
import { timingsFile, timingsOfReport } from '../../src/shard/timings.ts'
import type { RunReport, TestEntry } from '../../src/report/model.ts'

const entry = (file: string, name: string, durationMs: number, status: TestEntry['status'] = 'passed'): TestEntry => ({ id: `${file} > ${name}`, file, name, status, durationMs, errors: [], leaks: [], logErrors: [] })

function report(shard: { index: number; count: number } | undefined, tests: TestEntry[], durationMs: number): RunReport {
  const files = [...new Set(tests.map((t) => t.file))]
  return {
    version: 1,
    startedAt: '2026-11-28T10:00:00.000Z',
    durationMs,
    seed: 7,
    files,
    repro: `RIG_SEED=7 npx vitest run ${files.join(' ')}`,
    summary: { passed: tests.filter((t) => t.status === 'passed').length, failed: tests.filter((t) => t.status === 'failed').length, skipped: 0, leaks: 0, logErrors: 0 },
    ...(shard ? { shard } : {}),
    environment: { startMs: 100, attached: false, services: [] },
    tests,
  }
}

describe('shards', () => {
  test('longest first onto the least loaded shard, deterministic', () => {
    const weights = [
      { file: 'a', weight: 100 },
      { file: 'b', weight: 40 },
      { file: 'c', weight: 35 },
      { file: 'd', weight: 30 },
      { file: 'e', weight: 25 },
    ]
    const shards = planShards(weights, 2)
    expect(shards.map((s) => s.files)).toEqual([
      ['a', 'e'],
      ['b', 'c', 'd'],
    ])
    expect(shards.map((s) => s.weight)).toEqual([125, 105])
    // the same inputs in another order give the same shards
    expect(planShards([...weights].reverse(), 2)).toEqual(shards)
  })

  test('files the timings lack are estimated from their size; files gone from the suite are counted and ignored', () => {
    const timings = new Map([
      ['old.test.ts', 1000],
      ['gone.test.ts', 5000],
    ])
    const e = estimate(
      [
        { file: 'old.test.ts', size: 500 },
        { file: 'new.test.ts', size: 1000 },
      ],
      timings,
    )
    expect(e).toEqual({ weights: [{ file: 'old.test.ts', weight: 1000 }, { file: 'new.test.ts', weight: 2000 }], timed: 1, estimated: 1, gone: 1 })
    // without timings: by size
    expect(estimate([{ file: 'x', size: 10 }], undefined).weights).toEqual([{ file: 'x', weight: 10 }])
  })

  test('i/N is checked: out of range, zero, not a shard', () => {
    expect(parseShard('2/4', 'x')).toEqual({ index: 2, count: 4 })
    expect(() => parseShard('5/4', '--shard')).toThrow('--shard "5/4": the shard index must be from 1 to 4 (shards are numbered from 1)')
    expect(() => parseShard('0/4', '--shard')).toThrow(/must be from 1 to 4/)
    expect(() => parseShard('half', 'RIG_SHARD')).toThrow('RIG_SHARD "half": give the shard as i/N, e.g. 2/4 for the second of four machines')
  })

  test("the CI's variables: CircleCI and Buildkite count from 0, GitLab from 1; one job is no shard", () => {
    expect(shardFromEnv({ CIRCLE_NODE_INDEX: '0', CIRCLE_NODE_TOTAL: '4' })).toMatchObject({ index: 1, count: 4 })
    expect(shardFromEnv({ BUILDKITE_PARALLEL_JOB: '3', BUILDKITE_PARALLEL_JOB_COUNT: '4' })).toMatchObject({ index: 4, count: 4 })
    expect(shardFromEnv({ CI_NODE_INDEX: '2', CI_NODE_TOTAL: '3' })).toMatchObject({ index: 2, count: 3 })
    expect(shardFromEnv({ CI_NODE_INDEX: '1', CI_NODE_TOTAL: '1' })).toBeUndefined()
    expect(shardFromEnv({ RIG_SHARD: '2/2', CI_NODE_INDEX: '1', CI_NODE_TOTAL: '3' })).toMatchObject({ index: 2, count: 2, source: 'RIG_SHARD' })
    expect(() => shardFromEnv({ CI_NODE_INDEX: '4', CI_NODE_TOTAL: '3' })).toThrow(/CI_NODE_INDEX=4 CI_NODE_TOTAL=3 \(shard "4\/3": the shard index must be from 1 to 3/)
    expect(shardFromEnv({})).toBeUndefined()
  })

  test('merging: tests and files in shard order, counts summed, the slowest shard is the duration, each shard kept', () => {
    const one = report({ index: 1, count: 2 }, [entry('a.test.ts', 'x', 300), entry('a.test.ts', 'y', 200, 'failed')], 900)
    const two = report({ index: 2, count: 2 }, [entry('b.test.ts', 'z', 600)], 1200)
    const merged = mergeReports([two, one], ['two', 'one'])
    expect(merged.files).toEqual(['a.test.ts', 'b.test.ts'])
    expect(merged.tests.map((t) => t.name)).toEqual(['x', 'y', 'z'])
    expect(merged.summary).toMatchObject({ passed: 2, failed: 1 })
    expect(merged.durationMs).toBe(1200)
    expect(merged.shards?.map((s) => [s.index, s.durationMs, s.files])).toEqual([
      [1, 900, ['a.test.ts']],
      [2, 1200, ['b.test.ts']],
    ])
    expect(timingsFile(timingsOfReport(merged))).toEqual({ version: 1, files: { 'a.test.ts': 500, 'b.test.ts': 600 } })
    // a merged report merges again as its parts
    expect(mergeReports([merged], ['m']).shards).toHaveLength(2)
    expect(() => mergeReports([one, one], ['rig-report-1', 'copy'])).toThrow('two reports are shard 1/2: rig-report-1 and copy; give each shard\'s report once')
  })
})
