// RabbitMQ: rig's own broker from the local installation, beside (never in place of) a system
// broker: its own node, ports, data, logs, cookie and credentials, in the instance directory;
// its database copied from the init cache; ready once an AMQP connection opens.
import fs from 'node:fs'
import path from 'node:path'
import { timeoutScale } from '../../config/defaults.ts'
import { check, invalid } from '../../config/option-checks.ts'
import { suggest } from '../../config/suggest.ts'
import { ConfigError } from '../../errors.ts'
import { amqpOpen } from '../../probes/amqp.ts'
import { ManagedProcess } from '../../providers/process/managed-process.ts'
import { freePort } from '../../providers/process/ports.ts'
import { run } from '../../providers/process/run.ts'
import { chownForService, privateServiceDir, unprivilegedUser } from '../../providers/process/user.ts'
import { newPassword } from '../credentials.ts'
import { defineService, type CommonOptions, type DoctorEntry, type ServiceDefinition, type ServiceKind } from '../service-kind.ts'
import { findRabbitmq, INSTALL_HINT, type RabbitmqInstall, requireRabbitmq } from './binaries.ts'
import { withBootPhase } from './boot-phase.ts'
import { brokerLayout, vmCommand, writeBrokerFiles } from './broker-files.ts'
import { ensureRabbitmqCache } from './init-cache.ts'

