// The server side every intake endpoint shares (sentry(), logSink()): records become lines
// within a budget per second, refusals are answered with their reason and counted, drops are
// told at most once a second, and the counts are served and told once more at the stop.
import type http from 'node:http'
import { Budget } from './budget.ts'
import { emitLine } from './emit-line.ts'

/** Counts served at `GET /stats`. */
export interface IntakeStats {
  /** Records (events, log records) written as lines. */
  accepted: number
  /** Records and refusals over the budget: counted, not written. */
  dropped: number
  /** Requests refused (malformed, wrong project or key, too large). */
  rejected: number
  /** Refusals by HTTP status. */
  byStatus: Record<string, number>
}

const CORS = { 'access-control-allow-origin': '*', 'access-control-allow-headers': 'content-type, content-encoding, x-sentry-auth, sentry-trace, baggage', 'access-control-expose-headers': 'x-sentry-rate-limits, retry-after' }

/** Answers JSON, with CORS headers (browser SDKs and shippers of a front end under test). */
export function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { ...CORS, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers })
  res.end(text)
}

/** Answers a CORS preflight. */
export function sendPreflight(res: http.ServerResponse): void {
  res.writeHead(204, { ...CORS, 'access-control-allow-methods': 'POST, GET, OPTIONS' })
  res.end()
}

/** One endpoint's budget and counts. */
export class Intake<S extends IntakeStats = IntakeStats> {
  readonly stats: S
  private readonly budget: Budget
  private readonly noun: string
  private readonly option: string

  /** `noun`: what a record is called in messages (`event`); `option`: the option that raises the limit. */
  constructor(perSecond: number, noun: string, option: string, extra: Omit<S, keyof IntakeStats>) {
    this.budget = new Budget(perSecond)
    this.noun = noun
    this.option = option
    this.stats = { accepted: 0, dropped: 0, rejected: 0, byStatus: {}, ...extra } as S
  }

  /** Writes one record's line; false (and counted) over the budget. */
  accept(line: string): boolean {
    const ok = this.budget.take()
    if (ok) {
      this.stats.accepted++
      emitLine(line)
    }
    this.stats.dropped = this.budget.dropped
    return ok
  }

  /** Counts a refused request and writes its `error rejected …` line (within the same budget: garbage in a loop is a flood too). */
  reject(status: number, what: string, reason: string): void {
    this.stats.rejected++
    this.stats.byStatus[status] = (this.stats.byStatus[status] ?? 0) + 1
    if (this.budget.take()) emitLine(`error rejected ${what} (${status}): ${reason}`)
    this.stats.dropped = this.budget.dropped
    this.tell()
  }

  /** Tells the drops not yet told, at most once a second (the first at once). */
  tell(): void {
    const n = this.budget.note()
    if (n) emitLine(`error dropped ${n[0]} ${this.noun}(s) over the limit of ${this.budget.perSecond} a second (${n[1]} so far): the app sends them in a loop; fix it, or raise ${this.option}`)
  }

  /** Tells drops every second, and the counts when the process is asked to stop. */
  run(close: () => void): void {
    setInterval(() => this.tell(), 1000).unref()
    const stop = (): void => {
      this.tell()
      emitLine(`info stopping: ${this.stats.accepted} ${this.noun}(s) accepted, ${this.stats.dropped} dropped, ${this.stats.rejected} rejected`)
      close()
      process.exit(0)
    }
    process.on('SIGTERM', stop)
    process.on('SIGINT', stop)
  }
}
