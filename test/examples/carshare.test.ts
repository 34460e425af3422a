// End to end: the car-sharing example's own Vitest suite, run as a subprocess exactly as a user
// runs it (`vitest run` in examples/carshare), in both deployment variants (fr on RabbitMQ when
// rabbitmq-server is installed, en on Redis when redis-server is) and in the "only Node" mode
// (embedded PGlite, billing queue on PostgreSQL, no broker), then its smoke script. Each run's
// rig report must show the 10 tests, none failed, and what the three DEMO tests exist to show:
// the rows one of them leaks, the error line another causes, and what was still moving when
// the third ended.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, test } from 'vitest'
import type { RunReport, TestEntry } from '../../src/report/model.ts'
import { findPostgres } from '../../src/services/postgres/binaries.ts'
import { chooseQueue, legacyFleetAvailable, redisServerInstalled } from '../../examples/carshare/lib/queue-choice.ts'
import { leftovers, NODE, REPO } from '../support/project.ts'
import { waitUntil } from '../support/procs.ts'

const EXAMPLE = path.join(REPO, 'examples/carshare')
const VITEST = path.join(REPO, 'node_modules/vitest/vitest.mjs')
const PLAYWRIGHT = path.join(REPO, 'node_modules/@playwright/test/cli.js')
// A loaded 2-core CI machine, and the embedded PGlite alone takes 10-20 s to start.
const RUN_TIMEOUT_MS = 300_000
const TEST_TIMEOUT_MS = RUN_TIMEOUT_MS + 30_000

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-carshare-'))
// PostgreSQL runs as an unprivileged user when we are root: it must traverse rig's temp dir.
fs.chmodSync(scratch, 0o755)
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }))

interface Run {
  code: number | null
  output: string
}

/**
 * Runs `args` with the repo's Node in the example directory. The environment is the parent's
 * minus anything that would steer the child (this Vitest's own variables, RIG_*, CARSHARE_*),
 * plus `env`. The child gets its own process group, killed whole on timeout.
 */
function runInExample(args: string[], env: Record<string, string>): Promise<Run> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(VITEST|RIG_|CARSHARE_)/.test(k) && k !== 'NODE_ENV' && k !== 'TEST'))
  return new Promise((resolve) => {
    const child = spawn(NODE, args, {
      cwd: EXAMPLE,
      env: { ...base, CI: 'true', NO_COLOR: '1', RIG_TMP_DIR: path.join(scratch, 'tmp'), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    })
    let output = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d))
    const timer = setTimeout(() => {
      output += `\n[killed after ${RUN_TIMEOUT_MS} ms]`
      try {
        process.kill(-child.pid!, 'SIGKILL')
      } catch {
        // already gone
      }
    }, RUN_TIMEOUT_MS)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, output })
    })
  })
}

/** Processes the example left: anything running from its directory or from our rig temp dir. */
async function expectNothingLeft(): Promise<void> {
  const left = (): string[] => [...leftovers(EXAMPLE), ...leftovers(scratch)]
  expect(await waitUntil(() => left().length === 0), `still running:\n${left().join('\n')}`).toBe(true)
}

const tail = (text: string, lines = 60): string => text.split('\n').slice(-lines).join('\n')

/** Runs the example's suite and returns its rig report. */
async function suite(name: string, env: Record<string, string>, args: string[] = []): Promise<RunReport> {
  const reportDir = path.join(scratch, `report-${name}`)
  const r = await runInExample([VITEST, 'run', ...args], { ...env, CARSHARE_REPORT_DIR: reportDir })
  await expectNothingLeft()
  expect(r.code, `vitest in examples/carshare (${name}) exited ${r.code}:\n${tail(r.output)}`).toBe(0)
  const file = path.join(reportDir, 'report.json')
  expect(fs.existsSync(file), `no ${file}:\n${tail(r.output)}`).toBe(true)
  return JSON.parse(fs.readFileSync(file, 'utf8')) as RunReport
}

function byName(report: RunReport, prefix: string): TestEntry {
  const t = report.tests.find((e) => e.name.startsWith(prefix))
  expect(t, `no test named "${prefix}…" in ${report.tests.map((e) => e.name).join(', ')}`).toBeDefined()
  return t!
}

