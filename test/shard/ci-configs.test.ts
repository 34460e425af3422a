// The GitHub Actions and CircleCI configurations of docs/ci.md, run as written: each parsed,
// each job's steps executed in order in a fresh copy of a project (a suite over a service rig
// starts) with what that CI would set (the matrix, `${{ … }}` expressions, `if: always()`,
// CIRCLE_NODE_INDEX, `when`, status lists in `requires`), artifacts, caches and workspaces as
// directories. Twice in a row: the second pipeline balances its shards on the first's timings.
// Package installs (apt-get, npm ci) are the machine's; `npx` runs this repository's Vitest and rig.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { afterEach, describe, expect, test } from 'vitest'
import { BIN, NODE, REPO, leftovers, type Project } from '../support/project.ts'
import { ECHO_CONFIG, pluginProject, until, VITEST } from '../support/vitest-project.ts'

// The YAML parser Playwright ships (a devDependency here): the files are read as a CI reads them.
const { yaml } = createRequire(import.meta.url)('playwright-core/lib/utilsBundle') as { yaml: { parse(text: string): unknown } }

let project: Project | undefined

afterEach(async () => {
  await project?.dispose()
  project = undefined
})

/** The first ```yaml block after `heading` in docs/ci.md. */
function docBlock(heading: string): Record<string, any> {
  const doc = fs.readFileSync(path.join(REPO, 'docs/ci.md'), 'utf8')
  const from = doc.indexOf(`\n${heading}\n`)
  expect(from, heading).toBeGreaterThan(0)
  const m = /```yaml\n([\s\S]*?)```/.exec(doc.slice(from))
  return yaml.parse(m?.[1] ?? '') as Record<string, any>
}

interface Step {
  code: number
  output: string
}

/** One shell step in `cwd`: `npx vitest`/`npx rig` are this repository's; package installs are skipped. */
function sh(command: string, cwd: string, env: Record<string, string>, shell: string[]): Promise<Step | undefined> {
  if (/apt-get|^npm ci$/.test(command.trim())) return Promise.resolve(undefined)
  const local = command.replaceAll('npx vitest', `${NODE} ${VITEST}`).replaceAll('npx rig', `${NODE} ${BIN}`)
  return new Promise((resolve) => {
    const child = spawn(shell[0] as string, [...shell.slice(1), local], {
      cwd,
      env: { ...process.env, NO_COLOR: '1', RIG_TMP_DIR: path.join(cwd, 'tmp'), VITEST: undefined, VITEST_POOL_ID: undefined, VITEST_WORKER_ID: undefined, CI_NODE_INDEX: undefined, CI_NODE_TOTAL: undefined, CIRCLE_NODE_INDEX: undefined, CIRCLE_NODE_TOTAL: undefined, RIG_SHARD: undefined, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), 240_000)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code: code ?? 1, output })
    })
  })
}

const copy = (from: string, to: string): void => {
  fs.mkdirSync(path.dirname(to), { recursive: true })
  fs.cpSync(from, to, { recursive: true, verbatimSymlinks: true })
}

/** A fresh checkout of the project for one job (its sources, no reports, no state). */
function checkout(p: Project, root: string, job: string): string {
  const dir = path.join(root, job)
  fs.mkdirSync(dir, { recursive: true })
  for (const e of ['rig.config.ts', 'vitest.config.ts', 'package.json', 'test', 'node_modules']) if (fs.existsSync(path.join(p.dir, e))) copy(path.join(p.dir, e), path.join(dir, e))
  return dir
}

/** The newest cache whose key is `exact`, else starts with one of `prefixes`. */
function findCache(caches: Map<string, string>, exact: string | undefined, prefixes: string[]): string | undefined {
  if (exact && caches.has(exact)) return caches.get(exact)
  const keys = [...caches.keys()].reverse()
  for (const prefix of prefixes) {
    const k = keys.find((key) => key.startsWith(prefix))
    if (k) return caches.get(k)
  }
  return undefined
}

/** What a pipeline left: per job (and shard) its exit and output, the artifacts by name. */
interface Pipeline {
  shards: Step[]
  report: Step
  artifacts: string
}

