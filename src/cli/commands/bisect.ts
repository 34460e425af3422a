// `rig bisect`: which tests that ran before a failing one make it fail.
import path from 'node:path'
import { bisect, type BisectResult, type BisectStep } from '../../bisect/bisect.ts'
import { createReplayer, replayCommand, writeTestList } from '../../bisect/replay.ts'
import { pickTarget, planBisect, readReport } from '../../bisect/select.ts'
import { RigError } from '../../errors.ts'
import type { RunReport, TestEntry } from '../../report/model.ts'
import type { CommandContext } from '../command.ts'
import { projectRoot } from '../_context.ts'
import type { Output } from '../output.ts'

const secs = (ms: number): string => `${(ms / 1000).toFixed(1)} s`
const label = (t: TestEntry): string => `"${t.name}" (${t.file})`

function left(t: TestEntry): string {
  const items = t.leaks.flatMap((l) => l.items)
  return items.length > 0 ? ` — it left ${items.join(', ')}` : ''
}

function stepLine(out: Output, s: BisectStep): string {
  const what = s.purpose === 'alone' ? 'alone' : s.purpose === 'recorded order' ? `after all ${s.before} tests (recorded order)` : `after ${s.before} test${s.before === 1 ? '' : 's'}`
  const status = s.outcome.status === 'failed' ? out.e.red('failed') : s.outcome.status === 'passed' ? out.e.green('passed') : s.outcome.status
  return `  run ${String(s.run).padStart(2)}  ${what.padEnd(40)} ${status}  ${out.e.dim(secs(s.outcome.ms))}`
}

/** `rig bisect [--report PATH] [--test NAME] [--runs N] [--run] [-- CMD…]`. */
export async function bisectCommand({ values, rest, out }: CommandContext): Promise<number> {
  const root = projectRoot(values.config as string | undefined)
  const runs = values.runs === undefined ? 1 : Number(values.runs)
  if (!Number.isInteger(runs) || runs < 1 || runs > 20) throw new RigError('RIG_USAGE', `--runs ${String(values.runs)}: give a whole number of replays per probe from 1 to 20`, { exitCode: 2 })
  const replayer = createReplayer(root, { command: rest })
  try {
    let report: RunReport
    let source: string
    let listDir = path.join(root, 'rig-report')
    if (values.run) {
      out.info('rig bisect: running the suite to find an order-dependent failure…')
      report = await replayer.runSuite()
      source = 'this run'
    } else {
      const file = path.resolve(root, (values.report as string | undefined) ?? path.join('rig-report', 'report.json'))
      report = readReport(file)
      listDir = path.dirname(file)
      source = path.relative(process.cwd(), file) || file
    }
    const target = pickTarget(report, values.test as string | undefined, source)
    const plan = planBisect(report, target)
    const worker = target.worker !== undefined && report.tests.some((t) => t.worker !== undefined && t.worker !== target.worker) ? ` in worker ${target.worker}` : ''
    out.info(`rig bisect: ${label(target)} ${target.status === 'failed' ? 'failed' : 'ran'} after ${plan.candidates.length} test${plan.candidates.length === 1 ? '' : 's'}${worker} (seed ${plan.seed})${plan.guess.length ? `; the guard saw ${plan.guess.length} of them leave data: tried first` : ''}`)
    const result = await bisect(plan, replayer, { runs, onStep: (s) => out.info(stepLine(out, s)) })
    return conclude(out, result, plan.seed, plan.target, listDir, values.json === true)
  } finally {
    replayer.close()
  }
}

function conclude(out: Output, result: BisectResult, seed: number, target: TestEntry, listDir: string, json: boolean): number {
  if (result.kind === 'fails-alone') {
    const flaky = result.failures < result.tries ? ` (in ${result.failures} of ${result.tries} runs: it is flaky)` : ''
    if (json) out.json({ ...result, test: target.id })
    else out.print(`${label(target)} fails on its own${flaky}: no test before it is to blame. Replay it: ${replayCommand(seed, [target], testList(listDir, [target]))}`)
    return 1
  }
  if (result.kind === 'not-reproduced') {
    if (json) out.json({ ...result, test: target.id })
    else
      out.print(
        `${label(target)} passed after the tests that ran before it, in the recorded order${result.tries > 1 ? ` (${result.tries} times)` : ''}: the failure does not come from them. ` +
          `It may depend on something outside the suite (time, the network, another process) or be flaky: try rig bisect --runs 3.`,
      )
    return 1
  }
  const polluters = result.sets.flat()
  const order = [...polluters, target]
  const list = testList(listDir, order)
  const command = replayCommand(seed, order, list)
  if (json) {
    out.json({ kind: result.kind, test: target.id, runs: result.runs, polluters: result.sets.map((s) => s.map((t) => ({ id: t.id, file: t.file, name: t.name, leaks: t.leaks }))), replay: command })
    return 0
  }
  for (const set of result.sets) {
    const [only] = set
    if (set.length === 1 && only) out.print(`polluted by ${label(only)}${left(only)}`)
    else out.print(`polluted by ${set.map(label).join(' and ')}, together${set.map(left).filter(Boolean).join(';')}`)
  }
  out.print(`replay: ${command}`)
  out.info(out.e.dim(`(${result.runs} runs)`))
  return 0
}

/** Writes the replay's test list next to the report and returns its path relative to the cwd. */
function testList(dir: string, tests: readonly TestEntry[]): string {
  const file = path.join(dir, 'bisect-replay.json')
  writeTestList(file, tests)
  return path.relative(process.cwd(), file) || file
}
