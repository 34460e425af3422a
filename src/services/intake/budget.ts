// How much a flood may cost: a token bucket of items per second (a burst of one second's worth),
// and a count of what it turned away, told at most once a second so the note itself stays bounded.

/** A rate limit with its drop count. */
export class Budget {
  private tokens: number
  private last: number
  /** Items turned away since the start. */
  dropped = 0
  private droppedAtNote = 0
  private lastNote = -Infinity
  readonly perSecond: number
  private readonly now: () => number

  constructor(perSecond: number, now: () => number = () => performance.now()) {
    this.perSecond = perSecond
    this.tokens = perSecond
    this.now = now
    this.last = now()
  }

  /** Takes one item's worth; false (and counted) when over the limit. */
  take(): boolean {
    const t = this.now()
    this.tokens = Math.min(this.perSecond, this.tokens + ((t - this.last) / 1000) * this.perSecond)
    this.last = t
    if (this.tokens >= 1) {
      this.tokens -= 1
      return true
    }
    this.dropped++
    return false
  }

  /**
   * The drops not yet told, when there are any and the last note is a second old (the first
   * drop is told at once): `[new, total]`.
   */
  note(): [number, number] | undefined {
    const fresh = this.dropped - this.droppedAtNote
    const t = this.now()
    if (fresh === 0 || t - this.lastNote < 1000) return undefined
    this.lastNote = t
    this.droppedAtNote = this.dropped
    return [fresh, this.dropped]
  }

  /** Drops still untold (at the end). */
  untold(): number {
    return this.dropped - this.droppedAtNote
  }
}
