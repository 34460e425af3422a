// One direction of a proxied connection: bytes from `src` to `dst`, straight through when no
// fault shapes them, otherwise queued with the time each may leave (latency, jitter, bandwidth)
// and held back entirely while the link is stalled. Order is always kept, and a full queue
// or a slow reader pauses the source, so TCP's own flow control does the rest.
import type net from 'node:net'
import type { Effect } from './effect.ts'

/** What a flow asks of the connection it belongs to. */
export interface FlowOwner {
  readonly effect: Effect
  /** How many of `n` bytes may still pass before the connection must close (closeAfter). */
  allow(n: number): number
  /** The byte budget is spent: close the connection once what was allowed went out. */
  cut(): void
}

/** Above this many queued bytes the source is paused; below LOW it reads again. */
const HIGH = 1 << 20
const LOW = 1 << 18

interface Item {
  buf: Buffer | undefined
  at: number
}

/** A direction of a link. `downstream`: from the service back to its client (latency applies). */
export class Flow {
  private readonly queue: Item[] = []
  private queued = 0
  private lastAt = 0
  private busyUntil = 0
  private timer: NodeJS.Timeout | undefined
  private waitingDrain = false
  private srcEnded = false
  private stalled = false
  private done = false

  private readonly src: net.Socket
  private readonly dst: net.Socket
  private readonly owner: FlowOwner
  private readonly downstream: boolean

  constructor(src: net.Socket, dst: net.Socket, owner: FlowOwner, downstream: boolean) {
    this.src = src
    this.dst = dst
    this.owner = owner
    this.downstream = downstream
  }

  /** Begins reading `src`. */
  start(): void {
    this.src.on('data', (chunk: Buffer) => this.onData(chunk))
    this.src.on('end', () => {
      this.srcEnded = true
      this.pump()
    })
    this.maybeResume()
  }

  /** Stops (or restarts) every byte in this direction. */
  setStalled(stalled: boolean): void {
    if (stalled === this.stalled) return
    this.stalled = stalled
    if (stalled) {
      this.src.pause()
      clearTimeout(this.timer)
      this.timer = undefined
    } else {
      this.pump()
    }
  }

  /** Stops for good (the link is closing). */
  stop(): void {
    this.done = true
    clearTimeout(this.timer)
    this.timer = undefined
  }

  private onData(chunk: Buffer): void {
    if (this.done) return
    const allowed = this.owner.allow(chunk.length)
    const last = allowed < chunk.length
    if (last) {
      chunk = chunk.subarray(0, allowed)
      this.src.pause()
      this.done = true
    }
    const e = this.owner.effect
    const shaped = (this.downstream && (e.latency > 0 || e.jitter > 0)) || e.bandwidth > 0
    if (!shaped && this.queue.length === 0 && !this.stalled) {
      if (chunk.length > 0 && !this.dst.write(chunk)) this.awaitDrain()
      if (last) this.owner.cut()
      return
    }
    const now = performance.now()
    let at = now
    if (this.downstream && (e.latency > 0 || e.jitter > 0)) at += Math.max(0, e.latency + (Math.random() * 2 - 1) * e.jitter)
    at = Math.max(at, this.lastAt)
    if (e.bandwidth > 0) {
      // Small pieces, so a limited stream arrives steadily rather than in bursts per chunk.
      const piece = Math.max(1, Math.min(16_384, Math.floor(e.bandwidth / 50)))
      for (let i = 0; i < chunk.length; i += piece) {
        const b = chunk.subarray(i, i + piece)
        const end = Math.max(at, this.busyUntil) + (b.length * 1000) / e.bandwidth
        this.busyUntil = end
        this.push(b, end)
      }
    } else if (chunk.length > 0) {
      this.push(chunk, at)
    }
    if (last) this.push(undefined, this.lastAt)
    if (this.queued > HIGH) this.src.pause()
    this.pump()
  }

  private push(buf: Buffer | undefined, at: number): void {
    this.queue.push({ buf, at })
    this.queued += buf?.length ?? 0
    this.lastAt = at
  }

  private awaitDrain(): void {
    this.waitingDrain = true
    this.src.pause()
    this.dst.once('drain', () => {
      this.waitingDrain = false
      this.pump()
    })
  }

  private pump(): void {
    if (this.timer) {
      clearTimeout(this.timer)
      this.timer = undefined
    }
    while (this.queue.length > 0 && !this.stalled && !this.waitingDrain) {
      const item = this.queue[0] as Item
      const wait = item.at - performance.now()
      if (wait > 0.5) {
        this.timer = setTimeout(() => {
          this.timer = undefined
          this.pump()
        }, wait)
        return
      }
      this.queue.shift()
      if (!item.buf) return this.owner.cut()
      this.queued -= item.buf.length
      if (!this.dst.write(item.buf)) this.awaitDrain()
    }
    if (this.queue.length === 0 && this.srcEnded && !this.stalled && !this.dst.writableEnded) this.dst.end()
    this.maybeResume()
  }

  private maybeResume(): void {
    if (!this.stalled && !this.waitingDrain && !this.srcEnded && !this.done && this.queued < LOW) this.src.resume()
  }
}
