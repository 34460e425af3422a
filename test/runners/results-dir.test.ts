// The results dir of a Jest, node:test or Playwright run (where workers record each test's
// verdict for the reporter): a private dir below rig's temp root owned by the runner's main
// process, gone after the run whether or not rig's reporter read it, swept when its owner was
// killed, and refused when something was planted in its place.
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, afterEach, describe, expect, test } from 'vitest'
import { sweepStale } from '../../src/env/registry.ts'
import { resultsDir } from '../../src/runner/publish-run.ts'
import { NODE, type Project } from '../support/project.ts'
import { firstOutput, pidAlive, waitUntil } from '../support/procs.ts'
import { NODE_TEST_FLAGS, runIn, runnerProject } from './runner-projects.ts'

const projects: Project[] = []
const children: ChildProcess[] = []
const scratch: string[] = []
afterEach(() => {
  for (const c of children.splice(0)) if (c.pid && pidAlive(c.pid)) c.kill('SIGKILL')
  for (const d of scratch.splice(0)) fs.rmSync(d, { recursive: true, force: true })
})
afterAll(async () => {
  for (const p of projects) await p.dispose()
})

/** A fresh dir to be RIG_TMP_DIR: rig's temp root is `<it>/testrig`. */
function tmpBase(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-results-'))
  scratch.push(d)
  return d
}

/** Runs `fn` with rig's temp root below `base` in this process. */
function withTempRoot<T>(base: string, fn: () => T): T {
  const before = process.env.RIG_TMP_DIR
  process.env.RIG_TMP_DIR = base
  try {
    return fn()
  } finally {
    if (before === undefined) delete process.env.RIG_TMP_DIR
    else process.env.RIG_TMP_DIR = before
  }
}

describe('a node:test run', () => {
  // With rig's reporter it reads and removes the dir; without it, the main process removes it as
  // it exits (node:test's reporter may still be reading after the global teardown).
  test.each([
    ['with', NODE_TEST_FLAGS],
    ['without', ['--test', '--test-global-setup=rig-setup.js', '--test-concurrency=1', '--test-reporter=spec']],
  ])("leaves no results dir (%s rig's reporter)", async (_, flags) => {
    const p = runnerProject('node-test', { config: "import { defineConfig, redis } from 'testrig'\nexport default defineConfig({ services: { cache: redis() } })\n" })
    projects.push(p)
    p.write(
      'test/one.test.js',
      "import fs from 'node:fs'\nimport { test } from 'node:test'\nimport 'testrig/node-test'\n" +
        "test('records its verdict', () => { fs.writeFileSync('results-dir.txt', JSON.parse(process.env.RIG_RUN).resultsDir) })\n",
    )
    const r = await runIn(p, [NODE, ...flags])
    expect(r.code, r.output).toBe(0)
    const dir = fs.readFileSync(path.join(p.dir, 'results-dir.txt'), 'utf8')
    // Below the run's temp root (RIG_TMP_DIR), not a mkdtemp in the shared /tmp.
    expect(path.dirname(dir)).toBe(path.join(p.dir, 'tmp/testrig/runs'))
    expect(fs.existsSync(dir)).toBe(false)
    expect(fs.readdirSync(path.join(p.dir, 'tmp/testrig/runs'))).toEqual([])
  }, 120_000)
})

/** A process that makes a results dir and waits: resolves with the dir. */
async function owner(base: string): Promise<{ child: ChildProcess; dir: string }> {
  const script = `
    import { resultsDir } from ${JSON.stringify(path.resolve(import.meta.dirname, '../../src/runner/publish-run.ts'))}
    console.log(resultsDir())
    setInterval(() => {}, 1 << 30)
  `
  const child = spawn(NODE, ['--no-warnings', '--input-type=module', '-e', script], { env: { ...process.env, RIG_TMP_DIR: base }, stdio: ['ignore', 'pipe', 'pipe'] })
  children.push(child)
  return { child, dir: await firstOutput(child, (out) => (out.includes('\n') ? out.trim() : undefined), 'making its dir') }
}

describe('the results dir', () => {
  test("of a killed runner is removed by the next start's sweep; a live runner's stays", async () => {
    const base = tmpBase()
    const killed = await owner(base)
    const alive = await owner(base)
    expect(path.dirname(killed.dir)).toBe(path.join(base, 'testrig/runs'))
    expect(fs.existsSync(path.join(killed.dir, 'owner.json'))).toBe(true)
    killed.child.kill('SIGKILL')
    expect(await waitUntil(() => !pidAlive(killed.child.pid!))).toBe(true)
    expect(fs.existsSync(killed.dir)).toBe(true)
    withTempRoot(base, () => sweepStale())
    expect(fs.existsSync(killed.dir)).toBe(false)
    expect(fs.existsSync(alive.dir)).toBe(true)
  })

  test('is refused when a link was planted in place of its parent, and nothing is written through it', () => {
    const base = tmpBase()
    const target = fs.mkdtempSync(path.join(base, 'elsewhere-'))
    fs.mkdirSync(path.join(base, 'testrig'), { mode: 0o700 })
    fs.symlinkSync(target, path.join(base, 'testrig/runs'))
    let error: (Error & { code?: string }) | undefined
    try {
      withTempRoot(base, () => resultsDir())
    } catch (err) {
      error = err as Error & { code?: string }
    }
    expect(error?.code).toBe('RIG_UNSAFE_PATH')
    expect(error?.message).toMatch(/testrig\/runs: it is a symbolic link/)
    expect(fs.readdirSync(target)).toEqual([])
  })
})
