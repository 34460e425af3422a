// One connection to a broker for the guard: AMQP for what AMQP does (declare, purge, publish,
// read messages), rig's agent for what it cannot (list a vhost, count unacknowledged messages,
// manage vhosts). A broker rig started announces its agent in `connection.start`.
import fs from 'node:fs'
import path from 'node:path'
import { parseAmqpUrl } from '../../drivers/amqp-handshake.ts'
import { type AmqpChannel, type AmqpConnection, connectAmqp } from '../../drivers/amqp.ts'
import { envsRoot } from '../../env/registry.ts'
import { GuardUsageError } from '../errors.ts'
import { AgentClient } from './agent-client.ts'
import { type StoredMessage, readMessages } from './messages.ts'
import { inspectVhost, type VhostState, watchQueues } from './topology.ts'

/** The most messages of one queue the guard keeps (baseline, snapshot, worker copy). */
const MAX_KEPT = 10_000

/** A vhost's topology and the messages of its queues: a baseline, a snapshot, a worker's copy. */
export interface VhostImage {
  state: VhostState
  messages: Map<string, StoredMessage[]>
}

/**
 * Where a broker rig started keeps its agent (a unix socket), and, when that is inside one of
 * this process's environment dirs (`<envs>/<env>/<service>/agent/rig-agent.sock`), which
 * environment and service it belongs to: only there does rig keep files for it.
 */
function agentLocation(announced: unknown): { socket: string; home?: { envDir: string; service: string } } | undefined {
  if (typeof announced !== 'string' || !path.isAbsolute(announced)) return undefined
  if (!fs.lstatSync(announced, { throwIfNoEntry: false })?.isSocket()) return undefined
  const root = envsRoot()
  const parts = path.relative(root, announced).split(path.sep)
  const inside = parts.length === 4 && !parts.includes('..') && parts[2] === 'agent' && parts[3] === 'rig-agent.sock'
  return { socket: announced, ...(inside ? { home: { envDir: path.join(root, parts[0] as string), service: parts[1] as string } } : {}) }
}

/** An open connection to one vhost of a broker. */
export class BrokerSession {
  readonly conn: AmqpConnection
  /** Absent on a broker rig did not start. */
  readonly agent: AgentClient | undefined
  readonly vhost: string
  readonly user: string
  /** The environment dir and service name of a broker rig started. */
  readonly home: { envDir: string; service: string } | undefined
  private lost = false
  private confirm: Promise<AmqpChannel> | undefined

  private constructor(conn: AmqpConnection, agent: AgentClient | undefined, vhost: string, user: string, home: BrokerSession['home']) {
    this.conn = conn
    this.agent = agent
    this.vhost = vhost
    this.user = user
    this.home = home
    conn.on('close', () => (this.lost = true))
  }

  /** Connects to `url` (and to the broker's agent when it announces one). */
  static async open(url: string): Promise<BrokerSession> {
    const addr = parseAmqpUrl(url)
    const conn = await connectAmqp(url)
    const where = agentLocation(conn.connection.serverProperties?.rig_agent)
    let agent: AgentClient | undefined
    try {
      agent = where ? await AgentClient.open(where.socket, addr.user, addr.password) : undefined
    } catch (err) {
      await conn.close().catch(() => {})
      throw err
    }
    return new BrokerSession(conn, agent, addr.vhost, addr.user, where?.home)
  }

  /** False once the broker closed the connection (or the agent's). */
  get alive(): boolean {
    return !this.lost && (this.agent?.open ?? true)
  }

  /** The vhost's queues, exchanges and bindings; without an agent, the `watched` queues only. */
  read(exclude: readonly string[], watched: readonly string[], vhost = this.vhost): Promise<VhostState> {
    if (this.agent) return inspectVhost(this.agent, vhost, exclude)
    return watchQueues(this.conn, watched)
  }

  /** A channel that reports its own errors on the calls, never as an unhandled event. */
  async channel(confirm = false): Promise<AmqpChannel> {
    const ch = confirm ? await this.conn.createConfirmChannel() : await this.conn.createChannel()
    ch.on('error', () => {})
    return ch
  }

  /** A confirm channel kept open for restores (each one would cost two round trips to open and close). */
  confirmChannel(): Promise<AmqpChannel> {
    this.confirm ??= this.channel(true).then((ch) => {
      ch.on('close', () => this.dropConfirmChannel())
      return ch
    })
    this.confirm.catch(() => this.dropConfirmChannel())
    return this.confirm
  }

  /** Closes and forgets the kept channel (after an error, which may have closed it already). */
  dropConfirmChannel(): void {
    const ch = this.confirm
    this.confirm = undefined
    void ch?.then((c) => c.close()).catch(() => {})
  }

  /** The topology and every ready message of the queues in `state` (read, then handed back). */
  async capture(state: VhostState): Promise<VhostImage> {
    const messages = new Map<string, StoredMessage[]>()
    const big = [...state.queues.values()].filter((q) => q.ready > MAX_KEPT)
    if (big.length > 0) {
      throw new GuardUsageError(
        'RIG_RABBITMQ_TOO_MANY_MESSAGES',
        `${big.map((q) => `queue ${q.name} holds ${q.ready} messages`).join(', ')}: the guard keeps a queue's messages in memory to put them back (at most ${MAX_KEPT}); leave it out with \`exclude\``,
      )
    }
    const ch = await this.channel()
    try {
      for (const q of state.queues.values()) if (q.ready > 0) messages.set(q.name, await readMessages(ch, q.name))
    } finally {
      await ch.close().catch(() => {})
    }
    return { state, messages }
  }

  async close(): Promise<void> {
    this.agent?.close()
    await this.conn.close().catch(() => {})
  }
}
