import { describe, expect, it } from 'vitest'
import { allOf, MissingDriverError, probe, ProbeFailure, runProbe, waitFor, type Clock, type Probe } from '../../src/index.ts'

/** A virtual clock: `sleep` advances time at once (and yields for 1 ms of real time). */
function fakeClock(): Clock & { t: number; sleeps: number[] } {
  const c = {
    t: 0,
    sleeps: [] as number[],
    now: () => c.t,
    sleep: async (ms: number) => {
      c.sleeps.push(ms)
      c.t += ms
      await new Promise((r) => setTimeout(r, 1))
    },
  }
  return c
}

const failing = (name = 'never'): Probe => probe(name, () => {
  throw new Error(`${name} is not there yet`)
})

describe('waitFor', () => {
  it('passes as soon as the probes pass, counting attempts', async () => {
    const clock = fakeClock()
    let n = 0
    const out = await waitFor([probe('third time', () => ++n >= 3)], { deadlineMs: 1000, clock, backoff: { initialMs: 1, factor: 1, maxMs: 1 } })
    expect(out).toMatchObject({ ok: true, attempts: 3 })
    expect(out.stoppedBy).toBeUndefined()
  })

  it('stops at the deadline with the failing probe and its last error', async () => {
    const clock = fakeClock()
    const out = await waitFor([failing('db')], { deadlineMs: 50, clock, backoff: { initialMs: 1, factor: 2, maxMs: 8 } })
    expect(out.ok).toBe(false)
    expect(out.stoppedBy).toBe('deadline')
    expect(out.probe).toBe('db')
    expect(out.attempts).toBeGreaterThan(3)
    expect(out.elapsedMs).toBeGreaterThanOrEqual(50)
    expect(out.last).toMatchObject({ status: 'fail', detail: 'db is not there yet' })
  })

  it('never sleeps past the deadline', async () => {
    const clock = fakeClock()
    await waitFor([failing()], { deadlineMs: 20, clock, backoff: { initialMs: 7, factor: 1, maxMs: 7 } })
    expect(clock.sleeps).toEqual([7, 7, 6])
  })

  it('backs off exponentially up to the maximum', async () => {
    const clock = fakeClock()
    await waitFor([failing()], { deadlineMs: 1 + 2 + 4 + 8 + 8 + 8, clock, backoff: { initialMs: 1, factor: 2, maxMs: 8 } })
    expect(clock.sleeps).toEqual([1, 2, 4, 8, 8, 8])
  })

  it('stops when aborted, without another attempt', async () => {
    const clock = fakeClock()
    const ac = new AbortController()
    let runs = 0
    const out = await waitFor([probe('p', () => (runs++, false))], {
      deadlineMs: 10_000,
      clock,
      signal: ac.signal,
      backoff: { initialMs: 1, factor: 1, maxMs: 1 },
      onAttempt: (_p, attempt) => attempt === 3 && ac.abort(),
    })
    expect(out).toMatchObject({ ok: false, stoppedBy: 'aborted', attempts: 3, probe: 'p' })
    expect(runs).toBe(3)
  })

  it('aborts a probe attempt in flight when the signal fires', async () => {
    const ac = new AbortController()
    const hanging = probe('hangs', (ctx) => new Promise<void>((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason))), { timeoutMs: 60_000 })
    setTimeout(() => ac.abort(new Error('stop')), 5)
    const out = await waitFor([hanging], { deadlineMs: 60_000, signal: ac.signal, backoff: { initialMs: 1, factor: 1, maxMs: 1 } })
    expect(out).toMatchObject({ ok: false, stoppedBy: 'aborted', attempts: 1 })
  })

  it('reports every failed attempt to onAttempt', async () => {
    const clock = fakeClock()
    const seen: [string, number, string][] = []
    let n = 0
    await waitFor([probe('flaky', () => ++n > 2)], {
      deadlineMs: 1000,
      clock,
      backoff: { initialMs: 1, factor: 1, maxMs: 1 },
      onAttempt: (p, a, r) => seen.push([p, a, r.status]),
    })
    expect(seen).toEqual([
      ['flaky', 1, 'fail'],
      ['flaky', 2, 'fail'],
    ])
  })

  it('runs probes in order and does not re-run one that passed', async () => {
    const clock = fakeClock()
    const calls: string[] = []
    let second = 0
    const out = await waitFor(
      [probe('a', () => void calls.push('a')), probe('b', () => (calls.push('b'), ++second >= 3))],
      { deadlineMs: 1000, clock, backoff: { initialMs: 1, factor: 1, maxMs: 1 } },
    )
    expect(out.ok).toBe(true)
    expect(calls).toEqual(['a', 'b', 'b', 'b'])
  })

  it('with one probe failing among several, names the failing one', async () => {
    const clock = fakeClock()
    const out = await waitFor([probe('ok', () => true), failing('stuck')], { deadlineMs: 10, clock, backoff: { initialMs: 1, factor: 1, maxMs: 1 } })
    expect(out).toMatchObject({ ok: false, stoppedBy: 'deadline', probe: 'stuck' })
  })

  it('stops at once on a missing driver package, naming it', async () => {
    const clock = fakeClock()
    const missing = new MissingDriverError('pg', 'the PostgreSQL probe')
    const out = await waitFor([probe('db', () => Promise.reject(missing))], { deadlineMs: 60_000, clock })
    expect(out).toMatchObject({ ok: false, stoppedBy: 'permanent', probe: 'db', attempts: 1, last: { permanent: true, detail: expect.stringContaining(missing.message) } })
    expect(clock.sleeps).toEqual([])
  })

  it('caps each attempt at the time left', async () => {
    const start = performance.now()
    const out = await waitFor([probe('slow', () => new Promise<void>(() => {}), { timeoutMs: 60_000 })], { deadlineMs: 30, backoff: { initialMs: 1, factor: 1, maxMs: 1 } })
    expect(out).toMatchObject({ ok: false, stoppedBy: 'deadline' })
    expect(out.last?.reason).toBe('timeout')
    // Far below the probe's own 60 s timeout: the deadline bounds it.
    expect(performance.now() - start).toBeLessThan(30_000)
  })
})

