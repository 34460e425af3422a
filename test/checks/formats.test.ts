import { describe, expect, test } from 'vitest'
import { formatReport } from '../../src/checks/format/index.ts'
import { toReport, type CheckResult } from '../../src/checks/result.ts'

const time = '2026-01-01T00:00:00.000Z'
const results: CheckResult[] = [
  { name: 'API answers', status: 'pass', durationMs: 12.34, time, tags: ['smoke'], detail: '200 in 12 ms' },
  { name: 'disk', status: 'warn', durationMs: 1, time, tags: [], detail: '91% full' },
  {
    name: 'db <primary> & "replica"',
    status: 'fail',
    reason: 'connect',
    detail: 'connect ECONNREFUSED 127.0.0.1:5432',
    durationMs: 3,
    time,
    tags: ['smoke'],
    file: 'checks/db.check.ts',
    diagnostics: [{ name: 'dns db', status: 'fail', reason: 'dns', detail: 'ENOTFOUND', durationMs: 1, time, tags: [] }],
  },
  { name: 'orders', status: 'blocked', blockedBy: ['db <primary> & "replica"'], detail: 'blocked by "db"', durationMs: 0, time, tags: [] },
]
const report = toReport(results, new Date(time), 15)

describe('formats carry the failure reason', () => {
  test('json', () => {
    const j = JSON.parse(formatReport(report, 'json'))
    expect(j.status).toBe('fail')
    expect(j.counts).toMatchObject({ pass: 1, warn: 1, fail: 1, blocked: 1 })
    expect(j.results[2]).toMatchObject({ reason: 'connect', diagnostics: [{ reason: 'dns' }] })
    expect(j.results[0].durationMs).toBe(12.3)
  })

  test('junit', () => {
    const x = formatReport(report, 'junit')
    expect(x).toContain('<testsuites name="rig check" tests="4" failures="1" errors="0" skipped="1"')
    expect(x).toContain('<testcase name="db &lt;primary&gt; &amp; &quot;replica&quot;" classname="checks/db.check.ts"')
    expect(x).toMatch(/<failure type="connect" message="connect ECONNREFUSED[^"]*">\[connect\] connect ECONNREFUSED.*\ndiagnostic &quot;dns db&quot;: fail \[dns\] ENOTFOUND<\/failure>/)
    expect(x).toContain('<skipped message="blocked by &quot;db&quot;"/>')
    expect(x).toContain('<system-out>warn: 91% full</system-out>')
  })

  test('tap', () => {
    const t = formatReport(report, 'tap')
    expect(t.split('\n').slice(0, 4)).toEqual(['TAP version 14', '1..4', 'ok 1 - API answers', 'ok 2 - disk # warn: 91% full'])
    expect(t).toContain('not ok 3 - db <primary> & "replica"\n  ---\n  reason: connect\n  message: "connect ECONNREFUSED 127.0.0.1:5432"')
    expect(t).toContain('      reason: dns')
    expect(t).toContain('ok 4 - orders # SKIP blocked by "db"')
  })

  test('pretty', () => {
    const p = formatReport(report, 'pretty')
    expect(p).toContain('✗ db <primary> & "replica"  3 ms [connect]  connect ECONNREFUSED')
    expect(p).toContain('    ✗ dns db  1 ms [dns]  ENOTFOUND')
    expect(p).toContain('- orders  blocked by "db"')
    expect(p).toContain('4 checks: 1 passed, 1 warned, 1 failed, 1 blocked in 15 ms')
  })
})