/** One run of the GitHub Actions workflow; `caches` outlive it. */
async function runGitHub(p: Project, wf: Record<string, any>, root: string, runId: number, caches: Map<string, string>): Promise<Pipeline> {
  const shards: number[] = wf.jobs.test.strategy.matrix.shard
  const artifacts = path.join(root, `gh-${runId}-artifacts`)
  const expr = (text: string, vars: Record<string, string>): string =>
    text.replace(/\$\{\{\s*([^}]+?)\s*\}\}/g, (_, e: string) => {
      const v = vars[e]
      if (v === undefined) throw new Error(`an expression this test does not know: \${{ ${e} }}`)
      return v
    })
  /** A job's steps; a failed step skips the rest but those with `if: always()`. */
  const job = async (steps: any[], dir: string, vars: Record<string, string>): Promise<Step> => {
    let failed: Step | undefined
    let output = ''
    for (const step of steps) {
      if (step.if !== undefined && step.if !== 'always()') throw new Error(`a condition this test does not know: ${step.if}`)
      if (failed && step.if !== 'always()') continue
      const w: Record<string, string> = Object.fromEntries(Object.entries(step.with ?? {}).map(([k, v]) => [k, expr(String(v), vars)]))
      const uses: string = step.uses ?? ''
      if (step.run !== undefined) {
        const r = await sh(expr(step.run, vars), dir, { GITHUB_ACTIONS: 'true', CI: 'true' }, ['bash', '--noprofile', '--norc', '-eo', 'pipefail', '-c'])
        if (r) output += r.output
        if (r && r.code !== 0) failed ??= r
      } else if (/^actions\/(checkout|setup-node)@/.test(uses)) {
        // the copy is the checkout; Node is this repository's
      } else if (uses.startsWith('actions/cache/restore@')) {
        const hit = findCache(caches, w.key, (w['restore-keys'] ?? '').split('\n').filter(Boolean))
        if (hit) copy(hit, path.join(dir, w.path as string))
      } else if (uses.startsWith('actions/cache/save@')) {
        if (fs.existsSync(path.join(dir, w.path as string)) && !caches.has(w.key as string)) {
          const at = path.join(root, 'caches', `gh-${caches.size}`)
          copy(path.join(dir, w.path as string), at)
          caches.set(w.key as string, at)
        }
      } else if (uses.startsWith('actions/upload-artifact@')) {
        if (fs.existsSync(path.join(dir, w.path as string))) copy(path.join(dir, w.path as string), path.join(artifacts, w.name as string))
      } else if (uses.startsWith('actions/download-artifact@')) {
        const pattern = new RegExp(`^${(w.pattern as string).replace(/[.+?^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*')}$`)
        for (const name of fs.readdirSync(artifacts)) if (pattern.test(name)) copy(path.join(artifacts, name), path.join(dir, w.path as string, name))
      } else {
        throw new Error(`a step this test does not know: ${JSON.stringify(step)}`)
      }
    }
    return { code: failed?.code ?? 0, output }
  }
  const results: Step[] = []
  for (const shard of shards) {
    const dir = checkout(p, root, `gh-${runId}-test-${shard}`)
    results.push(await job(wf.jobs.test.steps, dir, { 'matrix.shard': String(shard), 'strategy.job-total': String(shards.length), 'github.run_id': String(runId) }))
  }
  // `needs: test` with `if: always()`: the report job runs whatever the shards did.
  expect(wf.jobs.report.needs).toBe('test')
  expect(wf.jobs.report.if).toBe('always()')
  const report = await job(wf.jobs.report.steps, checkout(p, root, `gh-${runId}-report`), { 'github.run_id': String(runId) })
  return { shards: results, report, artifacts }
}

