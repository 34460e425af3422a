// The advice of a readiness timeout, for each kind of stuck wait: more time is suggested only
// when it can help.
import { describe, expect, it } from 'vitest'
import { readinessHint, type StuckWait } from '../../src/env/start-failure.ts'
import type { WaitOutcome } from '../../src/probes/retry.ts'

const outcome = (o: Partial<WaitOutcome> & { reason?: string; detail?: string }): WaitOutcome => ({
  ok: false,
  stoppedBy: 'deadline',
  attempts: 100,
  elapsedMs: 30_000,
  sameForMs: 29_900,
  progressed: false,
  hung: false,
  last: { status: 'fail', reason: (o.reason ?? 'connect') as never, detail: o.detail ?? 'connect ECONNREFUSED 127.0.0.1:4000', durationMs: 1 },
  ...o,
})
const wait = (o: Partial<StuckWait>): StuckWait => ({ service: 'api', outcome: outcome({}), host: '127.0.0.1', port: 4000, timeoutMs: 30_000, external: false, listeners: [], quietMs: 25_000, ...o })
const RAISE = 'raise its `readyTimeout`'

describe('readinessHint', () => {
  it('suggests more time when the failure was still changing, or answers were slow', () => {
    expect(readinessHint(wait({ outcome: outcome({ progressed: true, sameForMs: 2000 }) }))).toContain(RAISE)
    expect(readinessHint(wait({ outcome: outcome({ hung: true, reason: 'timeout' }) }))).toMatch(/answers took longer than the probe's own timeout.*readyTimeout.*timeoutMs/)
    expect(readinessHint(wait({ outcome: outcome({ reason: 'status', detail: 'GET http://127.0.0.1:4000/health answered 503: warming up' }) }))).toMatch(/answered 503 for the last 30 s: if it is still warming up, raise/)
  })

  it('a server listening elsewhere: where, and how to use {port}', () => {
    const hint = readinessHint(wait({ listeners: [{ host: '127.0.0.1', port: 3000 }] }))
    expect(hint).toBe("nothing listens on 127.0.0.1:4000, but it listens on 127.0.0.1:3000: make it listen on the port rig gives it: {port} in its run or env, e.g. env: { PORT: '{port}' }")
  })

  it('nothing listening: more time only while the service is still writing logs', () => {
    expect(readinessHint(wait({ quietMs: 500 }))).toMatch(/still writing logs: if it is slow to start, raise/)
    const quiet = readinessHint(wait({ quietMs: 25_000 }))
    expect(quiet).toContain('nothing listened on 127.0.0.1:4000 for the last 30 s and it has written nothing for 25 s')
    expect(quiet).not.toContain('readyTimeout')
  })

  it('an external service: start it or fix its url', () => {
    expect(readinessHint(wait({ external: true, quietMs: undefined }))).toBe('nothing accepted connections at 127.0.0.1:4000 for the last 30 s: start it there, or fix its `url`')
  })

  it('the same non-connection failure all along: fix it, more time will not', () => {
    const hint = readinessHint(wait({ outcome: outcome({ reason: 'error', detail: 'database "app" does not exist' }) }))
    expect(hint).toContain('the probe failed the same way for the last 30 s')
    expect(hint).not.toContain('readyTimeout')
  })
})