/** Options of {@link rabbitmq}. */
export interface RabbitmqOptions {
  /** Directory holding `rabbitmq-server`; overrides the search (and `RIG_RABBITMQ_BIN_DIR`). */
  binDir?: string
  /**
   * The vhost in the URL; created at start.
   * @default '/'
   */
  vhost?: string
  /**
   * The user in the URL (an administrator of this broker, with a password generated per start).
   * @default 'rig'
   */
  user?: string
  /**
   * Also start the management plugin (HTTP API and UI) on a port of its own, exported as
   * `RIG_<NAME>_MANAGEMENT_URL`. Adds about a second to the start.
   * @default false
   */
  management?: boolean
  /** Other plugins to enable, e.g. `['rabbitmq_shovel']`. None by default. */
  plugins?: string[]
  /**
   * `rabbitmq.conf` settings, e.g. `{ 'vm_memory_high_watermark.relative': 0.6 }`. Their schema
   * translation adds about a second to the start.
   */
  settings?: Record<string, string | number | boolean>
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/

/** Why the broker stopped while booting, from its whole log (its crash report fills the tail). */
function crashHint(lines: readonly string[]): string | undefined {
  const text = lines.join('\n')
  if (/eaddrinuse|could_not_start_listener/i.test(text)) return 'a port is taken: remove `port` to let rig pick a free one'
  if (/rig_agent/.test(text)) return "rig's agent could not start inside the broker: check that the service user can write to the environment's directory"
  const config = lines.filter((l) => /You've tried to set|Conf file attempted|Error preparing configuration/.test(l)).map((l) => l.replace(/^.*?\[error\] <[\d.]+> /, '').trim())
  if (config.length > 0) return `RabbitMQ rejected its configuration (check \`settings\`): ${[...new Set(config)].join(' ')}`
  return undefined
}

/** The plugins to enable: those asked for, each one present in the installation. */
function pluginsOf(name: string, o: RabbitmqOptions, install: RabbitmqInstall): string[] {
  const available = fs.readdirSync(install.plugins).filter((e) => e.startsWith('rabbitmq_')).map((e) => e.replace(/-[\d.]+(\.ez)?$/, ''))
  const plugins = [...(o.plugins ?? []), ...(o.management ? ['rabbitmq_management'] : [])]
  for (const p of plugins) {
    if (!available.includes(p)) {
      const s = suggest(p, available)
      throw new ConfigError('RIG_CONFIG_INVALID', `service "${name}": no RabbitMQ plugin "${p}" in ${install.plugins}${s ? ` — did you mean "${s}"?` : ''}`)
    }
  }
  return [...new Set(plugins)]
}

const rabbitmqKind: ServiceKind<RabbitmqOptions> = {
  name: 'rabbitmq',
  optionKeys: ['binDir', 'vhost', 'user', 'management', 'plugins', 'settings'],
  errorPatterns: [/\[(error|critical|alert|emergency)\]/, /init terminating in do_boot/],
  // The readiness probe speaks AMQP itself; the guard (and tests) use amqplib.
  drivers: [{ package: 'amqplib', purpose: 'guard in tests' }],
  validate(o, where) {
    check.string(where, 'binDir', o.binDir)
    check.boolean(where, 'management', o.management)
    check.stringArray(where, 'plugins', o.plugins)
    check.scalarMap(where, 'settings', o.settings)
    if (o.vhost !== undefined && (typeof o.vhost !== 'string' || o.vhost.length === 0 || Buffer.byteLength(o.vhost) > 255)) invalid(where, 'vhost', 'a non-empty string of at most 255 bytes', o.vhost)
    if (o.user !== undefined && (typeof o.user !== 'string' || !NAME.test(o.user))) invalid(where, 'user', 'letters, digits, ".", "_" or "-"', o.user)
    // Written to rabbitmq.conf one per line: a key or value must not start another line.
    for (const [k, v] of Object.entries(o.settings ?? {})) {
      if (!/^[A-Za-z0-9_.$-]+$/.test(k)) invalid(where, `settings key ${JSON.stringify(k)}`, 'a rabbitmq.conf key such as "vm_memory_high_watermark.relative"', k)
      if (/[\r\n]/.test(String(v))) invalid(where, `settings.${k}`, 'a value on one line', v)
    }
  },
  async start(ctx, o) {
    const install = requireRabbitmq(ctx.name, o.binDir)
    const plugins = pluginsOf(ctx.name, o, install)
    const user = unprivilegedUser()
    const cache = await ensureRabbitmqCache(install, user, {
      onCold: () => ctx.notice(`initialising RabbitMQ ${install.version} data once (cached for next runs; a cold boot takes seconds)`),
      timeoutMs: 120_000 * timeoutScale(),
      signal: ctx.signal,
    })
    const layout = brokerLayout(ctx.dir)
    if (Buffer.byteLength(layout.socket) > 100) {
      throw new ConfigError('RIG_CONFIG_INVALID', `service "${ctx.name}": the path of its agent's socket is too long for a unix socket (${layout.socket}); use a shorter RIG_TMP_DIR`)
    }
    await run('cp', ['-a', '--reflink=auto', cache.data, layout.data])
    const vhost = o.vhost ?? '/'
    const amqpUser = o.user ?? 'rig'
    const password = newPassword()
    const managementPort = o.management ? await freePort() : undefined
    writeBrokerFiles(layout, { amqpPort: ctx.port, user: amqpUser, password, vhost, plugins, ...(managementPort ? { managementPort } : {}), ...(o.settings ? { settings: o.settings } : {}) })
    chownForService(ctx.dir, user)
    // Data, cookie, definitions and the agent's socket: the broker's account only.
    privateServiceDir(ctx.dir, user)
    const cmd = vmCommand(install, layout, { amqp: ctx.port, dist: await freePort() }, cache)
    const url = `amqp://${amqpUser}:${password}@127.0.0.1:${ctx.port}/${encodeURIComponent(vhost)}`
    return {
      host: '127.0.0.1',
      port: ctx.port,
      url,
      env: {
        VHOST: vhost,
        USER: amqpUser,
        PASSWORD: password,
        VERSION: install.version,
        ...(managementPort ? { MANAGEMENT_URL: `http://127.0.0.1:${managementPort}`, MANAGEMENT_PORT: String(managementPort) } : {}),
      },
      provider: 'process',
      // SIGTERM is a clean stop (the node closes its stores, about a second), which a restart
      // deserves; when the environment goes away with the data, SIGKILL ends it at once.
      launch: () => new ManagedProcess({ ...cmd, cwd: ctx.dir, user, stopSignal: 'SIGTERM', stopGraceMs: 5000 }, ctx.logs),
      teardownSignal: 'SIGKILL',
      defaultReady: [withBootPhase(amqpOpen({ timeoutMs: 3000 }))],
      crashHint: () => crashHint(ctx.logs.texts()),
    }
  },
  async doctor(): Promise<DoctorEntry[]> {
    const found = findRabbitmq()
    if (!found.install) return [{ what: 'rabbitmq-server', ok: false, detail: `${found.missing} not found`, fix: INSTALL_HINT }]
    return [{ what: 'rabbitmq-server', ok: true, detail: `RabbitMQ ${found.install.version} on Erlang/OTP ${found.install.otp} at ${path.dirname(found.install.plugins)}` }]
  },
}

/** A RabbitMQ broker for the environment. */
export function rabbitmq(options: RabbitmqOptions & CommonOptions = {}): ServiceDefinition<RabbitmqOptions> {
  return defineService(rabbitmqKind, options)
}

export { rabbitmqKind }
