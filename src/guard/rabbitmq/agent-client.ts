// The client of rig's agent inside a broker rig started (src/services/rabbitmq/rig_agent.erl):
// a unix socket, 4-byte length-prefixed JSON frames, one request at a time.
import net from 'node:net'

/** A reply the agent could not give. */
export class AgentError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'AgentError'
  }
}

/** An authenticated connection to one broker's agent. */
export class AgentClient {
  private readonly socket: net.Socket
  private buf = Buffer.alloc(0)
  private readonly waiting: Array<{ resolve: (v: unknown) => void; reject: (e: Error) => void }> = []
  private closed: Error | undefined

  private constructor(socket: net.Socket) {
    this.socket = socket
    socket.on('data', (chunk: Buffer) => this.onData(chunk))
    const fail = (err?: Error): void => {
      this.closed ??= err ?? new AgentError('the broker closed the connection to its agent')
      for (const w of this.waiting.splice(0)) w.reject(this.closed)
    }
    socket.on('error', fail)
    socket.on('close', () => fail())
  }

  /** Connects to the agent at `socketPath` and authenticates as `user`. */
  static async open(socketPath: string, user: string, password: string): Promise<AgentClient> {
    const socket = net.connect(socketPath)
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve)
      socket.once('error', reject)
    })
    const client = new AgentClient(socket)
    try {
      await client.request({ op: 'auth', user, password })
    } catch (err) {
      client.close()
      throw err
    }
    return client
  }

  private onData(chunk: Buffer): void {
    this.buf = Buffer.concat([this.buf, chunk])
    while (this.buf.length >= 4) {
      const len = this.buf.readUInt32BE(0)
      if (this.buf.length < 4 + len) return
      const body = this.buf.subarray(4, 4 + len).toString('utf8')
      this.buf = this.buf.subarray(4 + len)
      const w = this.waiting.shift()
      if (!w) continue
      try {
        const reply = JSON.parse(body) as { error?: string }
        if (reply.error !== undefined) w.reject(new AgentError(reply.error))
        else w.resolve(reply)
      } catch (err) {
        w.reject(err as Error)
      }
    }
  }

  /** Sends one request; the agent answers requests in order. */
  request<T = Record<string, unknown>>(req: Record<string, unknown>): Promise<T> {
    if (this.closed) return Promise.reject(this.closed)
    const body = Buffer.from(JSON.stringify(req), 'utf8')
    const len = Buffer.alloc(4)
    len.writeUInt32BE(body.length)
    return new Promise<T>((resolve, reject) => {
      this.waiting.push({ resolve: resolve as (v: unknown) => void, reject })
      this.socket.write(Buffer.concat([len, body]))
    })
  }

  /** True until the connection is lost or closed. */
  get open(): boolean {
    return this.closed === undefined
  }

  close(): void {
    this.closed ??= new AgentError('closed')
    this.socket.destroy()
  }
}
