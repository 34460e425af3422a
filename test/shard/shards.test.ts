// Shards through the plugin in a throw-away project run by real `vitest run`s: the split on
// committed timings, Vitest's --shard and a CI's variables choosing the shard, the shards'
// reports merged into one, and the bad inputs.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, test } from 'vitest'
import { NODE, REPO, envDirs, leftovers, type Project } from '../support/project.ts'
import { ECHO_CONFIG, pluginProject } from '../support/vitest-project.ts'

let project: Project | undefined

afterEach(async () => {
  await project?.dispose()
  project = undefined
})


/** `vitest run ARGS` in the project with `env`; never rejects. */
function run(p: Project, args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(NODE, [path.join(REPO, 'node_modules/vitest/vitest.mjs'), 'run', ...args], {
      cwd: p.dir,
      env: { ...process.env, NO_COLOR: '1', RIG_TMP_DIR: path.join(p.dir, 'tmp'), VITEST: undefined, VITEST_POOL_ID: undefined, VITEST_WORKER_ID: undefined, CI_NODE_INDEX: undefined, CI_NODE_TOTAL: undefined, CIRCLE_NODE_INDEX: undefined, CIRCLE_NODE_TOTAL: undefined, RIG_SHARD: undefined, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d))
    child.on('close', (code) => resolve({ code, output }))
  })
}

interface Report {
  files: string[]
  repro: string
  shard?: { index: number; count: number }
  shards?: { index: number; files: string[]; durationMs: number }[]
  tests: { file: string; name: string; status: string; repro?: string }[]
  summary: { passed: number; failed: number }
}
const read = (p: Project, dir: string): Report => JSON.parse(fs.readFileSync(path.join(p.dir, dir, 'report.json'), 'utf8'))

