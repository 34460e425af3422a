import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, expect, test } from 'vitest'
import { command, defineConfig } from '../../src/index.ts'
import type { Environment } from '../../src/env/environment.ts'
import { assertNothingLeft, rejection, start } from '../support/env.ts'

let env: Environment | undefined
afterEach(async () => {
  await env?.stop()
  await assertNothingLeft(env)
  env = undefined
})

test('a oneShot task makes the environment wait until it exited 0, even with no dependent', async () => {
  const marker = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'rig-oneshot-')), 'migrated')
  env = await start(defineConfig({ services: { migrate: command({ run: `sleep 0.3; touch ${marker}`, oneShot: true }) } }))
  expect(fs.existsSync(marker)).toBe(true)
  expect(env.get('migrate').status).toBe('completed')
})

test('its dependents start only after it completed', async () => {
  env = await start(
    defineConfig({
      services: {
        migrate: command({ run: 'sleep 0.2', oneShot: true }),
        app: command({ run: 'exec sleep 60', dependsOn: ['migrate'] }),
      },
    }),
  )
  const t = env.get('app').timeline
  expect(t.startingAt).toBeGreaterThanOrEqual(env.get('migrate').timeline.completedAt ?? Infinity)
})

test('a oneShot task that fails fails the start with its exit code and logs', async () => {
  const err = await rejection(start(defineConfig({ services: { migrate: command({ run: 'echo "no such table" >&2; exit 4', oneShot: true }) } })))
  expect(err.code).toBe('RIG_SERVICE_CRASHED')
  expect(err.message).toMatch(/exited with code 4/)
  expect(err.message).toMatch(/no such table/)
  await assertNothingLeft()
})

test('a oneShot task still running at its deadline is a readiness timeout', async () => {
  const err = await rejection(start(defineConfig({ services: { migrate: command({ run: 'exec sleep 30', oneShot: true, readyTimeout: 300 }) } })))
  expect(err.code).toBe('RIG_READY_TIMEOUT')
  expect(err.message).toMatch(/exit with code 0/)
  expect(err.message).toMatch(/still running/)
  await assertNothingLeft()
})
