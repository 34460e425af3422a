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
  private readonly headers: string[]
  /** The body's pieces, between which the ages go (one piece when there are none). */
  private readonly pieces: string[]
  /** Bytes of all pieces together. */
  private readonly piecesBytes: number
  /** When each check of the answer finished (`performance.now()` time), in the order its age appears. */
  private readonly finishedAt: number[]
  /** Set when the body has no ages: the answer's bytes, ready to send. */
  private readonly bytes: Buffer | undefined
  readonly generation: number
  readonly freshUntil: number

  constructor(served: ServedResults, detailed: boolean, finishedAt: (name: string) => number) {
    const { results, partial } = served
    // Each age is rendered as a marker no real age can be (negative, and right after the
    // `"ageMs": ` key, which an escaped string cannot contain), then cut out.
    const marked = results.map((r, i) => ({ ...r, ageMs: Number(`-${i + 1}e-300`) }))
    const body = healthJson(marked, detailed, partial)
    const parts = JSON.stringify(body, null, 2).split(/(?<="ageMs": )-(\d+)e-300/)
    this.pieces = parts.filter((_, k) => k % 2 === 0)
    this.finishedAt = parts.filter((_, k) => k % 2 === 1).map((i) => finishedAt((results[Number(i) - 1] as { name: string }).name))
    this.piecesBytes = this.pieces.reduce((n, p) => n + Buffer.byteLength(p), 0)
    this.code = body.status === 'fail' ? 503 : 200
    this.bytes = this.pieces.length === 1 ? Buffer.from(this.pieces[0] as string) : undefined
    const headers: Record<string, string> = { 'content-type': 'application/health+json', ...COMMON_HEADERS }
    this.headers = Object.entries(headers).flat()
    if (this.bytes) this.headers.push('content-length', String(this.bytes.length))
    this.generation = served.generation
    this.freshUntil = served.freshUntil
  }

  /** Writes the answer, with ages as of `now` when it has any. */
  send(res: http.ServerResponse, head: boolean, now: number): void {
    if (this.bytes) {
      res.writeHead(this.code, this.headers)
      res.end(head ? undefined : this.bytes)
      return
    }
    let body = this.pieces[0] as string
    let bytes = this.piecesBytes
    for (let i = 0; i < this.finishedAt.length; i++) {
      const age = String(Math.round(now - (this.finishedAt[i] as number)))
      bytes += age.length
      body += age + (this.pieces[i + 1] as string)
    }
    res.writeHead(this.code, [...this.headers, 'content-length', String(bytes)])
    res.end(head ? undefined : body)
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