describe('shards', () => {
  test('timings put the long file on a shard of its own; --shard and the CI variables pick the shard; the reports merge into one', async () => {
    project = pluginProject(ECHO_CONFIG)
    const files = { a: 3000, b: 1000, c: 1000, d: 1000, e: 500, f: 500 }
    for (const f of Object.keys(files)) project.write(`test/${f}.test.ts`, `import { test, expect } from 'vitest'\ntest('${f} works', () => { expect(1).toBe(1) })\n${f === 'f' ? "test('f fails', () => { expect(1).toBe(2) })\n" : ''}`)
    project.write('rig-timings.json', JSON.stringify({ version: 1, files: Object.fromEntries(Object.entries(files).map(([f, ms]) => [`test/${f}.test.ts`, ms])) }))

    const one = await run(project, ['--shard=1/2'], { RIG_REPORT_DIR: 'shard-1' })
    expect(one.output).toContain('rig: shard 1/2: 2 of 6 files, ~4 s of ~7 s expected (timings from rig-timings.json)')
    expect(one.code).toBe(0)
    // GitLab numbers its parallel jobs from 1
    const two = await run(project, [], { RIG_REPORT_DIR: 'shard-2', CI_NODE_INDEX: '2', CI_NODE_TOTAL: '2' })
    expect(two.output).toContain('rig: shard 2/2: 4 of 6 files')
    expect(two.code).toBe(1)

    const r1 = read(project, 'shard-1')
    const r2 = read(project, 'shard-2')
    expect(r1.files.sort()).toEqual(['test/a.test.ts', 'test/e.test.ts'])
    expect(r2.files.sort()).toEqual(['test/b.test.ts', 'test/c.test.ts', 'test/d.test.ts', 'test/f.test.ts'])
    expect(r1.shard).toEqual({ index: 1, count: 2 })
    expect(r2.shard).toEqual({ index: 2, count: 2 })
    // Replays name the shard's exact files, never --shard (which would split them again).
    expect(r2.repro).not.toContain('--shard')
    for (const f of r2.files) expect(r2.repro).toContain(f)
    expect(r2.tests.find((t) => t.name === 'f fails')?.repro).not.toContain('--shard')

    const merged = await project.rig(['report', 'merge', 'shard-2', 'shard-1/report.json', '--out', 'merged', '--timings', 'next-timings.json'])
    expect(merged.code).toBe(1)
    expect(merged.stdout).toMatch(/shard 1\/2 +2 files/)
    expect(merged.stdout).toMatch(/shard 2\/2 +4 files/)
    expect(merged.stdout).toMatch(/7 tests from 2 report\(s\): 6 passed, 1 failed, 0 skipped/)
    const m = read(project, 'merged')
    expect(m.files).toEqual([...r1.files, ...r2.files])
    expect(m.tests).toHaveLength(7)
    expect(m.shards?.map((s) => s.index)).toEqual([1, 2])
    expect(fs.readFileSync(path.join(project.dir, 'merged/junit.xml'), 'utf8')).toContain('f fails')
    const html = fs.readFileSync(path.join(project.dir, 'merged/index.html'), 'utf8')
    expect(html).toContain('f fails')
    expect(html).toMatch(/<h2>Shards \(2\)<\/h2>.*<td>1\/2<\/td><td>[^<]+<\/td><td>2<\/td><td>2<\/td><td>0<\/td>.*<td>2\/2<\/td><td>[^<]+<\/td><td>4<\/td><td>4<\/td><td>1<\/td>/s)
    expect(Object.keys(JSON.parse(fs.readFileSync(path.join(project.dir, 'next-timings.json'), 'utf8')).files).sort()).toEqual(Object.keys(files).map((f) => `test/${f}.test.ts`))

    const again = await project.rig(['report', 'merge', 'shard-1', 'shard-1'])
    expect(again.code).toBe(2)
    expect(again.stderr).toContain('two reports are shard 1/2: shard-1 and shard-1')
    expect(leftovers(project.dir)).toEqual([])
  }, 300_000)

  test('bad input: a shard out of range (RIG_SHARD, rig({ shard })) starts nothing; timings naming gone files and lacking new ones still split, and say so; without a timings file, the last report\'s durations', async () => {
    project = pluginProject(ECHO_CONFIG)
    for (const f of ['a', 'b', 'new']) project.write(`test/${f}.test.ts`, `import { test } from 'vitest'\ntest('${f}', () => {})\n`)
    project.write('rig-timings.json', JSON.stringify({ version: 1, files: { 'test/a.test.ts': 800, 'test/b.test.ts': 900, 'test/removed.test.ts': 5000 } }))
    const bad = await run(project, [], { RIG_SHARD: '3/2' })
    expect(bad.code).not.toBe(0)
    expect(bad.output).toContain('RIG_SHARD "3/2": the shard index must be from 1 to 2 (shards are numbered from 1)')
    expect(envDirs(project.dir)).toEqual([])
    const circle = await run(project, [], { CIRCLE_NODE_INDEX: '0', CIRCLE_NODE_TOTAL: '2', RIG_REPORT_DIR: 'one' })
    expect(circle.output).toMatch(/rig: shard 1\/2: \d of 3 files, .* \(timings from rig-timings\.json; 1 file\(s\) it lacks estimated from their size; 1 file\(s\) in it no longer exist\)/)
    expect(circle.code).toBe(0)
    // rig({ shard }) in vitest.config.ts: checked like the others; without a timings file, the last report's durations.
    const withShard = (shard: string | undefined): string => `import { defineConfig } from 'vitest/config'\nimport { rig } from 'testrig/vitest'\nexport default defineConfig({ plugins: [rig({ order: { shuffle: false }${shard ? `, shard: '${shard}'` : ''} })], test: { include: ['test/**/*.test.ts'] } })\n`
    project.write('vitest.config.ts', withShard('3/2'))
    const option = await run(project, [])
    expect(option.code).not.toBe(0)
    expect(option.output).toContain('rig({ shard }) "3/2": the shard index must be from 1 to 2 (shards are numbered from 1)')
    fs.rmSync(path.join(project.dir, 'rig-timings.json'))
    project.write('vitest.config.ts', withShard(undefined))
    expect((await run(project, [])).code).toBe(0)
    project.write('vitest.config.ts', withShard('2/2'))
    const fromReport = await run(project, [])
    expect(fromReport.output).toMatch(/rig: shard 2\/2: \d of 3 files, .* \(timings from rig-report\/report\.json\)/)
    expect(fromReport.code).toBe(0)
    const unreadable = await project.rig(['report', 'merge', 'nowhere'])
    expect(unreadable.code).toBe(2)
    expect(unreadable.stderr).toMatch(/cannot read a report at nowhere \(ENOENT\): give rig-report directories or report.json files of the shards/)
  }, 300_000)
})
