// One proxied connection: the client's socket, the one rig opens to the service, and a flow
// each way. It connects upstream only when nothing holds it back (a hold, a stall), applies
// every change of the faults in force at once, and closes both sides together.
import net from 'node:net'
import { CLEAN, type Effect } from './effect.ts'
import { Flow, type FlowOwner } from './flow.ts'

/** Where a link connects, and what it tells when it is gone. */
export interface LinkHost {
  target(): { host: string; port: number }
  forget(link: Link): void
  /**
   * The service refused the connection before anything moved. True: the link waits, held,
   * for `release()` (an address that follows a master holds while a new one is promoted);
   * false or absent: the client is reset.
   */
  upstreamFailed?(link: Link): boolean
}

function reset(s: net.Socket | undefined): void {
  if (!s || s.destroyed) return
  try {
    s.resetAndDestroy()
  } catch {
    // not connected yet: nothing to reset, just close
    s.destroy()
  }
}

/** A client connection and its upstream twin. */
export class Link implements FlowOwner {
  effect: Effect = CLEAN
  /** Accepted while the proxy held new connections: waits for `release()`. */
  held = false
  /** Where its upstream connection goes (set once it connects). */
  to: { host: string; port: number } | undefined
  private upstream: net.Socket | undefined
  private flows: Flow[] = []
  private budget: number | undefined
  private stallTimer: NodeJS.Timeout | undefined
  private closed = false

  readonly client: net.Socket
  private readonly host: LinkHost

  constructor(client: net.Socket, host: LinkHost) {
    this.client = client
    this.host = host
    client.on('error', () => this.close(true))
    client.on('close', () => this.close(false))
  }

  /** Starts the link under `effect`; `held` while the proxy holds new connections. */
  begin(effect: Effect, held: boolean): void {
    this.held = held
    this.apply(effect)
  }

  /** Applies the faults in force now (also to a link that is already open). */
  apply(effect: Effect): void {
    if (this.closed) return
    const before = this.effect
    this.effect = effect
    if (effect.reset) return this.reset()
    if (effect.closeAfter !== before.closeAfter || this.budget === undefined) this.budget = effect.closeAfter
    if (this.budget === 0) return this.cut()
    for (const f of this.flows) f.setStalled(effect.stall)
    if (effect.stall && effect.stallCloseMs !== undefined) {
      this.stallTimer ??= setTimeout(() => this.cut(), effect.stallCloseMs)
    } else if (this.stallTimer) {
      clearTimeout(this.stallTimer)
      this.stallTimer = undefined
    }
    this.maybeConnect()
  }

  /** The proxy stopped holding new connections. */
  release(): void {
    this.held = false
    this.maybeConnect()
  }

  allow(n: number): number {
    if (this.budget === undefined) return n
    const a = Math.min(n, this.budget)
    this.budget -= a
    return a
  }

  /** Closes both sides: the client sees the connection end (after what was already sent). */
  cut(): void {
    if (this.closed) return
    for (const f of this.flows) f.stop()
    this.client.destroySoon()
    this.upstream?.destroy()
    this.close(false)
  }

  /** Whether both sides are closed. */
  get done(): boolean {
    return this.closed
  }

  /** Resets both sides (RST). */
  reset(): void {
    if (this.closed) return
    reset(this.client)
    reset(this.upstream)
    this.close(true)
  }

  private maybeConnect(): void {
    if (this.upstream || this.held || this.effect.stall || this.closed) return
    const { host, port } = this.host.target()
    this.to = { host, port }
    const up = net.connect({ host, port, allowHalfOpen: true, noDelay: true })
    this.upstream = up
    up.on('connect', () => {
      if (this.closed) return
      this.flows = [new Flow(this.client, up, this, false), new Flow(up, this.client, this, true)]
      for (const f of this.flows) {
        f.setStalled(this.effect.stall)
        f.start()
      }
    })
    // The service refused or dropped the connection: the client learns it as abruptly, unless
    // nothing moved yet and the host would rather hold it.
    up.on('error', () => {
      if (this.flows.length === 0 && !this.closed && this.host.upstreamFailed?.(this)) {
        up.destroy()
        this.upstream = undefined
        this.held = true
        return
      }
      this.reset()
    })
    up.on('close', () => {
      if (this.upstream === up && !this.client.writableEnded && this.flows.length === 0) this.reset()
    })
  }

  private close(hard: boolean): void {
    if (this.closed) return
    this.closed = true
    clearTimeout(this.stallTimer)
    for (const f of this.flows) f.stop()
    if (hard) {
      reset(this.client)
      reset(this.upstream)
    } else {
      // The client went away (or was cut, and ends once its last bytes are out).
      this.upstream?.destroy()
    }
    this.host.forget(this)
  }
}
