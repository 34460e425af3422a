// The stable address of a Redis topology: one of rig's proxy endpoints whose target is the
// current master. A failover moves the target and resets the connections still open to the
// old master (now a read-only replica), so clients reconnect to the new one, as an HAProxy
// with a role check does. While the master does not answer (killed, the sentinels not done
// yet), new connections are held until it answers again or a new one is announced, so a
// client (the guard's too) that connects meanwhile waits instead of failing. Faults never
// apply here: they belong to the `proxy` in front.
import net from 'node:net'
import { CLEAN, type Effect } from '../../proxy/effect.ts'
import { Endpoint, type EndpointOwner } from '../../proxy/endpoint.ts'

/** Connections are held at most this long for a master to answer; then they are reset. */
const HOLD_MAX_MS = 30_000
const RECHECK_MS = 100

/** The address that follows the master of one topology. */
export class MasterFollower implements EndpointOwner {
  readonly name: string
  mode: 'open' | 'hold' = 'open'
  private master: { host: string; port: number }
  private readonly endpoint: Endpoint
  private heldSince = 0
  private timer: NodeJS.Timeout | undefined
  private closed = false

  constructor(name: string, master: { host: string; port: number }) {
    this.name = name
    this.master = master
    this.endpoint = new Endpoint(this, undefined)
  }

  /** Listens on `port`. */
  async listen(port: number): Promise<void> {
    await this.endpoint.listen(port)
  }

  target(): { host: string; port: number } {
    return this.master
  }

  effectFor(): Effect {
    return CLEAN
  }

  /** The master refused a connection: hold it and the next ones until a master answers. */
  upstreamFailed(): boolean {
    if (this.closed) return false
    if (this.mode === 'hold') return true
    this.mode = 'hold'
    this.heldSince = performance.now()
    this.recheck()
    return true
  }

  private recheck(): void {
    this.timer = setTimeout(() => {
      if (this.closed || this.mode !== 'hold') return
      if (performance.now() - this.heldSince > HOLD_MAX_MS) {
        // No master for too long: clients learn it, as they would without rig in between.
        for (const l of [...this.endpoint.links]) if (l.held) l.reset()
        this.mode = 'open'
        return
      }
      const s = net.connect(this.master)
      s.on('connect', () => {
        s.destroy()
        this.open()
      })
      s.on('error', () => this.recheck())
    }, RECHECK_MS)
    this.timer.unref()
  }

  private open(): void {
    clearTimeout(this.timer)
    if (this.mode === 'open') return
    this.mode = 'open'
    this.endpoint.releaseHeld()
  }

  /** Points new connections at `master`; open ones to the previous master are reset, held ones go there. */
  follow(master: { host: string; port: number }): void {
    if (master.host !== this.master.host || master.port !== this.master.port) {
      this.master = master
      for (const link of [...this.endpoint.links]) if (!link.held) link.reset()
    }
    this.open()
  }

  /** Stops listening and resets every connection. */
  close(): Promise<void> {
    this.closed = true
    clearTimeout(this.timer)
    return this.endpoint.close()
  }
}