/** What every run of the suite must show, whatever the variant or the stores. */
function expectDemoCaught(all: RunReport, queue: string): void {
  // The failover suite runs only in the `failover` variant (a test of its own below): skipped here.
  const failover = all.tests.filter((t) => t.file.endsWith('failover.test.ts'))
  expect(failover.length).toBeGreaterThan(0)
  expect(failover.every((t) => t.status === 'skipped')).toBe(true)
  const report: RunReport = { ...all, tests: all.tests.filter((t) => !failover.includes(t)) }
  expect(report.tests).toHaveLength(11)
  expect(report.summary.failed, JSON.stringify(report.tests.filter((t) => t.status !== 'passed'), null, 1)).toBe(0)
  // The legacy fleet system (MariaDB) runs only where a MariaDB server is installed.
  const parity = byName(report, 'the legacy fleet system and the new API list the same cars')
  expect(parity.status).toBe(serviceNames(report).includes('legacy') ? 'passed' : 'skipped')
  expect(report.tests.every((t) => t === parity || t.status === 'passed')).toBe(true)

  // DEMO 1: the rental it forgot to delete, and the payment the worker wrote for it.
  const leak = byName(report, 'DEMO: forgets to delete its rental')
  const leaked = leak.leaks.flatMap((l) => l.items)
  expect(leaked.some((i) => i.startsWith('public.rentals +1 row')), leaked.join(', ')).toBe(true)
  expect(leaked.some((i) => i.startsWith('public.payments +1 row')), leaked.join(', ')).toBe(true)

  // DEMO 2: the API's error line nobody declared.
  const crash = byName(report, 'DEMO: triggers an error nobody looked at')
  expect(crash.logErrors).toContainEqual(expect.objectContaining({ service: 'api', expected: false, line: expect.stringMatching(/ERROR payment provider timeout/) }))

  // DEMO 3: billing still charging when the test ended (3 s for this customer): rig waited its
  // deadline, then named what was moving. The PostgreSQL queue has no such delay: the rows it
  // leaves fail it.
  const late = byName(report, 'DEMO: ends while billing is still charging')
  // On a loaded machine the database's own probe can miss the deadline too (seen once with
  // isolation 'stack', the guard answering both workers from the main process): rig then says
  // so first (busy: it answered earlier looks, or it never answered), and the queue must still be named.
  const slowDb = '(?:postgres db: (?:did not answer before the deadline|still had work in flight at the deadline \\(.*?\\)); )?'
  const moving = { rabbitmq: new RegExp(`^not settled after 2000 ms: ${slowDb}rabbitmq mq: queue billing\\.rentals 0 ready, 1 unacked$`), redis: new RegExp(`^not settled after 2000 ms: ${slowDb}redis cache: list carshare:billing:processing 1 waiting$`) }[queue]
  if (moving) expect(late.notSettled).toMatch(moving)
  else expect(late.leaks.flatMap((l) => l.items).some((i) => i.startsWith('public.rentals +1 row'))).toBe(true)

  // Everything else is clean: no leaks (billing_jobs, Redis lists included), no unexpected errors,
  // and settled in time.
  for (const t of report.tests.filter((e) => e !== leak && e !== crash && e !== late)) {
    expect(t.notSettled, t.name).toBeUndefined()
    expect(t.leaks, t.name).toEqual([])
    expect(t.logErrors.filter((l) => !l.expected), t.name).toEqual([])
  }
}

const serviceNames = (report: RunReport): string[] => report.environment?.services.map((s) => s.service) ?? []

