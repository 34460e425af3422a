// The files and command line of one broker: everything lives in the instance's directory (data,
// logs, cookie, config), nothing is read from /etc/rabbitmq or the system broker's dirs, and
// the VM gets its own node name and distribution port, so it never meets the system broker.
import { createHash, randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import type { RabbitmqInstall } from './binaries.ts'

/**
 * Every broker rig starts is `rig@localhost`: a data directory belongs to its node name, so one
 * fixed name is what lets the init cache hand out pre-initialised data. Brokers never meet:
 * each has its own distribution port and cookie, and none is looked up through epmd.
 */
export const NODE_NAME = 'rig@localhost'

/** Where one broker keeps its files. */
export interface BrokerLayout {
  dir: string
  /** `RABBITMQ_MNESIA_BASE`: the node's database, copied from the init cache. */
  data: string
  logs: string
  /** `HOME` of the VM: holds the Erlang cookie. */
  home: string
  /** Classic (Erlang terms) config: read without the schema translation `rabbitmq.conf` costs. */
  config: string
  /** `rabbitmq.conf`, written only when the user gives `settings`. */
  conf: string
  definitions: string
  enabledPlugins: string
  /** Directory (0700) of the agent's socket. */
  agentDir: string
  socket: string
}

/** The layout of a broker in `dir`. */
export function brokerLayout(dir: string): BrokerLayout {
  return {
    dir,
    data: path.join(dir, 'data'),
    logs: path.join(dir, 'log'),
    home: path.join(dir, 'home'),
    config: path.join(dir, 'rabbitmq.config'),
    conf: path.join(dir, 'rabbitmq.conf'),
    definitions: path.join(dir, 'definitions.json'),
    enabledPlugins: path.join(dir, 'enabled_plugins'),
    agentDir: path.join(dir, 'agent'),
    socket: path.join(dir, 'agent', 'rig-agent.sock'),
  }
}

/** What a broker's files say. */
export interface BrokerSettings {
  amqpPort: number
  user: string
  password: string
  vhost: string
  plugins: readonly string[]
  managementPort?: number
  /** `rabbitmq.conf` keys given by the user. */
  settings?: Readonly<Record<string, string | number | boolean>>
  /** Set for the one boot that fills the init cache: the user created by that boot. */
  bootstrapUser?: string
}

/** An Erlang string literal. */
function str(s: string): string {
  return `"${s.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`
}

/** An Erlang binary literal. */
function bin(s: string): string {
  return `<<${str(s)}/utf8>>`
}

/** RabbitMQ's `rabbit_password_hashing_sha256`: base64(salt ‖ sha256(salt ‖ password)), 4-byte salt. */
export function hashPassword(password: string): string {
  const salt = randomBytes(4)
  const digest = createHash('sha256').update(salt).update(password, 'utf8').digest()
  return Buffer.concat([salt, digest]).toString('base64')
}

/** A random secret of `n` letters and digits (safe in URLs and Erlang literals). */
export function secret(n: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz0123456789'
  return [...randomBytes(n)].map((b) => alphabet[b % alphabet.length]).join('')
}

function classicConfig(l: BrokerLayout, s: BrokerSettings): string {
  const rabbit = [
    `{tcp_listeners, [{"127.0.0.1", ${s.amqpPort}}]}`,
    `{loopback_users, []}`,
    // A virgin database gets this user instead of guest/guest; rig's own user comes from the
    // definitions, so the bootstrap one is deleted before the data is cached.
    `{default_user, ${bin(s.bootstrapUser ?? 'rig-bootstrap')}}`,
    `{default_pass, ${bin(secret(24))}}`,
    // Tells rig's guard, on any AMQP connection, where this broker's agent listens.
    `{server_properties, [{<<"rig_agent">>, longstr, ${bin(l.socket)}}]}`,
    ...(s.bootstrapUser ? [] : [`{load_definitions, ${str(l.definitions)}}`]),
  ]
  const apps = [`{rabbit, [${rabbit.join(',\n    ')}]}`]
  if (s.managementPort !== undefined) apps.push(`{rabbitmq_management, [{tcp_config, [{ip, "127.0.0.1"}, {port, ${s.managementPort}}]}]}`)
  return `[${apps.join(',\n ')}].\n`
}

function definitions(s: BrokerSettings): string {
  return JSON.stringify({
    users: [{ name: s.user, password_hash: hashPassword(s.password), hashing_algorithm: 'rabbit_password_hashing_sha256', tags: ['administrator'] }],
    vhosts: [{ name: s.vhost }],
    permissions: [{ user: s.user, vhost: s.vhost, configure: '.*', write: '.*', read: '.*' }],
  })
}

/** Writes the broker's files into its layout; secrets are readable by their owner only. */
export function writeBrokerFiles(l: BrokerLayout, s: BrokerSettings): void {
  for (const d of [l.logs, l.home]) fs.mkdirSync(d, { recursive: true, mode: 0o700 })
  fs.mkdirSync(l.agentDir, { mode: 0o700 })
  fs.writeFileSync(path.join(l.home, '.erlang.cookie'), secret(32), { mode: 0o400, flag: 'wx' })
  fs.writeFileSync(l.config, classicConfig(l, s), { mode: 0o600, flag: 'wx' })
  if (!s.bootstrapUser) fs.writeFileSync(l.definitions, definitions(s), { mode: 0o600, flag: 'wx' })
  fs.writeFileSync(l.enabledPlugins, `[${s.plugins.join(',')}].\n`, { mode: 0o600, flag: 'wx' })
  if (s.settings && Object.keys(s.settings).length > 0) {
    const lines = Object.entries(s.settings).map(([k, v]) => `${k} = ${v}`)
    fs.writeFileSync(l.conf, `${lines.join('\n')}\n`, { mode: 0o600, flag: 'wx' })
  }
}

/** The broker's VM: `erl` with the flags `rabbitmq-server` passes, plus rig's node, ports and agent. */
export function vmCommand(install: RabbitmqInstall, l: BrokerLayout, ports: { amqp: number; dist: number }, cache: { ebin: string; lib: string }): { command: string; args: string[]; env: NodeJS.ProcessEnv } {
  const dist = String(ports.dist)
  const args = [
    '-noinput', '-noshell', '-boot', 'start_sasl', '-pa', cache.ebin,
    // The agent listens before the broker boots: once AMQP answers, the guard finds it there.
    '-s', 'rig_agent', 'start', '-s', 'rabbit', 'boot',
    '+W', 'w', '+MBas', 'ageffcbf', '+MHas', 'ageffcbf', '+MBlmbcs', '512', '+MHlmbcs', '512', '+MMmcs', '30',
    '+P', '1048576', '+t', '5000000', '+zdbbl', '128000', '+sbwt', 'none', '+sbwtdcpu', 'none', '+sbwtdio', 'none', '+B', 'i',
    '-syslog', 'logger', '[]', '-syslog', 'syslog_error_logger', 'false', '-kernel', 'prevent_overlapping_partitions', 'false',
    // Distribution starts with the VM, on a port of its own that `-erl_epmd_port` makes known
    // without asking epmd: RabbitMQ skips its epmd checks (a second VM each), and no epmd
    // daemon is ever spawned outside rig's process group. An epmd the machine already runs
    // still gets the name registered (the first broker wins it; others go on without): nothing
    // of rig looks a broker up through epmd.
    '-sname', NODE_NAME, '-start_epmd', 'false', '-erl_epmd_port', dist,
    '-kernel', 'inet_dist_listen_min', dist, '-kernel', 'inet_dist_listen_max', dist, '-kernel', 'inet_dist_use_interface', '{127,0,0,1}',
  ]
  // Nothing of the caller's RabbitMQ or Erlang settings leaks into the broker.
  const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(RABBITMQ_|ERL_)/.test(k)))
  const hasConf = fs.existsSync(l.conf)
  Object.assign(env, {
    HOME: l.home,
    RABBITMQ_NODENAME: NODE_NAME,
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(ports.amqp),
    RABBITMQ_DIST_PORT: dist,
    RABBITMQ_MNESIA_BASE: l.data,
    RABBITMQ_LOG_BASE: l.logs,
    RABBITMQ_LOGS: '-',
    RABBITMQ_CONFIG_FILE: hasConf ? l.conf : l.config,
    RABBITMQ_ADVANCED_CONFIG_FILE: hasConf ? l.config : path.join(l.dir, 'advanced.config'),
    RABBITMQ_CONF_ENV_FILE: path.join(l.dir, 'rabbitmq-env.conf'),
    RABBITMQ_ENABLED_PLUGINS_FILE: l.enabledPlugins,
    RABBITMQ_PLUGINS_DIR: install.plugins,
    RABBITMQ_PLUGINS_EXPAND_DIR: path.join(l.dir, 'plugins-expand'),
    RABBITMQ_PID_FILE: path.join(l.dir, 'rabbitmq.pid'),
    RABBITMQ_HOME: install.home,
    ERL_LIBS: cache.lib,
    ERL_MAX_ETS_TABLES: '50000',
    ERL_MAX_PORTS: '65536',
    ERL_CRASH_DUMP_SECONDS: '0',
    // The one-off VMs RabbitMQ starts every minute to "keep epmd alive" must not start one.
    ERL_ZFLAGS: '-start_epmd false',
    RIG_AGENT_SOCKET: l.socket,
  })
  return { command: install.erl, args, env }
}