describe('waitFor: is the service getting anywhere?', () => {
  const step = { initialMs: 10, factor: 1, maxMs: 10 }

  it('a permanent failure stops the wait at once', async () => {
    const clock = fakeClock()
    const out = await waitFor([probe('needs a port', () => Promise.reject(new ProbeFailure('error', 'no port', { permanent: true })))], { deadlineMs: 60_000, clock, backoff: step })
    expect(out).toMatchObject({ ok: false, stoppedBy: 'permanent', attempts: 1, last: { permanent: true, detail: 'no port' } })
  })

  it('the same failure all along: not progressing, and for how long', async () => {
    const clock = fakeClock()
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })
    const out = await waitFor([probe('http', () => Promise.reject(refused))], { deadlineMs: 1000, clock, backoff: step })
    expect(out).toMatchObject({ ok: false, stoppedBy: 'deadline', progressed: false, hung: false })
    expect(out.sameForMs).toBeGreaterThanOrEqual(990)
  })

  it('a failure that changed in the second half of the wait is progress', async () => {
    const clock = fakeClock()
    const out = await waitFor(
      [probe('http', () => Promise.reject(clock.now() < 700 ? Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }) : new ProbeFailure('status', 'answered 503')))],
      { deadlineMs: 1000, clock, backoff: step },
    )
    expect(out).toMatchObject({ progressed: true, last: { reason: 'status' } })
    expect(out.sameForMs).toBeLessThanOrEqual(300)
  })

  it('an earlier probe passing late is progress too; one that changed early is not', async () => {
    const clock = fakeClock()
    const late = await waitFor([probe('tcp', () => clock.now() >= 800), failing('http')], { deadlineMs: 1000, clock, backoff: step })
    expect(late.progressed).toBe(true)
    const clock2 = fakeClock()
    const early = await waitFor([probe('tcp', () => clock2.now() >= 50), failing('http')], { deadlineMs: 1000, clock: clock2, backoff: step })
    expect(early.progressed).toBe(false)
  })

  it('an attempt that runs into its own timeout is a slow service (hung); one cut by the deadline is no evidence', async () => {
    const clock = fakeClock()
    const hangs = probe('slow', () => new Promise<void>(() => {}), { timeoutMs: 5 })
    expect(await waitFor([hangs], { deadlineMs: 100, clock, backoff: step })).toMatchObject({ hung: true, last: { reason: 'timeout' } })
    // The last attempt gets 1 ms (the deadline): the refused connection before it is what is reported.
    const clock2 = fakeClock()
    let n = 0
    const out = await waitFor(
      [probe('p', () => (++n < 3 ? Promise.reject(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' })) : new Promise<void>(() => {})), { timeoutMs: 50 })],
      { deadlineMs: 21, clock: clock2, backoff: step },
    )
    expect(out).toMatchObject({ hung: false, last: { reason: 'connect' } })
  })
})

describe('runProbe', () => {
  it('fails with reason timeout when the probe hangs', async () => {
    const r = await runProbe(probe('hang', () => new Promise<void>(() => {})), { timeoutMs: 5 })
    expect(r).toMatchObject({ status: 'fail', reason: 'timeout' })
    expect(r.detail).toContain('timed out after 5 ms')
  })

  it('classifies a refused connection', async () => {
    const err = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })
    const r = await runProbe(probe('x', () => Promise.reject(err)))
    expect(r).toMatchObject({ status: 'fail', reason: 'connect' })
  })

  it('keeps warn results and details', async () => {
    expect(await runProbe(probe('w', async () => ({ status: 'warn' as const, detail: 'slow' })))).toMatchObject({ status: 'warn', detail: 'slow' })
    expect(await runProbe(probe('f', () => false))).toMatchObject({ status: 'fail', reason: 'assertion', detail: 'returned false' })
  })

  it('is aborted by its parent signal', async () => {
    const ac = new AbortController()
    ac.abort(new Error('gone'))
    const r = await runProbe(probe('p', () => new Promise<void>(() => {})), { signal: ac.signal, timeoutMs: 60_000 })
    expect(r).toMatchObject({ status: 'fail', detail: 'gone' })
  })

  it('allOf reports every failure', async () => {
    const r = await runProbe(allOf(probe('a', () => true), failing('b'), probe('c', () => false)))
    expect(r.status).toBe('fail')
    expect(r.detail).toContain('b: b is not there yet')
    expect(r.detail).toContain('c: returned false')
  })
})
