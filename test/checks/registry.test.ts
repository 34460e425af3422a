import { afterEach, describe, expect, test } from 'vitest'
import { beginCollecting, check, endCollecting, type CheckDefinition } from '../../src/checks/check.ts'
import { selectChecks, validateGraph } from '../../src/checks/select.ts'

afterEach(() => endCollecting())

const def = (name: string, options: CheckDefinition['options'] = {}): CheckDefinition => ({ name, options, fn: () => {} })

describe('check()', () => {
  test('collects checks with their options and file', () => {
    const c = beginCollecting()
    c.file = 'checks/a.check.ts'
    check('one', { tags: ['smoke'] }, () => {})
    check('two', () => {})
    expect(c.checks.map((k) => [k.name, k.file, k.options.tags])).toEqual([
      ['one', 'checks/a.check.ts', ['smoke']],
      ['two', 'checks/a.check.ts', undefined],
    ])
  })

  test('rejects duplicate names, naming both files', () => {
    const c = beginCollecting()
    c.file = 'checks/a.check.ts'
    check('db', () => {})
    c.file = 'checks/b.check.ts'
    expect(() => check('db', () => {})).toThrow(expect.objectContaining({ code: 'RIG_CHECK_DUPLICATE', exitCode: 2, message: expect.stringMatching(/"db" in checks\/a\.check\.ts and in checks\/b\.check\.ts/) }))
  })

  test('rejects bad options and a missing body', () => {
    beginCollecting()
    expect(() => check('t', { timeout: -1 }, () => {})).toThrow(expect.objectContaining({ code: 'RIG_CHECK_INVALID' }))
    expect(() => check('t', { tags: 'smoke' as unknown as string[] }, () => {})).toThrow(/tags must be a list/)
    expect(() => check('', () => {})).toThrow(/non-empty name/)
    expect(() => check('t', {}, undefined as unknown as () => void)).toThrow(/needs a function/)
  })
})

describe('graph and selection', () => {
  test('unknown dependency or diagnostic is an error with a suggestion', () => {
    expect(() => validateGraph([def('API', { dependsOn: ['db'] }), def('DB')])).toThrow(expect.objectContaining({ code: 'RIG_CHECK_UNKNOWN_REF', message: expect.stringContaining('did you mean "DB"') }))
    expect(() => validateGraph([def('API', { diagnostics: ['nope'] })])).toThrow(/lists "nope" in diagnostics/)
  })

  test('cycles are rejected with the path', () => {
    expect(() => validateGraph([def('a', { dependsOn: ['b'] }), def('b', { diagnostics: ['a'] })])).toThrow(expect.objectContaining({ code: 'RIG_CHECK_CYCLE', message: expect.stringContaining('a → b → a') }))
  })

  test('unknown tag is a usage error listing the known ones', () => {
    expect(() => selectChecks([def('a', { tags: ['smoke'] })], ['smok'])).toThrow(expect.objectContaining({ code: 'RIG_CHECK_UNKNOWN_TAG', exitCode: 2, message: expect.stringContaining('did you mean "smoke"') }))
  })

  test('a tag selects its checks plus their dependencies', () => {
    const all = [def('db'), def('api', { tags: ['smoke'], dependsOn: ['db'] }), def('deep', { tags: ['diagnostic'] })]
    expect(selectChecks(all, ['smoke']).map((c) => c.name)).toEqual(['db', 'api'])
    expect(selectChecks(all).map((c) => c.name)).toEqual(['db', 'api', 'deep'])
  })
})
