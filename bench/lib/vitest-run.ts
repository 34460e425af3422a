// One `vitest run` of a generated benchmark suite (bench/plugin-suite.ts), timed from spawn to
// exit, with what the suite's timing reporter wrote: per file, the hooks (module duration minus
// its tests), the setup files' import and the test file's import.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'

const REPO = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..')
const VITEST = path.join(REPO, 'node_modules', 'vitest', 'vitest.mjs')

/** What the suite's timing reporter writes (epoch ms and durations in ms). */
interface Timing {
  init: number
  runStart: number
  firstModule: number
  runEnd: number
  modules: { file: string; duration: number; setup: number; collect: number; prepare: number; environment: number }[]
  tests: { file: string; name: string; state: string; duration: number }[]
}

/** One `vitest run` of one variant. */
export interface RunSample<V extends string = string> {
  variant: V
  wallMs: number
  envReadyMs: number
  /** spawn → first test file starts (Vitest boot, config, environment start, first worker). */
  beforeTestsMs: number
  /** first test file starts → run ends. */
  testsMs: number
  /** run ends → process exited (reporters, rig's report, environment stop). */
  afterTestsMs: number
  testDurations: number[]
  /** Per file: module duration − its tests' durations (beforeAll/afterAll hooks). */
  fileHooksMs: number[]
  /** Per file: time to import the setup files. */
  setupImportMs: number[]
  /** Per file: time to import the test file. */
  collectMs: number[]
  /** From rig's report, when the variant writes one: how the guard restored, per test. */
  restoredWith: Record<string, number>
}

/**
 * Runs `vitest run --config vitest.<config>.config.ts` in `dir` and checks that all `tests`
 * passed; `variant` labels the sample. Throws with the output's tail when the run failed.
 */
export async function runVitest<V extends string>(dir: string, variant: V, config: string, index: number, tests: number): Promise<RunSample<V>> {
  const timingFile = path.join(dir, 'out', `${variant}-${index}.json`)
  fs.mkdirSync(path.dirname(timingFile), { recursive: true })
  fs.rmSync(path.join(dir, 'rig-report'), { recursive: true, force: true })
  const argv = [VITEST, 'run', '--config', `vitest.${config}.config.ts`, '--reporter=default', '--reporter=./timing-reporter.js']
  const env: NodeJS.ProcessEnv = { ...process.env, BENCH_TIMING_FILE: timingFile, NO_COLOR: '1', FORCE_COLOR: '0' }
  delete env.RIG_SEED
  delete env.CI
  const spawnedAt = performance.timeOrigin + performance.now()
  const child = spawn(process.execPath, argv, { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', (d: Buffer) => void (output += d.toString()))
  child.stderr.on('data', (d: Buffer) => void (output += d.toString()))
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
  const exitedAt = performance.timeOrigin + performance.now()
  if (code !== 0) throw new Error(`${variant} run ${index} exited with ${code}:\n${output.slice(-4000)}`)
  const t = JSON.parse(fs.readFileSync(timingFile, 'utf8')) as Timing
  const passed = t.tests.filter((x) => x.state === 'passed').length
  if (passed !== tests) throw new Error(`${variant} run ${index}: ${passed}/${tests} tests passed:\n${output.slice(-4000)}`)
  const ready = /(?:rig|baseline): environment ready in (\d+) ms/.exec(output)
  const byFile = new Map<string, number>()
  for (const x of t.tests) byFile.set(x.file, (byFile.get(x.file) ?? 0) + x.duration)
  const restoredWith: Record<string, number> = {}
  const reportFile = path.join(dir, 'rig-report', 'report.json')
  if (fs.existsSync(reportFile)) {
    const report = JSON.parse(fs.readFileSync(reportFile, 'utf8')) as { tests: { restoredWith?: string }[] }
    for (const x of report.tests) restoredWith[x.restoredWith ?? 'none'] = (restoredWith[x.restoredWith ?? 'none'] ?? 0) + 1
  }
  return {
    variant,
    wallMs: exitedAt - spawnedAt,
    envReadyMs: ready ? Number(ready[1]) : Number.NaN,
    beforeTestsMs: t.firstModule - spawnedAt,
    testsMs: t.runEnd - t.firstModule,
    afterTestsMs: exitedAt - t.runEnd,
    testDurations: t.tests.map((x) => x.duration),
    fileHooksMs: t.modules.map((m) => m.duration - (byFile.get(m.file) ?? 0)),
    setupImportMs: t.modules.map((m) => m.setup),
    collectMs: t.modules.map((m) => m.collect),
    restoredWith,
  }
}

/** Our own leftovers: processes whose working directory is inside `dir`. */
export function processesIn(dir: string): number[] {
  const out: number[] = []
  for (const p of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(p) || Number(p) === process.pid) continue
    try {
      if (fs.readlinkSync(`/proc/${p}/cwd`).startsWith(dir)) out.push(Number(p))
    } catch {}
  }
  return out
}
