// Finds a RabbitMQ installation and the Erlang runtime it runs on. rig starts the broker's VM
// itself (`erl … -s rabbit boot`) rather than through the `rabbitmq-server` script, so it needs
// the installation's directory (its `plugins/` holds the broker's applications) and `erl`.
import fs from 'node:fs'
import path from 'node:path'
import { MissingBinaryError } from '../../errors.ts'
import { expandDirs, findBinary } from '../../providers/process/binaries.ts'

/** A RabbitMQ installation and its Erlang runtime. */
export interface RabbitmqInstall {
  /** `…/rabbitmq_server-3.10.8`: holds `sbin/` and `plugins/`. */
  home: string
  /** Applications of the broker and its plugins (the VM's `ERL_LIBS`). */
  plugins: string
  /** e.g. `3.10.8`. */
  version: string
  erl: string
  erlc: string
  /** The Erlang/OTP release, e.g. `25.2.3`. */
  otp: string
}

/** How to install RabbitMQ, for error messages and `rig doctor`. */
export const INSTALL_HINT = 'apt-get install rabbitmq-server (Debian/Ubuntu), dnf install rabbitmq-server, or brew install rabbitmq'

const SERVER_DIRS = ['/usr/lib/rabbitmq/lib/rabbitmq_server-*/sbin', '/usr/local/opt/rabbitmq/sbin', '/opt/homebrew/opt/rabbitmq/sbin', '/opt/rabbitmq/sbin']
const ERLANG_DIRS = ['/usr/lib/erlang/bin', '/usr/local/lib/erlang/bin', '/opt/homebrew/bin']

/** The installation directory behind a `rabbitmq-server` found on disk (Debian's is a wrapper script beside the real one). */
function homeOf(found: string): string | undefined {
  const candidates = [fs.realpathSync(found)]
  const beside = path.join(path.dirname(candidates[0] as string), 'rabbitmq-server')
  if (fs.existsSync(beside)) candidates.push(fs.realpathSync(beside))
  for (const c of candidates) {
    const home = path.dirname(path.dirname(c))
    if (fs.existsSync(path.join(home, 'plugins'))) return home
  }
  return undefined
}

function versionIn(plugins: string): string | undefined {
  const rabbit = fs.readdirSync(plugins).find((e) => /^rabbit-\d/.test(e))
  return rabbit?.slice('rabbit-'.length).replace(/\.ez$/, '')
}

function otpVersion(erl: string): string {
  const root = path.dirname(path.dirname(fs.realpathSync(erl)))
  for (const dir of expandDirs(path.join(root, 'releases', '*'))) {
    try {
      return fs.readFileSync(path.join(dir, 'OTP_VERSION'), 'utf8').trim()
    } catch {
      // not a release dir
    }
  }
  return `unknown-${fs.statSync(fs.realpathSync(erl)).mtimeMs}`
}

/** Looks for RabbitMQ and Erlang; `searched` lists where, for the error message. */
export function findRabbitmq(binDir?: string): { install?: RabbitmqInstall; searched: string[]; missing?: string } {
  const server = findBinary({ name: 'rabbitmq-server', binDir, envVar: 'RIG_RABBITMQ_BIN_DIR', wellKnown: SERVER_DIRS })
  if (!server.path) return { searched: server.searched, missing: 'rabbitmq-server' }
  const home = homeOf(server.path)
  const version = home ? versionIn(path.join(home, 'plugins')) : undefined
  if (!home || !version) return { searched: [...server.searched, `${server.path} (no plugins/ with a rabbit application next to it)`], missing: 'rabbitmq-server' }
  const erl = findBinary({ name: 'erl', envVar: 'RIG_ERLANG_BIN_DIR', wellKnown: ERLANG_DIRS })
  if (!erl.path) return { searched: erl.searched, missing: 'erl' }
  const erlc = path.join(path.dirname(fs.realpathSync(erl.path)), 'erlc')
  return { install: { home, plugins: path.join(home, 'plugins'), version, erl: erl.path, erlc, otp: otpVersion(erl.path) }, searched: server.searched }
}

/** {@link findRabbitmq}, or a {@link MissingBinaryError} naming what to install. */
export function requireRabbitmq(service: string, binDir?: string): RabbitmqInstall {
  const found = findRabbitmq(binDir)
  if (found.install) return found.install
  if (found.missing === 'erl') throw new MissingBinaryError('erl', service, found.searched, `the Erlang runtime RabbitMQ runs on: ${INSTALL_HINT} (installs it too)`, 'RIG_ERLANG_BIN_DIR')
  const where = binDir === undefined ? undefined : fs.existsSync(binDir) ? `which is not in its binDir ${binDir}` : `but its binDir ${binDir} does not exist`
  throw new MissingBinaryError('rabbitmq-server', service, found.searched, INSTALL_HINT, 'RIG_RABBITMQ_BIN_DIR', where)
}
