// When rig logs into a starting PostgreSQL: at its "ready to accept connections" line, or, when
// the line is late or logging hides it, once the status PostgreSQL writes to postmaster.pid
// says so (read without following links or blocking: the data dir is the server account's).
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, afterEach, expect, it } from 'vitest'
import { pgQuery } from '../../src/drivers/pg.ts'
import { postgres, type Environment } from '../../src/index.ts'
import { postmasterStatus } from '../../src/services/postgres/auth.ts'
import { assertNothingLeft, start } from '../support/env.ts'

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-pg-ready-'))
let env: Environment | undefined
afterEach(async () => {
  await env?.stop()
  env = undefined
})
afterAll(async () => {
  await assertNothingLeft()
  fs.rmSync(scratch, { recursive: true, force: true })
})

it('a server whose logging hides the ready line is found ready through postmaster.pid', async () => {
  env = await start({ services: { db: postgres({ settings: { log_min_messages: 'fatal' } }) } })
  const db = env.get('db')
  expect(db.logLines().some((l) => /ready to accept connections/.test(l))).toBe(false)
  expect((await pgQuery(db.url, 'select 1 as one')).rows).toEqual([{ one: 1 }])
  const pidFile = path.join(db.dir, 'data', 'postmaster.pid')
  expect(postmasterStatus(pidFile)).toBe('ready')
  await env.stop()
  env = undefined
  expect(postmasterStatus(pidFile)).toBeUndefined()
})

it('reads the status only from a regular file, never through a link nor from a pipe', async () => {
  env = await start({ services: { db: postgres() } })
  const pidFile = path.join(env.get('db').dir, 'data', 'postmaster.pid')
  // PostgreSQL logs its ready line just before it writes "ready" to postmaster.pid, and this
  // start was ready at the line: the file may still say "starting" for a moment.
  await expect.poll(() => postmasterStatus(pidFile), { timeout: 10_000, interval: 5 }).toBe('ready')
  const link = path.join(scratch, 'link.pid')
  fs.symlinkSync(pidFile, link)
  expect(postmasterStatus(link)).toBeUndefined()
  const fifo = path.join(scratch, 'fifo.pid')
  execFileSync('mkfifo', [fifo])
  expect(postmasterStatus(fifo)).toBeUndefined()
  expect(postmasterStatus(path.join(scratch, 'missing.pid'))).toBeUndefined()
})
