import { describe, expect, it } from 'vitest'
import { renderJunit } from '../../src/report/junit.ts'
import { sampleReport, SCRIPT_NAME } from './fixture.ts'
import { findAll, parseXml } from './xml.ts'

describe('renderJunit', () => {
  const report = sampleReport()
  const doc = parseXml(renderJunit(report))

  it('is well-formed, with totals on the root', () => {
    expect(doc.name).toBe('testsuites')
    expect(doc.attrs).toMatchObject({ tests: '8', failures: '2', skipped: '1', errors: '0', time: '6.480' })
  })

  it('has one testsuite per file, in run order, with seed and repro properties', () => {
    const suites = findAll(doc, 'testsuite')
    expect(suites.map((s) => s.attrs.name)).toEqual(report.files)
    expect(suites.map((s) => s.attrs.tests)).toEqual(['3', '3', '2'])
    for (const s of suites) {
      const props = Object.fromEntries(findAll(s, 'property').map((p) => [p.attrs.name, p.attrs.value]))
      expect(props).toEqual({ seed: '4127733', repro: report.repro })
    }
  })

  it('has one testcase per test with classname, name and time in seconds', () => {
    const cases = findAll(doc, 'testcase')
    expect(cases).toHaveLength(report.tests.length)
    expect(cases.map((c) => c.attrs.name)).toEqual(report.tests.map((t) => t.name))
    expect(cases[1]?.attrs).toMatchObject({ classname: 'test/rentals.test.ts', time: '1.312' })
    // The hostile name survives escaping intact, as text.
    expect(cases[2]?.attrs.name).toBe(`rentals > ${SCRIPT_NAME}`)
  })

  it('puts errors, leaks and the repro command in the failure body', () => {
    const failures = findAll(doc, 'failure')
    expect(failures).toHaveLength(2)
    const [leaky, timedOut] = failures
    expect(leaky?.attrs.message).toBe("AssertionError: expected 'open' to be 'closed'")
    expect(leaky?.text).toContain('at test/rentals.test.ts:48:31')
    expect(leaky?.text).toContain('Leaked data in postgres db:\n  public.rentals +1 row (id=731)')
    expect(leaky?.text).toContain('Leaked data in redis cache:\n  key car:42:lock')
    expect(leaky?.text).toContain('(cleaned with delete-by-key)')
    expect(leaky?.text).toContain(`Reproduce: ${report.tests[1]?.repro}`)
    // NUL and ANSI colours would make CI parsers reject the file or show noise.
    expect(timedOut?.text).toContain('Error: Test timed out in 2000ms.\ufffd (red)')
    expect(timedOut?.text).toContain("Log error from worker: TypeError: Cannot read properties of undefined (reading 'amount')\n    at refund")
    expect(timedOut?.text).toContain('Log error from api: <img src=x onerror="window.__pwned = 2"> 500 POST /refunds </script>')
  })

  it('marks skipped tests and keeps expected log errors of passing tests in system-out', () => {
    const cases = findAll(doc, 'testcase')
    expect(findAll(cases[5] as never, 'skipped')).toHaveLength(1)
    const out = findAll(cases[3] as never, 'system-out')
    expect(out[0]?.text).toBe('Log error from db (expected): 2026-11-22 10:01:02 UTC [311] ERROR:  duplicate key value violates unique constraint "charges_pkey"')
    expect(cases[0]?.children).toEqual([])
  })

  it('names what failed a test that has no error message', () => {
    const r = sampleReport()
    r.tests = [{ ...(r.tests[1] as (typeof r.tests)[number]), errors: [] }]
    const failure = findAll(parseXml(renderJunit(r)), 'failure')[0]
    expect(failure?.attrs.message).toBe('Test left data behind in postgres db, redis cache')
  })

  it('keeps multi-line messages intact in attributes', () => {
    const r = sampleReport()
    r.repro = 'line one\nline\ttwo'
    const prop = findAll(parseXml(renderJunit(r)), 'property').find((p) => p.attrs.name === 'repro')
    expect(prop?.attrs.value).toBe('line one\nline\ttwo')
  })
})

describe('parseXml (the checker above)', () => {
  it.each(['<a>&</a>', '<a><b></a></b>', '<a/><b/>', '<a x="1" x="2"/>', '<a>&nbsp;</a>', '<a>\u0001</a>', '<a>'])('rejects %j', (xml) => {
    expect(() => parseXml(xml)).toThrow()
  })
})
