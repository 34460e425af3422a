// Boots one RabbitMQ broker outside rig's engine, the way a variant asks (rig's command line
// with or without the init cache, with one of its choices undone, or the stock
// `rabbitmq-server` script), and times it until an AMQP connection opens.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { amqpHandshake } from '../../src/drivers/amqp-handshake.ts'
import { tempRoot } from '../../src/fs-safe/temp-root.ts'
import { freePort } from '../../src/providers/process/ports.ts'
import { chownForService, unprivilegedUser } from '../../src/providers/process/user.ts'
import type { RabbitmqInstall } from '../../src/services/rabbitmq/binaries.ts'
import { brokerLayout, secret, vmCommand, writeBrokerFiles } from '../../src/services/rabbitmq/broker-files.ts'
import type { RabbitmqCache } from '../../src/services/rabbitmq/init-cache.ts'

/** How to boot. */
export interface BootVariant {
  /** `rig`: rig's VM command line; `stock`: the installation's `rabbitmq-server` script with a `rabbitmq.conf`. */
  how: 'rig' | 'stock'
  /** Copy the init cache's database (rig only). */
  warm?: boolean
  /** Put every application of the installation on the code path, as the script does (rig only). */
  fullCodePath?: boolean
  /** Extra VM flags (rig only). */
  erlArgs?: string[]
}

/** One boot: ready time, and how long the stop took. */
export interface BootResult {
  readyMs: number
  stopMs: number
}

/** Boots, waits for connection.open, stops with `stopSignal`, removes everything. */
export async function bootOnce(install: RabbitmqInstall, cache: RabbitmqCache, v: BootVariant, stopSignal: NodeJS.Signals = 'SIGKILL'): Promise<BootResult> {
  const user = unprivilegedUser()
  const dir = fs.mkdtempSync(path.join(tempRoot(), 'bench-rabbitmq-'))
  fs.chmodSync(dir, 0o755)
  const amqp = await freePort()
  const dist = await freePort()
  const password = secret(16)
  let command: string
  let args: string[]
  let env: NodeJS.ProcessEnv
  if (v.how === 'stock') {
    for (const d of ['data', 'log', 'home']) fs.mkdirSync(path.join(dir, d))
    fs.writeFileSync(path.join(dir, 'home', '.erlang.cookie'), secret(20), { mode: 0o400 })
    fs.writeFileSync(path.join(dir, 'rabbitmq.conf'), `listeners.tcp.default = 127.0.0.1:${amqp}\ndefault_user = rig\ndefault_pass = ${password}\nloopback_users = none\n`)
    fs.writeFileSync(path.join(dir, 'enabled_plugins'), '[].\n')
    command = path.join(install.home, 'sbin', 'rabbitmq-server')
    args = []
    env = {
      ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(RABBITMQ_|ERL_)/.test(k))),
      HOME: path.join(dir, 'home'),
      RABBITMQ_NODENAME: `bench-${secret(6)}@localhost`,
      RABBITMQ_DIST_PORT: String(dist),
      RABBITMQ_MNESIA_BASE: path.join(dir, 'data'),
      RABBITMQ_LOG_BASE: path.join(dir, 'log'),
      RABBITMQ_LOGS: '-',
      RABBITMQ_CONFIG_FILE: path.join(dir, 'rabbitmq.conf'),
      RABBITMQ_CONF_ENV_FILE: path.join(dir, 'rabbitmq-env.conf'),
      RABBITMQ_ENABLED_PLUGINS_FILE: path.join(dir, 'enabled_plugins'),
    }
  } else {
    const layout = brokerLayout(dir)
    if (v.warm) fs.cpSync(cache.data, layout.data, { recursive: true })
    else fs.mkdirSync(layout.data, { mode: 0o700 })
    // rig's user comes from the definitions file, on a fresh database and a copied one alike.
    writeBrokerFiles(layout, { amqpPort: amqp, user: 'rig', password, vhost: '/', plugins: [] })
    const cmd = vmCommand(install, layout, { amqp, dist }, v.fullCodePath ? { ...cache, lib: install.plugins } : cache)
    command = cmd.command
    args = [...cmd.args, ...(v.erlArgs ?? [])]
    env = cmd.env
  }
  chownForService(dir, user)
  const url = `amqp://rig:${password}@127.0.0.1:${amqp}/`
  const t0 = performance.now()
  const child = spawn(command, args, { env, cwd: dir, detached: true, stdio: 'ignore', ...(user ? { uid: user.uid, gid: user.gid } : {}) })
  const exited = new Promise<void>((r) => child.once('exit', () => r()))
  try {
    let readyMs = Number.NaN
    while (performance.now() - t0 < 120_000) {
      try {
        await amqpHandshake(url)
        readyMs = performance.now() - t0
        break
      } catch {
        await sleep(10)
      }
    }
    if (Number.isNaN(readyMs)) throw new Error(`${JSON.stringify(v)} never became ready`)
    const s0 = performance.now()
    process.kill(-(child.pid as number), stopSignal)
    await exited
    return { readyMs, stopMs: performance.now() - s0 }
  } finally {
    try {
      process.kill(-(child.pid as number), 'SIGKILL')
    } catch {
      // already gone
    }
    await exited
    fs.rmSync(dir, { recursive: true, force: true })
  }
}