/** One run of the CircleCI pipeline; `caches` outlive it. */
async function runCircle(p: Project, cfg: Record<string, any>, root: string, build: number, caches: Map<string, string>): Promise<Pipeline & { workspace: string }> {
  const workspace = path.join(root, `cc-${build}-workspace`)
  const artifacts = path.join(root, `cc-${build}-artifacts`)
  fs.mkdirSync(workspace, { recursive: true })
  const job = async (name: string, dir: string, env: Record<string, string>): Promise<Step> => {
    let failed: Step | undefined
    let output = ''
    for (const step of cfg.jobs[name].steps as any[]) {
      const [kind, arg] = typeof step === 'string' ? [step, undefined] : (Object.entries(step)[0] as [string, any])
      const when: string = (typeof arg === 'object' && arg?.when) || 'on_success'
      if (!['always', 'on_success', 'on_fail'].includes(when)) throw new Error(`a when this test does not know: ${when}`)
      if (failed ? when === 'on_success' : when === 'on_fail') continue
      if (kind === 'checkout') continue
      if (kind === 'run') {
        // CircleCI's default shell.
        const r = await sh(typeof arg === 'string' ? arg : arg.command, dir, { CIRCLECI: 'true', CI: 'true', ...env }, ['/bin/bash', '-eo', 'pipefail', '-c'])
        if (r) output += r.output
        if (r && r.code !== 0) failed ??= r
      } else if (kind === 'restore_cache') {
        const hit = findCache(caches, undefined, arg.keys)
        if (hit) for (const f of fs.readdirSync(hit)) copy(path.join(hit, f), path.join(dir, f))
      } else if (kind === 'save_cache') {
        const key = String(arg.key).replace('{{ .BuildNum }}', String(build))
        if (key.includes('{{')) throw new Error(`a template this test does not know: ${arg.key}`)
        if (!caches.has(key)) {
          const at = path.join(root, 'caches', `cc-${caches.size}`)
          for (const f of arg.paths as string[]) if (fs.existsSync(path.join(dir, f))) copy(path.join(dir, f), path.join(at, f))
          caches.set(key, at)
        }
      } else if (kind === 'persist_to_workspace') {
        for (const f of arg.paths as string[]) copy(path.join(dir, arg.root, f), path.join(workspace, f))
      } else if (kind === 'attach_workspace') {
        copy(workspace, path.join(dir, arg.at))
      } else if (kind === 'store_test_results' || kind === 'store_artifacts') {
        expect(fs.existsSync(path.join(dir, arg.path)), `${name}: ${kind} ${arg.path}`).toBe(true)
        copy(path.join(dir, arg.path), path.join(artifacts, `${name}-${env.CIRCLE_NODE_INDEX ?? ''}`, kind, arg.path))
      } else {
        throw new Error(`a step this test does not know: ${JSON.stringify(step)}`)
      }
    }
    return { code: failed?.code ?? 0, output }
  }
  const n: number = cfg.jobs.test.parallelism
  const shards: Step[] = []
  for (let i = 0; i < n; i++) shards.push(await job('test', checkout(p, root, `cc-${build}-test-${i}`), { CIRCLE_NODE_INDEX: String(i), CIRCLE_NODE_TOTAL: String(n) }))
  // The workflow: `report` requires `test` with the statuses it lists (plain `test`: success only).
  const entry = (cfg.workflows.ci.jobs as any[]).find((j) => typeof j === 'object' && j.report)?.report
  const req = (entry?.requires as any[]).map((r) => (typeof r === 'string' ? { [r]: ['success'] } : r))
  const allowed: string[] = req.find((r) => r.test)?.test
  const status = shards.some((s) => s.code !== 0) ? 'failed' : 'success'
  if (!allowed.includes(status)) throw new Error(`the report job would not run after a ${status} test job`)
  const report = await job('report', checkout(p, root, `cc-${build}-report`), {})
  return { shards, report, artifacts, workspace }
}

/** Each shard's line `rig: shard i/N: …`. */
const shardLines = (steps: Step[]): string[] => steps.map((s) => /rig: shard \d+\/\d+: [^\n]*/.exec(s.output)?.[0] ?? '(no shard line)')

interface Report {
  files: string[]
  tests: { file: string; name: string; status: string }[]
  summary: { passed: number; failed: number }
  shards?: { index: number; files: string[] }[]
}
const readReport = (dir: string): Report => JSON.parse(fs.readFileSync(path.join(dir, 'report.json'), 'utf8'))

const FILES = ['a-slow', 'b', 'c', 'd', 'e', 'f', 'g', 'h']

function suite(): Project {
  const p = pluginProject(ECHO_CONFIG)
  for (const f of FILES) {
    // One long file among short ones; one failing test, in h.
    const body = f === 'a-slow' ? 'await new Promise((r) => setTimeout(r, 1500)); ' : ''
    p.write(`test/${f}.test.ts`, `import { test, expect } from 'vitest'\nimport { services } from 'testrig/vitest'\ntest('${f} answers', async () => { ${body}expect((await fetch(services().app.url + '/health')).ok).toBe(true) })\n${f === 'h' ? "test('h fails', () => { expect(1).toBe(2) })\n" : ''}`)
  }
  return p
}

