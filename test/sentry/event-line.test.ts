// One line per event: the level first (what the log scan matches), then what was raised, the
// message and the top frames, innermost first; whatever an SDK leaves out is left out.
import { describe, expect, it } from 'vitest'
import { eventLine, topFrames } from '../../src/services/sentry/event-line.ts'

describe('eventLine', () => {
  it('an exception: its type and value, the message when it says more, the app\'s top frames and the tags', () => {
    expect(eventLine({ event_id: '0123456789abcdef', level: 'error', logentry: { formatted: 'while charging' }, exception: { values: [{ type: 'Error', value: 'inner' }, { type: 'PaymentError', value: 'declined', stacktrace: { frames: [{ function: 'a', filename: 'x.js', lineno: 1, colno: 2, in_app: true }, { function: 'lib', filename: 'node_modules/l.js', lineno: 9, in_app: false }] } }] }, release: 'r1' })).toBe(
      'error PaymentError: declined (message: while charging) at a (x.js:1:2) [event 01234567, release r1]',
    )
  })

  it('no level is an error, as Sentry takes it; an unknown one too; warn is warning', () => {
    expect(eventLine({ message: 'm' })).toBe('error m')
    expect(eventLine({ message: 'm', level: 'critical' })).toBe('error m')
    expect(eventLine({ message: 'm', level: 'warn' })).toBe('warning m')
    expect(eventLine({ message: 'm', level: 'INFO' })).toBe('info m')
  })

  it('the old exception list form, a type or value alone, and an event with nothing to show', () => {
    expect(eventLine({ exception: [{ type: 'KeyError' }] })).toBe('error KeyError')
    expect(eventLine({ exception: { values: [{ value: 'only a value' }] } })).toBe('error only a value')
    expect(eventLine({ transaction: 'GET /x' })).toBe('error event in GET /x')
    expect(eventLine({})).toBe('error event with no message')
  })

  it('top frames: the last three, innermost first; all frames when none is marked in_app; a module when there is no file', () => {
    const frames = [1, 2, 3, 4, 5].map((n) => ({ function: `f${n}`, filename: 'a.py', lineno: n }))
    expect(topFrames(frames)).toEqual(['f5 (a.py:5)', 'f4 (a.py:4)', 'f3 (a.py:3)'])
    expect(topFrames([{ module: 'app.jobs' }, { function: 'run' }])).toEqual(['run (?)', 'app.jobs'])
    expect(topFrames(undefined)).toEqual([])
  })
})
