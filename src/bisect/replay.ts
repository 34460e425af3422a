// One probe of a bisect: a real `vitest run` of an ordered list of tests (RIG_TESTS) with the
// recorded seed, its report written to a private temp dir, and the failing test's status read
// back from it.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import { RigError } from '../errors.ts'
import type { RunReport, TestEntry } from '../report/model.ts'
import { shellQuote } from '../runner/order.ts'

/** How one replay ended. */
export interface ReplayOutcome {
  /** The target's status in the replay; `missing` when it did not run. */
  status: 'passed' | 'failed' | 'skipped' | 'missing'
  /** The target's failure messages. */
  errors: string[]
  ms: number
}

/** Runs tests in a given order. */
export interface Replayer {
  replay(tests: readonly TestEntry[], target: TestEntry, seed: number): Promise<ReplayOutcome>
  /** Runs the whole suite (its own seed) and returns its report. */
  runSuite(): Promise<RunReport>
  /** Removes the temp dir. */
  close(): void
}

/** The Vitest CLI of the project at `root`. */
export function vitestCli(root: string): string {
  try {
    const pkg = createRequire(path.join(root, 'package.json')).resolve('vitest/package.json')
    return path.join(path.dirname(pkg), 'vitest.mjs')
  } catch {
    throw new RigError('RIG_BISECT_NO_VITEST', `rig bisect replays tests with Vitest, which is not installed in ${root}: npm install -D vitest`, { exitCode: 2 })
  }
}

/** The shell command that replays the tests listed in `listFile` (see {@link writeTestList}). */
export function replayCommand(seed: number, tests: readonly TestEntry[], listFile: string): string {
  const files = [...new Set(tests.map((t) => t.file))]
  return `RIG_SEED=${seed} RIG_TESTS=${shellQuote(listFile)} npx vitest run ${files.map(shellQuote).join(' ')}`
}

/** Writes the RIG_TESTS list of `tests` to `file` (a temp name renamed over it: no link is followed). */
export function writeTestList(file: string, tests: readonly TestEntry[]): void {
  fs.mkdirSync(path.dirname(file), { recursive: true })
  const tmp = `${file}.${process.pid}.tmp`
  fs.writeFileSync(tmp, JSON.stringify(tests.map((t) => ({ file: t.file, name: t.name })), null, 2) + '\n', { flag: 'wx', mode: 0o644 })
  fs.renameSync(tmp, file)
}

/** A replayer running the project's Vitest; `command` replaces `node vitest.mjs run` (files are appended). */
export function createReplayer(root: string, options: { command?: string[]; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Replayer {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-bisect-'))
  const base = options.command && options.command.length > 0 ? options.command : [process.execPath, vitestCli(root), 'run']
  let n = 0
  const runInto = async (files: string[], env: NodeJS.ProcessEnv): Promise<RunReport> => {
    const run = path.join(dir, String(++n))
    fs.mkdirSync(run, { mode: 0o700 })
    const reportDir = path.join(run, 'report')
    const { code, output } = await spawnRun(base, files, root, { ...process.env, ...options.env, ...env, RIG_REPORT_DIR: reportDir, NO_COLOR: '1', FORCE_COLOR: '0' }, options.timeoutMs)
    try {
      return JSON.parse(fs.readFileSync(path.join(reportDir, 'report.json'), 'utf8')) as RunReport
    } catch {
      const tail = output.trim().split('\n').slice(-15).join('\n')
      throw new RigError('RIG_BISECT_RUN_FAILED', `a run wrote no rig report (exit code ${code}); is rig() in the plugins of vitest.config? Its last lines:\n${tail}`)
    }
  }
  return {
    runSuite: () => runInto([], {}),
    async replay(tests, target, seed) {
      const selection = path.join(dir, `tests-${n + 1}.json`)
      writeTestList(selection, [...tests, target])
      const files = [...new Set([...tests, target].map((t) => t.file))]
      const t0 = performance.now()
      const report = await runInto(files, { RIG_SEED: String(seed), RIG_TESTS: selection, RIG_ORDER: '' })
      const ms = performance.now() - t0
      const got = report.tests.find((t) => t.id === target.id)
      const fileError = report.tests.find((t) => t.name === '(file)' && t.file === target.file)
      if (!got && fileError) return { status: 'failed', errors: fileError.errors, ms }
      return { status: got ? got.status : 'missing', errors: got?.errors ?? [], ms }
    },
    close() {
      fs.rmSync(dir, { recursive: true, force: true })
    },
  }
}

function spawnRun(base: string[], files: string[], cwd: string, env: NodeJS.ProcessEnv, timeoutMs = 30 * 60_000): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(base[0] as string, [...base.slice(1), ...files], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    const keep = (d: string): void => {
      output = (output + d).slice(-20_000)
    }
    child.stdout.setEncoding('utf8').on('data', keep)
    child.stderr.setEncoding('utf8').on('data', keep)
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs)
    child.on('error', (err) => {
      clearTimeout(timer)
      reject(new RigError('RIG_BISECT_RUN_FAILED', `could not run ${base[0]}: ${err.message}`))
    })
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, output })
    })
  })
}
