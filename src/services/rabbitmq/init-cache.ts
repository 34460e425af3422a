// A broker's first boot creates its database (schema, feature flags, default vhost): seconds of
// work that is the same every time. rig does it once per RabbitMQ and Erlang version into the
// init cache, with its agent compiled next to it; every broker then starts from a copy.
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { RigError } from '../../errors.ts'
import { moduleFile } from '../../module-file.ts'
import { cacheRoot } from '../../providers/process/cache-dir.ts'
import { ensureCacheEntry } from '../../providers/process/dir-lock.ts'
import { freePort } from '../../providers/process/ports.ts'
import { run } from '../../providers/process/run.ts'
import { chownForService, type ServiceUser } from '../../providers/process/user.ts'
import type { RabbitmqInstall } from './binaries.ts'
import { brokerLayout, secret, vmCommand, writeBrokerFiles } from './broker-files.ts'

/** Bumped when what the cache holds changes, so old entries are not reused. */
const CACHE_LAYOUT = 2

const AGENT_SOURCE = moduleFile(import.meta.url, './rig_agent.erl')

/** A filled cache entry. */
export interface RabbitmqCache {
  /** Holds the compiled agent (`rig_agent.beam`). */
  ebin: string
  /**
   * Links to the applications the broker boots with (the VM's `ERL_LIBS`). The installation's
   * plugins directory holds some 70 applications; on OTP 25 every module load searches every
   * one of them, so a code path of the 20 the broker needs boots about a second faster
   * (bench/RESULTS.md). Enabled plugins are still found in the full directory.
   */
  lib: string
  /** A broker's `RABBITMQ_MNESIA_BASE`, ready to copy. */
  data: string
}

/** The cache entry for `install` (and this version of the agent). */
export function rabbitmqCacheDir(install: RabbitmqInstall): string {
  const agent = createHash('sha256').update(fs.readFileSync(AGENT_SOURCE)).digest('hex')
  const key = JSON.stringify({ layout: CACHE_LAYOUT, version: install.version, otp: install.otp, plugins: install.plugins, agent })
  return path.join(cacheRoot(), 'rabbitmq', `${install.version}-${createHash('sha256').update(key).digest('hex').slice(0, 16)}`)
}

/** The applications `rabbit` needs, from their `.app` files: `rabbit`, its dependencies, theirs… */
function bootApplications(plugins: string): Map<string, string> {
  const dirs = new Map<string, string>()
  for (const e of fs.readdirSync(plugins)) {
    const m = /^([a-z][a-z0-9_]*)-\d/.exec(e)
    if (m?.[1]) dirs.set(m[1], path.join(plugins, e))
  }
  const needed = new Map<string, string>()
  const visit = (app: string): void => {
    const dir = dirs.get(app)
    if (!dir || needed.has(app)) return
    needed.set(app, dir)
    let text = ''
    try {
      text = fs.readFileSync(path.join(dir, 'ebin', `${app}.app`), 'utf8')
    } catch {
      return
    }
    for (const m of text.matchAll(/\{\s*(?:applications|included_applications|optional_applications)\s*,\s*\[([^\]]*)\]/g)) {
      for (const dep of (m[1] ?? '').split(',').map((d) => d.trim())) if (dep) visit(dep)
    }
  }
  for (const root of ['rabbit', 'rabbitmq_prelaunch']) visit(root)
  return needed
}

function linkBootApplications(plugins: string, lib: string): void {
  fs.mkdirSync(lib, { mode: 0o755 })
  for (const [, dir] of bootApplications(plugins)) fs.symlinkSync(dir, path.join(lib, path.basename(dir)))
}

/** Runs the bootstrap broker until it stops by itself (its agent stops it once booted). */
function bootOnce(cmd: { command: string; args: string[]; env: NodeJS.ProcessEnv }, user: ServiceUser | undefined, logFile: string, timeoutMs: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const out = fs.openSync(logFile, 'w')
    const child = spawn(cmd.command, cmd.args, { env: cmd.env, cwd: path.dirname(logFile), detached: true, stdio: ['ignore', out, out], ...(user ? { uid: user.uid, gid: user.gid } : {}) })
    fs.closeSync(out)
    const kill = (): void => {
      try {
        process.kill(-(child.pid ?? 0), 'SIGKILL')
      } catch {
        // gone
      }
    }
    const timer = setTimeout(kill, timeoutMs)
    signal.addEventListener('abort', kill, { once: true })
    child.once('error', reject)
    child.once('exit', (code, sig) => {
      clearTimeout(timer)
      signal.removeEventListener('abort', kill)
      kill()
      if (code === 0) return resolve()
      const log = fs.readFileSync(logFile, 'utf8')
      const kept = `${path.dirname(path.dirname(path.dirname(logFile)))}/last-failure.log`
      fs.writeFileSync(kept, log, { mode: 0o600 })
      const tail = log.trim().split('\n').slice(-15).map((l) => `    ${l}`).join('\n')
      const why = signal.aborted ? 'aborted' : sig === 'SIGKILL' ? `did not finish within ${timeoutMs} ms` : `exited with ${sig ?? `code ${code}`}`
      reject(new RigError('RIG_RABBITMQ_INIT_FAILED', `initialising RabbitMQ data for the init cache failed: the broker ${why}.\n  last log lines:\n${tail}\n  full log: ${kept}`))
    })
  })
}

/**
 * Returns the cache entry for `install`, filling it on first use (`onCold` tells the user).
 * Concurrent rig processes wait for the one that fills it.
 */
export async function ensureRabbitmqCache(install: RabbitmqInstall, user: ServiceUser | undefined, options: { onCold?: () => void; timeoutMs: number; signal: AbortSignal }): Promise<RabbitmqCache> {
  const dir = rabbitmqCacheDir(install)
  const entry = { ebin: path.join(dir, 'ebin'), lib: path.join(dir, 'lib'), data: path.join(dir, 'data') }
  await ensureCacheEntry(
    dir,
    async (staging) => {
      fs.mkdirSync(path.join(staging, 'ebin'), { mode: 0o755 })
      await run(install.erlc, ['-o', path.join(staging, 'ebin'), AGENT_SOURCE])
      linkBootApplications(install.plugins, path.join(staging, 'lib'))
      const boot = path.join(staging, 'boot')
      fs.mkdirSync(boot, { mode: 0o700 })
      const layout = { ...brokerLayout(boot), data: path.join(staging, 'data') }
      fs.mkdirSync(layout.data, { mode: 0o700 })
      const bootstrapUser = `rig-bootstrap-${secret(6)}`
      const ports = { amqp: await freePort(), dist: await freePort() }
      writeBrokerFiles(layout, { amqpPort: ports.amqp, user: bootstrapUser, password: '', vhost: '/', plugins: [], bootstrapUser })
      // Only what the broker writes belongs to its user; the agent and the links stay rig's.
      chownForService(boot, user)
      chownForService(layout.data, user)
      const cmd = vmCommand(install, layout, ports, { ebin: path.join(staging, 'ebin'), lib: path.join(staging, 'lib') })
      cmd.env.RIG_AGENT_PREPARE = bootstrapUser
      delete cmd.env.RIG_AGENT_SOCKET
      await bootOnce(cmd, user, path.join(boot, 'boot.log'), options.timeoutMs, options.signal)
      fs.rmSync(boot, { recursive: true, force: true })
    },
    options.onCold,
  )
  return entry
}
