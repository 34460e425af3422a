import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { type LoadedConfig, loadConfig } from '../../config/load-config.ts'
import type { Environment } from '../../env/environment.ts'
import { fixtureNamed, loadFixture } from '../../guard/fixtures.ts'
import { storesFor } from '../../guard/stores-for.ts'
import { STATE_DIR } from '../../config/defaults.ts'
import { RigError } from '../../errors.ts'
import { openOwnFileForWriting } from '../../fs-safe/private-file.ts'
import { moduleFile } from '../../module-file.ts'
import type { EnvEvent } from '../../env/events.ts'
import { keepAlive } from '../../env/keep-alive.ts'
import type { EnvState } from '../../env/state.ts'
import type { CommandContext } from '../command.ts'
import { alreadyRunning, clearStale, host } from '../_host.ts'
import { acquireProjectLock } from '../../env/project-lock.ts'
import type { Output } from '../output.ts'
import { Progress } from '../progress.ts'
import { printServices, servicesJson } from '../table.ts'

const BIN = moduleFile(import.meta.url, '../../../bin/rig.ts')

/** Messages from the detached supervisor to `rig up --detach`. */
type SupervisorMessage = { type: 'event'; event: EnvEvent } | { type: 'ready'; state: EnvState } | { type: 'failed'; message: string; exitCode: number }

function showReady(out: Output, state: EnvState, json: boolean): void {
  if (json) out.json(servicesJson(state))
  else printServices(out, state)
}

/** Loads fixture `name` of the config into the environment's postgres and redis services. */
async function loadUpFixture(name: string, loaded: LoadedConfig, env: Environment, out: Output): Promise<void> {
  const t0 = performance.now()
  const stores = storesFor(env)
  try {
    await loadFixture(name, fixtureNamed(loaded.config.fixtures, name), stores, loaded.root)
  } finally {
    await Promise.all(stores.map((s) => s.close()))
  }
  out.info(`fixture "${name}" loaded in ${Math.round(performance.now() - t0)} ms`)
}

async function detach(configFile: string, root: string, names: string[], out: Output, json: boolean, fixture: string | undefined): Promise<number> {
  // Said at once, and a stale environment cleaned up here where its notice is seen; the
  // supervisor then takes the project's lock for good (two of these started together: one wins).
  const lock = acquireProjectLock(root)
  if ('heldBy' in lock) throw alreadyRunning(root, lock.heldBy)
  try {
    clearStale(root, out)
  } finally {
    lock.release()
  }
  const logFile = path.join(root, STATE_DIR, 'supervisor.log')
  fs.mkdirSync(path.dirname(logFile), { recursive: true })
  const fd = openOwnFileForWriting(logFile, { truncate: true })
  const child = spawn(process.execPath, ['--no-warnings', BIN, 'up', '--supervised', '--config', configFile, ...(fixture ? ['--fixture', fixture] : [])], { cwd: root, detached: true, stdio: ['ignore', fd, fd, 'ipc'], env: process.env })
  fs.closeSync(fd)
  const progress = new Progress(out, names)
  return new Promise<number>((resolve) => {
    const finish = (code: number): void => {
      progress.stop()
      child.removeAllListeners()
      if (child.connected) child.disconnect()
      child.unref()
      resolve(code)
    }
    child.on('message', (m: SupervisorMessage) => {
      if (m.type === 'event') {
        progress.on(m.event)
      } else if (m.type === 'ready') {
        progress.stop()
        showReady(out, m.state, json)
        if (!json) out.info(out.e.dim(`running in the background (pid ${m.state.pid}); stop it with: rig down`))
        finish(0)
      } else if (m.type === 'failed') {
        out.error(m.message)
        finish(m.exitCode)
      }
    })
    child.on('exit', (code) => {
      const tail = fs.readFileSync(logFile, 'utf8').trim().split('\n').slice(-20).join('\n')
      out.error(`the environment's supervisor exited (code ${code}) before it was ready:\n${tail}`)
      finish(code || 1)
    })
  })
}

/** `rig up`: starts the environment, in the foreground or as a detached supervisor. */
export async function up({ values, out }: CommandContext): Promise<number> {
  // The config loader applies RIG_VARIANT; the detached supervisor inherits it.
  if (values.variant) process.env.RIG_VARIANT = values.variant as string
  const loaded = await loadConfig(values.config as string | undefined)
  const json = Boolean(values.json)
  const fixture = values.fixture as string | undefined
  // A misspelt fixture fails before anything starts.
  if (fixture) fixtureNamed(loaded.config.fixtures, fixture)
  if (values.detach && !values.supervised) return detach(loaded.file, loaded.root, Object.keys(loaded.config.services), out, json, fixture)
  const send = (m: SupervisorMessage): void => {
    if (values.supervised && process.connected) process.send?.(m)
  }
  let hosted
  try {
    hosted = await host(loaded, out, { detached: Boolean(values.supervised), onEvent: (event) => send({ type: 'event', event }) })
    if (fixture) {
      const started = hosted
      await loadUpFixture(fixture, loaded, started.env, out).catch(async (err: unknown) => {
        await started.stop()
        throw err
      })
    }
  } catch (err) {
    if (values.supervised) send({ type: 'failed', message: err instanceof Error ? err.message : String(err), exitCode: err instanceof RigError ? err.exitCode : 1 })
    throw err
  }
  hosted.env.on((e) => {
    if (e.type === 'exited') out.info(out.e.red(`service "${e.service}" exited unexpectedly (${e.signal ?? `code ${e.code}`}); see: rig logs ${e.service}`))
  })
  if (values.supervised) {
    send({ type: 'ready', state: hosted.state })
    if (process.connected) process.disconnect()
  } else {
    showReady(out, hosted.state, json)
    if (!json) out.info(out.e.dim('press Ctrl-C to stop'))
  }
  // The control server and the services do not hold the event loop open by themselves.
  const why = await keepAlive(hosted.downRequested)
  out.info(`stopping (${why})…`)
  const t = performance.now()
  await hosted.stop()
  out.info(`stopped ${Object.keys(hosted.env.services).length} services in ${Math.round(performance.now() - t)} ms`)
  // Ctrl-C is an interruption (130, as documented); `rig down` and SIGTERM are asked-for stops.
  return why === 'SIGINT' ? 130 : 0
}
