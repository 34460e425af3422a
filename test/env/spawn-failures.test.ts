// A process that cannot be started at all (no such program, no such cwd, not executable) fails
// the start with what, where and the OS error — never "ready" because it had no probe to fail.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { command, redis } from '../../src/index.ts'
import { assertNothingLeft, rejection, start } from '../support/env.ts'

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-spawn-'))
const notExecutable = path.join(dir, 'server.sh')
fs.writeFileSync(notExecutable, '#!/bin/sh\nexec sleep 600\n', { mode: 0o644 })
const aFile = path.join(dir, 'file.txt')
fs.writeFileSync(aFile, 'not a directory')

afterEach(async () => {
  await assertNothingLeft()
})
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

describe('a command that cannot start fails the environment', () => {
  const cases: [string, Parameters<typeof command>[0], RegExp, string][] = [
    ['a missing program (argv)', { run: ['/nonexistent/bin', '--serve'] }, /\/nonexistent\/bin does not exist \(ENOENT\)/, '/nonexistent/bin'],
    ['a program that is not on PATH', { run: ['rig-no-such-program'] }, /`rig-no-such-program` was not found on PATH \(ENOENT\)/, 'rig-no-such-program'],
    ['a missing cwd (shell line)', { run: 'exec sleep 600', cwd: 'no/such/dir' }, /its working directory .*no\/such\/dir does not exist/, '/bin/sh'],
    ['a cwd that is a file', { run: ['sleep', '600'], cwd: aFile }, /its working directory .*file\.txt is not a directory \(ENOTDIR\)/, 'sleep'],
    ['a file without the execute bit', { run: [notExecutable] }, /server\.sh is not executable.*chmod \+x .*\(EACCES\)/, notExecutable],
    ['a directory', { run: [dir] }, /is a directory, not a program \(EACCES\)/, dir],
  ]
  for (const [what, options, explanation, program] of cases) {
    it(what, async () => {
      const events: string[] = []
      const err = await rejection(start({ services: { cache: redis(), api: command({ ...options, dependsOn: ['cache'] }) } }, { root: dir, onEvent: (e) => events.push(`${e.type} ${e.service}`) }))
      expect(err.code).toBe('RIG_SPAWN_FAILED')
      expect(err.name).toBe('SpawnFailedError')
      expect(err.message).toMatch(/^service "api" could not start: /)
      expect(err.message).toMatch(explanation)
      expect(err.message).toContain(`command: ${program}`)
      expect(err.message).toContain('fix `run` or `cwd` of service "api"')
      expect(events).not.toContain('ready api')
      expect(events).toContain('failed api')
    })
  }

  it('also when the command is a one-shot task', async () => {
    const err = await rejection(start({ services: { migrate: command({ run: ['/nonexistent/migrate'], oneShot: true }) } }))
    expect(err.code).toBe('RIG_SPAWN_FAILED')
  })
})
