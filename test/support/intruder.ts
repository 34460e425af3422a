// A second local account for attacks on a shared machine: created once (left in place, parallel
// runs share it), and commands run as it through runuser, as another user of the machine would.
import { spawn, spawnSync } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'

export const INTRUDER = 'rigintruder'
export const AS_ROOT = process.getuid?.() === 0

/** Creates the account unless it exists; returns its uid and gid. */
export function ensureIntruder(): { uid: number; gid: number } {
  if (spawnSync('id', [INTRUDER]).status !== 0) {
    const r = spawnSync('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', INTRUDER])
    if (r.status !== 0 && spawnSync('id', [INTRUDER]).status !== 0) throw new Error(`useradd ${INTRUDER}: ${r.stderr}`)
  }
  const uid = Number(spawnSync('id', ['-u', INTRUDER], { encoding: 'utf8' }).stdout.trim())
  const gid = Number(spawnSync('id', ['-g', INTRUDER], { encoding: 'utf8' }).stdout.trim())
  return { uid, gid }
}

/** Runs a shell script as the intruder; throws with its output when it fails. */
export function asIntruder(script: string): string {
  const r = spawnSync('runuser', ['-u', INTRUDER, '--', 'sh', '-ec', script], { encoding: 'utf8', cwd: '/', timeout: 20_000 })
  if (r.status !== 0) throw new Error(`as ${INTRUDER}: ${script}\n${r.stdout}${r.stderr}`)
  return r.stdout
}

/** A long-running process of the intruder's (a victim rig must never kill); detached, in its own group. */
export function intruderProcess(): ChildProcess {
  const { uid, gid } = ensureIntruder()
  const c = spawn('sleep', ['300'], { uid, gid, detached: true, stdio: 'ignore' })
  c.unref()
  return c
}