/** Every file ran in exactly one shard; the merged report holds every test once, with the one failure. */
function checkCoverage(shardReports: Report[], merged: Report): void {
  const ran = shardReports.flatMap((r) => r.files).sort()
  expect(ran).toEqual(FILES.map((f) => `test/${f}.test.ts`).sort())
  expect(merged.tests.map((t) => t.name).sort()).toEqual([...FILES.map((f) => `${f} answers`), 'h fails'].sort())
  expect(merged.summary).toMatchObject({ passed: FILES.length, failed: 1 })
  expect(merged.shards?.map((s) => s.index)).toEqual([1, 2, 3, 4])
}

/** On the second pipeline, from the first's timings: the long file has a shard to itself. */
function checkBalanced(lines: string[], shardReports: Report[]): void {
  for (const l of lines) expect(l).toMatch(/timings from rig-timings\.json/)
  const slow = shardReports.find((r) => r.files.includes('test/a-slow.test.ts'))
  expect(slow?.files).toEqual(['test/a-slow.test.ts'])
}

describe('docs/ci.md', () => {
  test('the GitHub Actions workflow: a matrix of 4 shards, each uploading its report; the report job merges them, also after a failure, and caches the timings the next run splits on', async () => {
    project = suite()
    const wf = docBlock('## GitHub Actions (matrix)')
    expect(wf.jobs.test.strategy['fail-fast']).toBe(false)
    const root = path.join(project.dir, 'ci')
    const caches = new Map<string, string>()

    const first = await runGitHub(project, wf, root, 1, caches)
    for (const l of shardLines(first.shards)) expect(l).toMatch(/^rig: shard \d\/4: \d of 8 files \(no timings/)
    // The shard with the failing test fails; the others pass; the report job still ran, and fails.
    expect(first.shards.filter((s) => s.code !== 0)).toHaveLength(1)
    expect(first.report.code).toBe(1)
    const shardReports = [1, 2, 3, 4].map((i) => readReport(path.join(first.artifacts, `rig-report-${i}`)))
    checkCoverage(shardReports, readReport(path.join(first.artifacts, 'rig-report')))
    expect([...caches.keys()]).toEqual(['rig-timings-1'])

    const second = await runGitHub(project, wf, root, 2, caches)
    checkBalanced(shardLines(second.shards), [1, 2, 3, 4].map((i) => readReport(path.join(second.artifacts, `rig-report-${i}`))))
    checkCoverage([1, 2, 3, 4].map((i) => readReport(path.join(second.artifacts, `rig-report-${i}`))), readReport(path.join(second.artifacts, 'rig-report')))
    await until(() => leftovers(project!.dir).length === 0)
    expect(leftovers(project.dir)).toEqual([])
  }, 900_000)

  test('the CircleCI config: parallelism 4 from CIRCLE_NODE_INDEX, every container persisting its report, also after a failure; the report job merges them and caches the timings the next run splits on', async () => {
    project = suite()
    const cfg = docBlock('## CircleCI (parallelism)')
    const root = path.join(project.dir, 'ci')
    const caches = new Map<string, string>()

    const first = await runCircle(project, cfg, root, 1, caches)
    for (const l of shardLines(first.shards)) expect(l).toMatch(/^rig: shard \d\/4: \d of 8 files \(no timings/)
    expect(first.shards.filter((s) => s.code !== 0)).toHaveLength(1)
    // Every container's report reached the workspace, the failing one's too.
    expect(fs.readdirSync(path.join(first.workspace, 'shards')).sort()).toEqual(['0', '1', '2', '3'])
    expect(first.report.code).not.toBe(0)
    const merged = readReport(path.join(first.artifacts, 'report-', 'store_artifacts', 'rig-report'))
    checkCoverage([0, 1, 2, 3].map((i) => readReport(path.join(first.workspace, 'shards', String(i)))), merged)
    expect([...caches.keys()]).toEqual(['rig-timings-1'])

    const second = await runCircle(project, cfg, root, 2, caches)
    checkBalanced(shardLines(second.shards), [0, 1, 2, 3].map((i) => readReport(path.join(second.workspace, 'shards', String(i)))))
    await until(() => leftovers(project!.dir).length === 0)
    expect(leftovers(project.dir)).toEqual([])
  }, 900_000)
})
