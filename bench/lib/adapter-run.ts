// One Jest or node:test run of a generated benchmark suite (bench/plugin-suite.ts), timed from
// spawn to exit, with the tests phase its timing hooks wrote: Jest's reporter from the run's
// start (after the global setup) to its end (before the global teardown), node:test's global
// setup's end to its global teardown's start. Both variants (rig, the TRUNCATE baseline) are
// timed by the same hooks.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'

const REPO = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..')
const JEST = path.join(REPO, 'node_modules', 'jest', 'bin', 'jest.js')

export type AdapterRunner = 'jest' | 'node-test'

/** One run of one variant. */
export interface AdapterSample<V extends string = string> {
  variant: V
  wallMs: number
  /** first test file starts → the last one ended (global setup and teardown outside). */
  testsMs: number
  /** From rig's report, when the variant writes one: how the guard restored, per test. */
  restoredWith: Record<string, number>
}

/** The command line of `runner` for `config` ('rig' or 'baseline'). */
function commandOf(runner: AdapterRunner, config: string): string[] {
  if (runner === 'jest') return ['--experimental-vm-modules', '--no-warnings', JEST, '--config', `jest.${config}.config.js`]
  const reporters = config === 'rig' ? ['--test-reporter=testrig/node-test/reporter', '--test-reporter-destination=stderr'] : []
  return ['--test', '--test-concurrency=1', `--test-global-setup=node-test-${config}-setup.js`, `--import=${config === 'rig' ? 'testrig/node-test' : './baseline/node-test-truncate.js'}`, '--test-reporter=tap', '--test-reporter-destination=stdout', ...reporters, 'node-tests/*.test.js']
}

/**
 * Runs `runner` on the suite in `dir` with the `config` variant and checks that all `tests`
 * passed; `variant` labels the sample. Throws with the output's tail when the run failed.
 */
export async function runAdapter<V extends string>(runner: AdapterRunner, dir: string, variant: V, config: string, index: number, tests: number): Promise<AdapterSample<V>> {
  const timingFile = path.join(dir, 'out', `${runner}-${variant}-${index}.json`)
  fs.mkdirSync(path.dirname(timingFile), { recursive: true })
  fs.rmSync(path.join(dir, 'rig-report'), { recursive: true, force: true })
  const env: NodeJS.ProcessEnv = { ...process.env, BENCH_TIMING_FILE: timingFile, NO_COLOR: '1', FORCE_COLOR: '0' }
  for (const k of ['RIG_SEED', 'CI', 'NODE_OPTIONS', 'RIG_RUN', 'RIG_GUARD_HOST']) delete env[k]
  const spawnedAt = performance.timeOrigin + performance.now()
  const child = spawn(process.execPath, commandOf(runner, config), { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', (d: Buffer) => void (output += d.toString()))
  child.stderr.on('data', (d: Buffer) => void (output += d.toString()))
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
  const exitedAt = performance.timeOrigin + performance.now()
  if (code !== 0) throw new Error(`${runner} ${variant} run ${index} exited with ${code}:\n${output.slice(-4000)}`)
  const t = JSON.parse(fs.readFileSync(timingFile, 'utf8')) as { runStart: number; runEnd: number; passed?: number }
  const passed = runner === 'jest' ? (t.passed ?? 0) : Number(/^# pass (\d+)$/m.exec(output)?.[1] ?? 0)
  if (passed !== tests) throw new Error(`${runner} ${variant} run ${index}: ${passed}/${tests} tests passed:\n${output.slice(-4000)}`)
  const restoredWith: Record<string, number> = {}
  const reportFile = path.join(dir, 'rig-report', 'report.json')
  if (fs.existsSync(reportFile)) {
    const report = JSON.parse(fs.readFileSync(reportFile, 'utf8')) as { tests: { restoredWith?: string }[] }
    for (const x of report.tests) restoredWith[x.restoredWith ?? 'none'] = (restoredWith[x.restoredWith ?? 'none'] ?? 0) + 1
  }
  return { variant, wallMs: exitedAt - spawnedAt, testsMs: t.runEnd - t.runStart, restoredWith }
}
