// Helpers for engine tests: start an environment while recording every pid it spawned, and
// assert that nothing of it is left afterwards (processes, temp dir).
import fs from 'node:fs'
import path from 'node:path'
import { expect } from 'vitest'
import { envsRoot } from '../../src/env/registry.ts'
import { startEnvironment, type Environment, type EnvEvent, type RigConfig, type StartOptions } from '../../src/index.ts'
import { expectGroupsGone } from './procs.ts'

/** Pids of every process the environments of this test file started (from `started` events). */
export const spawned = new Set<number>()

/** Records pids from events; pass as `onEvent`, or chain it. */
export function recordPids(e: EnvEvent): void {
  if (e.type === 'started' && e.pid !== undefined && e.pid > 0) spawned.add(e.pid)
}

/** `startEnvironment` that records pids, for {@link assertNothingLeft}. */
export async function start(config: RigConfig, options: StartOptions = {}): Promise<Environment> {
  const outer = options.onEvent
  const env = await startEnvironment(config, {
    ...options,
    onEvent: (e) => {
      recordPids(e)
      outer?.(e)
    },
  })
  // `started` events of restarts come later, through the environment's listeners.
  env.on(recordPids)
  recordMembers(env)
  return env
}

/** Records the pids of the members of services that run several processes (they have no `started` event); call it again after a member was replaced. */
export function recordMembers(env: Environment): void {
  for (const s of Object.values(env.services)) {
    if (s.pid) spawned.add(s.pid)
    for (const m of s.members?.state() ?? []) if (m.pid) spawned.add(m.pid)
  }
}

/** Env dirs owned by this process (the test file's worker). */
export function ownEnvDirs(): string[] {
  let entries: string[] = []
  try {
    entries = fs.readdirSync(envsRoot())
  } catch {
    return []
  }
  return entries.filter((e) => e.split('-')[1] === String(process.pid)).map((e) => path.join(envsRoot(), e))
}

/**
 * Asserts that nothing is left: no process group spawned by any environment of this file is
 * alive, `env.dir` (when given) is gone, and no env dir of this process remains once the
 * removal a stop leaves running in the background (at most a few seconds) is done.
 */
export async function assertNothingLeft(env?: Environment): Promise<void> {
  await expectGroupsGone([...spawned])
  if (env) expect(fs.existsSync(env.dir), `${env.dir} should be removed`).toBe(false)
  for (const deadline = Date.now() + 5000; ownEnvDirs().length > 0 && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 10))
  expect(ownEnvDirs()).toEqual([])
}

/** Runs `fn` expecting it to reject; returns the error. */
export async function rejection(p: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await p
  } catch (err) {
    return err as Error & { code?: string }
  }
  throw new Error('expected a rejection')
}
