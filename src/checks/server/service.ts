// The server's memory: the last result of every check with its age, refreshed by one shared
// run at a time. Requests read fresh results, join the run in flight for stale ones, and stop
// waiting at their deadline with the unfinished checks marked as timed out.
import type { CheckDefinition } from '../check.ts'
import type { CheckResult } from '../result.ts'
import { runChecks, type RunOptions } from '../runner.ts'
import { selectChecks, validateGraph } from '../select.ts'

/** A result as the server shows it: with its age. */
export interface ServedResult extends CheckResult {
  /** ms since the check finished; 0 for one marked as timed out by the request deadline. */
  ageMs: number
}

/** Options of {@link CheckService}. */
export interface CheckServiceOptions extends Pick<RunOptions, 'concurrency' | 'defaultTimeout' | 'tiers' | 'target'> {
  /** How long a result is reused, in ms (a check's own `ttl` wins). */
  ttl: number
}

/** Why a check must not run from HTTP, or undefined. */
export function refusedOverHttp(c: CheckDefinition): string | undefined {
  if (c.options.writes) return 'not run over HTTP: it writes (run it with rig check)'
  if (c.options.expensive) return 'not run over HTTP: it is expensive (run it with rig check)'
  return undefined
}

/** What {@link CheckService.results} answers. */
export interface ServedResults {
  results: ServedResult[]
  /** Some checks were still running at the deadline (they show as timed out). */
  partial: boolean
  /** {@link CheckService.generation} when these results were read. */
  generation: number
  /**
   * `performance.now()` until which every result stays within its TTL, so that an answer
   * rendered from them holds while the generation is unchanged; -Infinity when partial.
   */
  freshUntil: number
}

/** Tag selections remembered; past this, the memo starts over (query strings are the client's). */
const SELECTIONS_KEPT = 64

/** Cached, shared, deadline-bounded check runs for `rig serve`. */
export class CheckService {
  readonly checks: readonly CheckDefinition[]
  private readonly options: CheckServiceOptions
  private readonly latest = new Map<string, { result: CheckResult; at: number }>()
  private readonly ttls: ReadonlyMap<string, number>
  private readonly selections = new Map<string, string[]>()
  private inflight: Promise<void> | undefined
  private waiters = new Set<() => void>()
  /** Number of refresh runs started so far. */
  runs = 0
  /** Bumped by every result that arrives: an answer rendered at one generation holds until the next. */
  generation = 0

  constructor(checks: readonly CheckDefinition[], options: CheckServiceOptions) {
    validateGraph(checks)
    this.checks = checks
    this.options = options
    this.ttls = new Map(checks.map((c) => [c.name, c.options.ttl ?? options.ttl]))
  }

  private ttlOf(name: string): number {
    return this.ttls.get(name) ?? this.options.ttl
  }

  /** The cached result of `name` if within its TTL, or if it finished after `since` (so a TTL of 0 still answers). */
  private fresh(name: string, now = performance.now(), since = Infinity): CheckResult | undefined {
    const e = this.latest.get(name)
    return e && (now - e.at <= this.ttlOf(name) || e.at >= since) ? e.result : undefined
  }

  /** Starts a refresh of the stale checks unless one is running; resolves when it ends. */
  refresh(): Promise<void> {
    this.inflight ??= (async () => {
      this.runs++
      const known = new Map<string, CheckResult>()
      for (const c of this.checks) {
        const r = this.fresh(c.name)
        if (r) known.set(c.name, r)
      }
      try {
        await runChecks(this.checks, {
          ...this.options,
          known,
          refuse: refusedOverHttp,
          onResult: (r) => {
            this.latest.set(r.name, { result: r, at: performance.now() })
            this.generation++
            this.wake()
          },
        })
      } finally {
        this.inflight = undefined
        this.wake()
      }
    })()
    return this.inflight
  }

  private wake(): void {
    const w = this.waiters
    this.waiters = new Set()
    for (const f of w) f()
  }

  /** Validates `tags` and returns the names they select (throws CheckConfigError on an unknown tag). */
  select(tags: readonly string[]): readonly string[] {
    const key = tags.join('\n')
    let names = this.selections.get(key)
    if (!names) {
      names = selectChecks(this.checks, tags).map((c) => c.name)
      if (this.selections.size >= SELECTIONS_KEPT) this.selections.clear()
      this.selections.set(key, names)
    }
    return names
  }

  /** When the last result of `name` arrived (`performance.now()` time), NaN if none has. */
  finishedAt(name: string): number {
    return this.latest.get(name)?.at ?? Number.NaN
  }

  /** When the first of `names` leaves its TTL (`performance.now()` time); -Infinity if one has no result. */
  private freshUntil(names: readonly string[]): number {
    let until = Infinity
    for (const n of names) {
      const e = this.latest.get(n)
      if (!e) return -Infinity
      until = Math.min(until, e.at + this.ttlOf(n))
    }
    return until
  }

  /**
   * Results of the checks selected by `tags`, waiting at most `deadlineMs` for stale ones.
   * `partial` is true when some were still running at the deadline.
   */
  async results(tags: readonly string[], deadlineMs: number): Promise<ServedResults> {
    const names = this.select(tags)
    const start = performance.now()
    const end = start + deadlineMs
    // The deadline's timer is only armed when something is missing: warm requests wait for nothing.
    let timer: NodeJS.Timeout | undefined
    let deadline: Promise<void> | undefined
    try {
      while (!names.every((n) => this.fresh(n, performance.now(), start)) && performance.now() < end) {
        deadline ??= new Promise<void>((r) => (timer = setTimeout(r, deadlineMs)))
        const progressed = new Promise<void>((r) => this.waiters.add(r))
        // Every waiter joins the same run: `refresh` starts one only when none is in flight.
        void this.refresh().catch(() => {})
        await Promise.race([progressed, deadline])
      }
    } finally {
      clearTimeout(timer)
    }
    const now = performance.now()
    let partial = false
    const results = names.map((n): ServedResult => {
      const r = this.fresh(n, now, start)
      if (r) return { ...r, ageMs: Math.round(now - (this.latest.get(n)?.at ?? now)) }
      partial = true
      const c = this.checks.find((k) => k.name === n)
      return { name: n, status: 'fail', reason: 'timeout', detail: `still running at the request deadline of ${deadlineMs} ms`, durationMs: deadlineMs, time: new Date().toISOString(), tags: [...(c?.options.tags ?? [])], ageMs: 0 }
    })
    return { results, partial, generation: this.generation, freshUntil: partial ? -Infinity : this.freshUntil(names) }
  }
}
