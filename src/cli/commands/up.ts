import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadConfig } from '../../config/load-config.ts'
import { STATE_DIR } from '../../config/defaults.ts'
import { RigError } from '../../errors.ts'
import type { EnvEvent } from '../../env/events.ts'
import { keepAlive } from '../../env/keep-alive.ts'
import type { EnvState } from '../../env/state.ts'
import type { Command } from '../command.ts'
import { clearStale, host } from '../_host.ts'
import type { Output } from '../output.ts'
import { Progress } from '../progress.ts'
import { printServices, servicesJson } from '../table.ts'

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../bin/rig.ts')

/** Messages from the detached supervisor to `rig up --detach`. */
type SupervisorMessage = { type: 'event'; event: EnvEvent } | { type: 'ready'; state: EnvState } | { type: 'failed'; message: string; exitCode: number }

function showReady(out: Output, state: EnvState, json: boolean): void {
  if (json) out.json(servicesJson(state))
  else printServices(out, state)
}

async function detach(configFile: string, root: string, names: string[], out: Output, json: boolean): Promise<number> {
  clearStale(root, out)
  const logFile = path.join(root, STATE_DIR, 'supervisor.log')
  fs.mkdirSync(path.dirname(logFile), { recursive: true })
  const fd = fs.openSync(logFile, 'w')
  const child = spawn(process.execPath, ['--no-warnings', BIN, 'up', '--supervised', '--config', configFile], { cwd: root, detached: true, stdio: ['ignore', fd, fd, 'ipc'], env: process.env })
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

export const up: Command = {
  name: 'up',
  summary: 'start every service and keep them running',
  usage: 'rig up [--detach] [--json]',
  details: 'In the foreground, Ctrl-C stops everything. With --detach, returns once every service is ready;\nthe environment keeps running until `rig down`.',
  options: {
    detach: { type: 'boolean', short: 'd', description: 'run in the background; return once every service is ready' },
    json: { type: 'boolean', description: 'print the services as JSON once ready' },
    supervised: { type: 'boolean', description: '(internal) run as the detached supervisor' },
  },
  async run({ values, out }) {
    const loaded = await loadConfig(values.config as string | undefined)
    const json = Boolean(values.json)
    if (values.detach && !values.supervised) return detach(loaded.file, loaded.root, Object.keys(loaded.config.services), out, json)
    const send = (m: SupervisorMessage): void => {
      if (values.supervised && process.connected) process.send?.(m)
    }
    let hosted
    try {
      hosted = await host(loaded, out, { detached: Boolean(values.supervised), onEvent: (event) => send({ type: 'event', event }) })
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
    return 0
  },
}
