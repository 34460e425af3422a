// The warm path of `rig serve`: a monitor asks for the same URL again and again while the
// results stay the same. Each `GET /health` answer is kept, as bytes (status only) or as the
// rendered body cut where each check's age goes (details), with its headers, until a new
// result arrives or one of its results leaves its TTL; a request for a URL already answered then
// costs no selection, no rendering and no serialisation.
import type http from 'node:http'
import { healthJson } from './render.ts'
import type { ServedResults } from './service.ts'

/** Headers every answer of the check server carries besides its type and length. */
export const COMMON_HEADERS = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' } as const

/** URLs remembered; past this, the memo starts over (URLs are the client's to choose). */
const URLS_KEPT = 32

/** The access level of a request: status only, or details. */
export type Access = 'detail' | 'status'

/** One `GET /health` answer, replayable while its results hold. */
export class PreparedHealth {
  private readonly code: number
  private readonly typeHeaders: string[]
  /** The body's pieces as bytes, between which the ages go (one piece when there are none). */
  private readonly pieces: Buffer[]
  /** When each check of the answer finished (`performance.now()` time), in the order its age appears. */
  private readonly finishedAt: number[]
  /** The ages in the body last rendered: requests in the same millisecond get the same bytes. */
  private readonly ages: number[]
  private body: Buffer | undefined
  private headers: string[] = []
  readonly generation: number
  readonly freshUntil: number

  constructor(served: ServedResults, detailed: boolean, finishedAt: (name: string) => number) {
    const { results, partial } = served
    // Each age is rendered as a marker no real age can be (negative, and right after the
    // `"ageMs": ` key, which an escaped string cannot contain), then cut out.
    const marked = results.map((r, i) => ({ ...r, ageMs: Number(`-${i + 1}e-300`) }))
    const body = healthJson(marked, detailed, partial)
    const parts = JSON.stringify(body, null, 2).split(/(?<="ageMs": )-(\d+)e-300/)
    this.pieces = parts.filter((_, k) => k % 2 === 0).map((p) => Buffer.from(p))
    this.finishedAt = parts.filter((_, k) => k % 2 === 1).map((i) => finishedAt((results[Number(i) - 1] as { name: string }).name))
    this.ages = this.finishedAt.map(() => -1)
    this.code = body.status === 'fail' ? 503 : 200
    this.typeHeaders = Object.entries({ 'content-type': 'application/health+json', ...COMMON_HEADERS }).flat()
    this.generation = served.generation
    this.freshUntil = served.freshUntil
  }

  /** Writes the answer, with ages as of `now` when it has any. */
  send(res: http.ServerResponse, head: boolean, now: number): void {
    let changed = this.body === undefined
    for (let i = 0; i < this.ages.length; i++) {
      const age = Math.round(now - (this.finishedAt[i] as number))
      if (age !== this.ages[i]) {
        this.ages[i] = age
        changed = true
      }
    }
    if (changed) this.render()
    res.writeHead(this.code, this.headers)
    res.end(head ? undefined : this.body)
  }

  /** Assembles the body with the current ages, as bytes (the ages are ASCII digits), and its headers. */
  private render(): void {
    const ages = this.ages.map(String)
    let bytes = 0
    for (const p of this.pieces) bytes += p.length
    for (const a of ages) bytes += a.length
    // A new buffer each time: the previous one may still be queued on a socket.
    const body = Buffer.allocUnsafe(bytes)
    let at = (this.pieces[0] as Buffer).copy(body, 0)
    for (let i = 0; i < ages.length; i++) {
      at += body.write(ages[i] as string, at, 'latin1')
      at += (this.pieces[i + 1] as Buffer).copy(body, at)
    }
    this.body = body
    this.headers = [...this.typeHeaders, 'content-length', String(bytes)]
  }
}

/** The prepared answers by request URL and access level. */
export class PreparedAnswers {
  private readonly byUrl = new Map<string, Partial<Record<Access, PreparedHealth>>>()

  /** Whether `url` was answered before (its query was valid). */
  knows(url: string): boolean {
    return this.byUrl.has(url)
  }

  /** The answer to replay for `url` at `access`, if its results still hold at `generation` and `now`. */
  get(url: string, access: Access, generation: number, now: number): PreparedHealth | undefined {
    const a = this.byUrl.get(url)?.[access]
    return a && a.generation === generation && now <= a.freshUntil ? a : undefined
  }

  /** Remembers `answer` for `url` (a URL whose query was valid) at `access`. */
  set(url: string, access: Access, answer: PreparedHealth): void {
    let entry = this.byUrl.get(url)
    if (!entry) {
      if (this.byUrl.size >= URLS_KEPT) this.byUrl.clear()
      this.byUrl.set(url, (entry = {}))
    }
    entry[access] = answer
  }
}
