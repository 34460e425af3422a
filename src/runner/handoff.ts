// How a run reaches test files in other processes when the runner has no channel of its own
// (Jest, node:test): the main process publishes the run in one environment variable before
// the runner starts its workers, which inherit it; each test's verdict is appended by the
// worker to a file of the run's private results dir, which the main process reads back for the
// report.
import fs from 'node:fs'
import path from 'node:path'
import type { TimelineEntry } from '../report/model.ts'
import type { RigProvided } from './provided.ts'
import type { TestMeta } from './test-meta.ts'
import { bindWorker, exportWorkerVars } from './worker.ts'
import { RigError } from '../errors.ts'

/** The environment variable that carries the run to workers. */
export const RUN_VAR = 'RIG_RUN'

/** A run as workers and the reporter see it. Serialisable. */
export interface RunHandoff {
  provided: RigProvided
  /** The runner's root: paths in the report and replay commands are relative to it. */
  root: string
  /** Where workers record each test's verdict: a private dir below rig's temp root, owned by the main process (`runs/<id>`, see publish-run.ts). */
  resultsDir: string
  report: { dir: string; enabled: boolean }
  session: { timeline: TimelineEntry[]; startMs: number; attached: boolean }
}

/** Publishes the run to this process and every process it starts from now on. */
export function publishRun(run: RunHandoff): void {
  process.env[RUN_VAR] = JSON.stringify(run)
}

/** The run published by the main process, if any. */
export function readRun(env: NodeJS.ProcessEnv = process.env): RunHandoff | undefined {
  const text = env[RUN_VAR]
  if (!text) return undefined
  try {
    return JSON.parse(text) as RunHandoff
  } catch {
    return undefined
  }
}

/** One test's verdict as a worker records it. */
export interface RecordedTest {
  /** Absolute path of the test file. */
  file: string
  /** Full name, describe blocks joined with ` > `. */
  name: string
  meta: TestMeta
}

/** Appends a test's verdict (one JSON line per test, one file per worker process). */
export function recordTest(run: RunHandoff, test: RecordedTest): void {
  const fd = fs.openSync(path.join(run.resultsDir, `${process.pid}.jsonl`), fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT | fs.constants.O_NOFOLLOW, 0o600)
  try {
    fs.writeSync(fd, JSON.stringify(test) + '\n')
  } finally {
    fs.closeSync(fd)
  }
}

/** Every verdict recorded so far, by file and full name; a name run twice (retries) keeps its runs in order. */
export function readResults(dir: string): Map<string, TestMeta[]> {
  const byTest = new Map<string, TestMeta[]>()
  let files: string[] = []
  try {
    files = fs.readdirSync(dir).filter((f) => f.endsWith('.jsonl'))
  } catch {
    return byTest
  }
  for (const f of files) {
    for (const line of fs.readFileSync(path.join(dir, f), 'utf8').split('\n')) {
      if (!line) continue
      const t = JSON.parse(line) as RecordedTest
      const key = resultKey(t.file, t.name)
      byTest.set(key, [...(byTest.get(key) ?? []), t.meta])
    }
  }
  return byTest
}

/** The key of a test in {@link readResults}. */
export function resultKey(file: string, name: string): string {
  return `${file}\0${name}`
}

/** Removes a run's results dir (the reporter, once it read them; else the main process at exit). */
export function removeResults(run: Pick<RunHandoff, 'resultsDir'>): void {
  fs.rmSync(run.resultsDir, { recursive: true, force: true })
}

/**
 * A worker's side of the handoff: binds the core to the published run (a test then fails with
 * `missing`, which says how to set the adapter up, when there is none) and exports the
 * services' variables. `workerId`: the runner's number of this worker, from 1.
 */
export function bindToRun(missing: string, workerId: () => number): RunHandoff | undefined {
  const run = readRun()
  bindWorker({
    provided() {
      if (!run) throw new RigError('RIG_ADAPTER_MISSING', missing)
      return run.provided
    },
    workerId,
  })
  if (run) exportWorkerVars(run.provided)
  return run
}
