// A run report shaped like a job-queue suite under the guard when its cleanup runs too late:
// most tests fail with the schema they created left behind, some log deliberate errors, a few
// log long ones. Deterministic, so sizes compare across checkouts.
import type { LogErrorEntry, RunReport, TestEntry } from '../../src/report/model.ts'

/** The shape of the generated run. */
export interface FailingRunShape {
  tests: number
  files: number
  /** Share of tests that leave their schema behind (they fail). */
  leaking: number
  /** Share of tests that log deliberate error lines. */
  logging: number
}

const TABLES = ['job', 'archive', 'version', 'schedule', 'subscription', 'queue', 'job_common', 'bam']
const LOG_LINES = [
  'ERROR:  duplicate key value violates unique constraint "job_singleton_on_idx"',
  'ERROR:  relation "queue" already exists',
  'ERROR:  division by zero',
  'FATAL:  terminating connection due to administrator command',
]

/** A pseudo-random but fixed sequence (mulberry32). */
function random(seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const q = (s: string): string => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", "'\\''")}'`)

/** A report of `shape.tests` tests, most failing because of the data they left behind. */
export function failingRun(shape: FailingRunShape = { tests: 1000, files: 30, leaking: 0.68, logging: 0.05 }): RunReport {
  const rnd = random(866)
  const files = Array.from({ length: shape.files }, (_, i) => `test/${['schedule', 'work', 'fetch', 'complete', 'retry', 'expire', 'singleton', 'queue', 'policy', 'archive'][i % 10]}${i >= 10 ? `-${Math.floor(i / 10)}` : ''}.test.ts`)
  const seed = 1207066733
  const tests: TestEntry[] = []
  for (let i = 0; i < shape.tests; i++) {
    const fileIndex = Math.floor((i * shape.files) / shape.tests)
    const file = files[fileIndex] as string
    const name = `${file.slice(5, -8)} > should handle case ${i} when the queue ${['is empty', 'has a singleton', 'retries', 'expires jobs', 'is archived'][i % 5]}`
    const schema = `pgboss_${Math.floor(rnd() * 2 ** 48).toString(16)}`
    const leaks = rnd() < shape.leaking
    const logs: LogErrorEntry[] = []
    if (rnd() < shape.logging) {
      const n = 1 + Math.floor(rnd() * 3)
      for (let k = 0; k < n; k++) logs.push({ service: 'db', line: `2026-11-28 21:0${k}:0${k}.123 UTC [${4000 + i}] ${LOG_LINES[(i + k) % LOG_LINES.length]}`, expected: false })
    }
    // Two tests log a storm: a retry loop, each line with the statement it ran.
    if (i % 500 === 37) for (let k = 0; k < 200; k++) logs.push({ service: 'db', line: `2026-11-28 21:10:00.${k} UTC [${5000 + i}] ERROR:  could not serialize access due to concurrent update STATEMENT: update ${schema}.job set state = 'active' where id in (${Array.from({ length: 8 }, (_, j) => `'${(k * 8 + j).toString(16).padStart(32, '0')}'`).join(', ')})`, expected: false })
    const items = [`${schema} created`, ...TABLES.map((t) => `${schema}.${t} created`)]
    const errors: string[] = []
    if (leaks) errors.push(`Data left behind by ${JSON.stringify(name)} (${file}):\n  postgres db: ${items.join(', ')}`)
    if (logs.length > 0) errors.push(`Errors logged by services during "${name}":\n${logs.map((l) => `  ${l.service}: ${l.line}`).join('\n')}\n  (if this test expects them: rig.expectLog('db', /…/))`)
    const failed = errors.length > 0
    const entry: TestEntry = {
      id: `${file} > ${name}`,
      file,
      name,
      status: failed ? 'failed' : 'passed',
      durationMs: Math.round(20 + rnd() * 400),
      errors,
      leaks: leaks ? [{ store: 'postgres db', items }] : [],
      logErrors: logs,
      ...(leaks ? { restoredWith: 'delete (triggers)' } : {}),
    }
    if (failed) entry.repro = `RIG_SEED=${seed} npx vitest run ${files.slice(0, fileIndex + 1).map(q).join(' ')} -t ${q(`^${name}$`)}`
    tests.push(entry)
  }
  const failed = tests.filter((t) => t.status === 'failed').length
  return {
    version: 1,
    startedAt: '2026-11-28T21:00:00.000Z',
    durationMs: 212_000,
    seed,
    files,
    repro: `RIG_SEED=${seed} npx vitest run ${files.join(' ')}`,
    summary: { passed: tests.length - failed, failed, skipped: 0, leaks: tests.filter((t) => t.leaks.length > 0).length, logErrors: tests.reduce((n, t) => n + t.logErrors.length, 0) },
    environment: { startMs: 310, attached: false, services: [{ service: 'db', kind: 'postgres', provider: 'process', dependsOn: [], startingAt: 1, startedAt: 40, readyAt: 300, url: 'postgres://rig@127.0.0.1:54012/app' }] },
    tests,
  }
}
