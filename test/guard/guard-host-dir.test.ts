// The guard host's socket lives in a private dir below rig's temp root, owned by the runner:
// when the runner is SIGKILLed (no close), the next start's sweep removes that dir; a live
// runner's dir stays.
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { redis } from '../../src/index.ts'
import { tempRootPath } from '../../src/fs-safe/temp-root.ts'
import { remoteGuardSession } from '../../src/runner/guard-client.ts'
import { serveGuard } from '../../src/runner/guard-host.ts'
import { start } from '../support/env.ts'
import { firstOutput, pidAlive } from '../support/procs.ts'

const children: ChildProcess[] = []
afterEach(() => {
  for (const c of children.splice(0)) if (c.pid && pidAlive(c.pid)) c.kill('SIGKILL')
})

/** A runner's main process that serves the guard and waits: resolves with its socket's dir. */
async function runner(): Promise<{ child: ChildProcess; dir: string }> {
  const script = `
    import { serveGuard } from ${JSON.stringify(path.resolve(import.meta.dirname, '../../src/runner/guard-host.ts'))}
    const host = await serveGuard({ services: {}, vars: {}, controlSocket: undefined, seed: 1, configFile: '', fixture: undefined, guard: { mode: 'fail', strategy: 'auto', exclude: [], allowCleaning: [] }, logs: { failOnError: true } })
    console.log(host.socket)
    setInterval(() => {}, 1 << 30)
  `
  const child = spawn(process.execPath, ['--no-warnings', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] })
  children.push(child)
  return { child, dir: await firstOutput(child, (out) => (out.includes('\n') ? path.dirname(out.trim()) : undefined), 'serving') }
}

/** Resolves once `child` was reaped: every thread of it has exited and its files are closed. */
function reaped(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => child.once('exit', () => resolve()))
}

describe('the guard host dir', () => {
  it("a worker whose run's host is gone is told so at once, with what to do", async () => {
    // The runner was killed: its socket file stays, nobody listens.
    const killed = await runner()
    killed.child.kill('SIGKILL')
    // Reaped, not only a zombie leader: a killed Node's other threads can still hold its files
    // (the listening socket) after /proc shows the leader as Z, and a connect then is reset.
    await reaped(killed.child)
    const refused = await remoteGuardSession(path.join(killed.dir, 'guard.sock'), 1).catch((e: unknown) => e as Error & { code?: string })
    expect(refused).toMatchObject({ code: 'RIG_GUARD_HOST_GONE' })
    expect((refused as Error).message).toMatch(/cannot reach the guard host of this run .* \(ECONNREFUSED\): that process has ended or closed it/)
    expect((refused as Error).message).toContain('RIG_GUARD_HOST=off')
    fs.rmSync(killed.dir, { recursive: true, force: true })

    // The host closed (the run ended): its dir is gone.
    const host = await serveGuard({ services: {}, vars: {}, controlSocket: undefined, seed: 1, configFile: '', fixture: undefined, guard: { mode: 'fail', strategy: 'auto', exclude: [], allowCleaning: [] }, logs: { failOnError: true } })
    expect(await remoteGuardSession(host.socket, 1)).toBeUndefined()
    await host.close()
    expect(fs.existsSync(path.dirname(host.socket))).toBe(false)
    await expect(remoteGuardSession(host.socket, 1)).rejects.toMatchObject({ code: 'RIG_GUARD_HOST_GONE', message: expect.stringContaining('(ENOENT)') })
  })

  it('is below rig temp root; a SIGKILLed runner leaves it to the next start, which removes it', async () => {
    const killed = await runner()
    const alive = await runner()
    expect(path.dirname(path.dirname(killed.dir))).toBe(tempRootPath())
    expect(fs.statSync(path.join(killed.dir, 'guard.sock')).isSocket()).toBe(true)
    killed.child.kill('SIGKILL')
    await reaped(killed.child)
    expect(fs.existsSync(killed.dir)).toBe(true)

    const env = await start({ services: { cache: redis() } })
    try {
      expect(fs.existsSync(killed.dir)).toBe(false)
      expect(fs.statSync(path.join(alive.dir, 'guard.sock')).isSocket()).toBe(true)
    } finally {
      await env.stop()
    }
  })
})