describe('examples/carshare', () => {
  // fr takes the default queue (RabbitMQ when rabbitmq-server is installed); en runs on Redis
  // when redis-server is, so both brokers are exercised.
  const variants = [
    { locale: 'fr', queue: chooseQueue({ ...process.env, CARSHARE_QUEUE: '' }).kind },
    { locale: 'en', queue: redisServerInstalled() ? 'redis' : chooseQueue({ ...process.env, CARSHARE_QUEUE: '' }).kind },
  ]
  for (const { locale, queue } of variants) {
    test(
      `the suite passes in the ${locale} variant (billing queue on ${queue}), and rig catches the three DEMO tests`,
      async () => {
        const report = await suite(locale, { CARSHARE_LOCALE: locale, CARSHARE_QUEUE: queue })
        expectDemoCaught(report, queue)
        expect(serviceNames(report).includes('mq')).toBe(queue === 'rabbitmq')
        expect(serviceNames(report).includes('cache')).toBe(queue === 'redis')
        expect(serviceNames(report).includes('legacy')).toBe(legacyFleetAvailable())
      },
      TEST_TIMEOUT_MS,
    )
  }

  // Files in parallel, each Vitest worker with its own copies of the database, the queue and
  // the app's processes: the same tests pass, the DEMO tests are caught the same way, and the
  // report shows each worker's copies.
  test(
    "the suite passes with isolation 'stack' on 2 workers, each with its own api and billing",
    async () => {
      const queue = chooseQueue({ ...process.env, CARSHARE_QUEUE: '' }).kind
      const report = await suite('stack', { CARSHARE_LOCALE: 'fr', CARSHARE_QUEUE: queue, CARSHARE_ISOLATION: 'stack' }, ['--maxWorkers=2'])
      expectDemoCaught(report, queue)
      const copies = (report.environment?.services ?? []).filter((s) => s.worker !== undefined).map((s) => `${s.service}@${s.worker}`)
      expect(copies.sort()).toEqual(['api@1', 'api@2', 'billing@1', 'billing@2', ...(legacyFleetAvailable() ? ['legacy@1', 'legacy@2'] : [])].sort())
      expect(new Set(report.tests.map((t) => t.worker).filter((w) => w !== undefined)).size).toBe(2)
    },
    TEST_TIMEOUT_MS,
  )

  // PGlite's socket server can interleave two connections' extended-protocol messages
  // (upstream electric-sql/pglite#1046); until it is fixed, a rare mixed-up query is retried.
  test('only Node: embedded PGlite and the billing queue on PostgreSQL', { timeout: TEST_TIMEOUT_MS, retry: 2 }, async () => {
    const report = await suite('only-node', { CARSHARE_LOCALE: 'fr', CARSHARE_DB_PROVIDER: 'embedded', CARSHARE_QUEUE: 'postgres', CARSHARE_LEGACY: 'off' })
    expectDemoCaught(report, 'postgres')
    expect(serviceNames(report)).not.toContain('cache')
    expect(serviceNames(report)).not.toContain('mq')
    expect(report.environment?.services.find((s) => s.service === 'db')?.provider).toBe('embedded')
  })

  // The front end (web/, served by the API) in Debian's Chromium through testrig/playwright.
  test(
    'the front end in Chromium: sign in, list the cars, rent one; rig fails the DEMO test on its page error',
    async () => {
      const reportDir = path.join(scratch, 'report-e2e')
      const r = await runInExample([PLAYWRIGHT, 'test', `--output=${path.join(scratch, 'e2e-results')}`], { CARSHARE_QUEUE: 'postgres', CARSHARE_LEGACY: 'off', CARSHARE_REPORT_DIR: reportDir })
      await expectNothingLeft()
      expect(r.code, tail(r.output)).toBe(0)
      const report = JSON.parse(fs.readFileSync(path.join(reportDir, 'report.json'), 'utf8')) as RunReport
      expect(report.tests.map((t) => [t.name, t.status])).toEqual([
        ['signs in, lists the cars and rents one; billing charges it', 'passed'],
        ['DEMO: the receipt button throws in the page (rig fails the test with the browser error)', 'passed'],
      ])
      expect(report.tests[0]).toMatchObject({ leaks: [], logErrors: [] })
      expect(report.tests[0]?.browserErrors).toBeUndefined()
      // Passed as `test.fail()` expects: rig failed it on the page's TypeError, with its source.
      expect(report.tests[1]).toMatchObject({ leaks: [], browserErrors: [{ kind: 'pageerror', text: "Cannot read properties of undefined (reading 'amount')", source: expect.stringMatching(/\/web\/app\.js:\d+:\d+$/), expected: false }] })
      expect(report.tests[1]?.artifacts?.map((a) => a.name)).toContain('screenshot')
    },
    TEST_TIMEOUT_MS,
  )

  test.skipIf(!findPostgres({}).path)(
    'the failover suite (variant failover: a synchronous replica): the API carries on through a failover, the report lists the role changes and the fault',
    async () => {
      const reportDir = path.join(scratch, 'report-failover')
      const r = await runInExample([VITEST, 'run', 'test/failover.test.ts'], { CARSHARE_LOCALE: 'fr', CARSHARE_LEGACY: 'off', RIG_VARIANT: 'failover', CARSHARE_REPORT_DIR: reportDir })
      await expectNothingLeft()
      expect(r.code, tail(r.output)).toBe(0)
      const report = JSON.parse(fs.readFileSync(path.join(reportDir, 'report.json'), 'utf8')) as RunReport
      expect(report.variant).toBe('failover')
      expect(report.tests.map((t) => t.status)).toEqual(['passed', 'passed', 'passed'])
      expect(report.tests.flatMap((t) => t.roles ?? []).map((x) => x.replace(/ \(.*$/, ''))).toEqual(['db: failover: node 0 killed, node 1 promoted', 'db: rejoin: node 0 back as a replica', 'db: switchover: node 1 → replica, node 0 promoted'])
      expect(report.tests.map((t) => t.faults)).toEqual([undefined, undefined, ['api: partition from db']])
      const html = fs.readFileSync(path.join(reportDir, 'index.html'), 'utf8')
      expect(html).toContain('Roles and faults')
      expect(html).toContain('partition from db')
    },
    TEST_TIMEOUT_MS,
  )

  test(
    'smoke.ts passes (both variants, billing queue on PostgreSQL)',
    async () => {
      const r = await runInExample(['smoke.ts'], { CARSHARE_QUEUE: 'postgres' })
      await expectNothingLeft()
      expect(r.code, tail(r.output)).toBe(0)
      expect(r.output).toContain('smoke: all checks passed')
      expect(r.output).toMatch(/fr: environment ready .*billing queue on PostgreSQL/)
      expect(r.output).toMatch(/en: environment ready .*billing queue on PostgreSQL/)
    },
    TEST_TIMEOUT_MS,
  )
})
