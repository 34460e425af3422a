// What Sentry SDKs send, parsed: an envelope (`/api/<project>/envelope/`: a JSON header line,
// then items, each a JSON header line and a payload of `length` bytes or up to the next
// newline) or a legacy store request (`/api/<project>/store/`: one event as JSON, from old SDKs
// also base64 of zlib data).
import zlib from 'node:zlib'
import { IntakeRefusal } from '../intake/read-body.ts'

/** A Sentry event, as far as rig reads it. */
export interface SentryEvent {
  event_id?: string
  level?: string
  message?: string | { formatted?: string; message?: string }
  logentry?: { formatted?: string; message?: string }
  exception?: { values?: SentryException[] } | SentryException[]
  release?: string
  environment?: string
  transaction?: string
  sdk?: { name?: string; version?: string }
}

/** One exception of an event; the last of `values` is the one raised. */
export interface SentryException {
  type?: string
  value?: string
  stacktrace?: { frames?: SentryFrame[] }
}

/** A stack frame, oldest call first. */
export interface SentryFrame {
  function?: string
  module?: string
  filename?: string
  abs_path?: string
  lineno?: number
  colno?: number
  in_app?: boolean
}

/** What a request carried. */
export interface Parsed {
  /** The envelope header's `dsn`, when it has one. */
  dsn?: string
  /** Events (error events; not transactions, sessions or other items). */
  events: SentryEvent[]
  /** Items of other types (transactions, sessions, client reports, attachments…), by type. */
  other: Record<string, number>
}

const malformed = (reason: string): IntakeRefusal => new IntakeRefusal(400, `malformed envelope: ${reason}`)

function json(text: string, what: string): unknown {
  try {
    return JSON.parse(text)
  } catch (err) {
    throw malformed(`${what} is not JSON (${(err as Error).message})`)
  }
}

function object(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw malformed(`${what} is not a JSON object`)
  return v as Record<string, unknown>
}

const NL = 0x0a

/** Parses an envelope; throws a 400 {@link IntakeRefusal} saying where it is malformed. */
export function parseEnvelope(body: Buffer): Parsed {
  let pos = body.indexOf(NL)
  const headerEnd = pos < 0 ? body.length : pos
  if (headerEnd === 0) throw malformed('empty, or no envelope header on the first line')
  const header = object(json(body.subarray(0, headerEnd).toString('utf8'), 'the envelope header (first line)'), 'the envelope header (first line)')
  const out: Parsed = { events: [], other: Object.create(null) as Record<string, number> }
  if (typeof header.dsn === 'string') out.dsn = header.dsn
  pos = headerEnd + 1
  for (let n = 1; pos < body.length; n++) {
    // Blank lines between items are tolerated, as by Sentry's own parser.
    if (body[pos] === NL) {
      pos++
      continue
    }
    const lineEnd = body.indexOf(NL, pos)
    if (lineEnd < 0) throw malformed(`item ${n} has a header but no payload`)
    const item = object(json(body.subarray(pos, lineEnd).toString('utf8'), `item ${n}'s header`), `item ${n}'s header`)
    pos = lineEnd + 1
    const type = item.type
    if (typeof type !== 'string' || type === '') throw malformed(`item ${n}'s header has no "type"`)
    let payload: Buffer
    if (item.length !== undefined) {
      const length = item.length
      if (typeof length !== 'number' || !Number.isInteger(length) || length < 0) throw malformed(`item ${n}'s "length" is not a byte count: ${JSON.stringify(length)}`)
      if (pos + length > body.length) throw malformed(`item ${n} says "length": ${length} but only ${body.length - pos} bytes follow`)
      payload = body.subarray(pos, pos + length)
      pos += length
      if (pos < body.length && body[pos] === NL) pos++
    } else {
      const end = body.indexOf(NL, pos)
      payload = body.subarray(pos, end < 0 ? body.length : end)
      pos = end < 0 ? body.length : end + 1
    }
    if (type === 'event') out.events.push(object(json(payload.toString('utf8'), `item ${n}'s event`), `item ${n}'s event`) as SentryEvent)
    else out.other[type] = (out.other[type] ?? 0) + 1
  }
  return out
}

/** Parses a store request: JSON, or (from old SDKs) base64 of zlib-compressed JSON. */
export function parseStore(body: Buffer, maxBytes: number): Parsed {
  let text = body.toString('utf8').trim()
  if (text !== '' && !text.startsWith('{') && /^[A-Za-z0-9+/=\s]+$/.test(text)) {
    try {
      text = zlib.inflateSync(Buffer.from(text, 'base64'), { maxOutputLength: maxBytes }).toString('utf8')
    } catch {
      throw new IntakeRefusal(400, 'malformed event: not JSON, nor base64 of zlib data')
    }
  }
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch (err) {
    throw new IntakeRefusal(400, `malformed event: not JSON (${(err as Error).message})`)
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new IntakeRefusal(400, 'malformed event: not a JSON object')
  return { events: [v as SentryEvent], other: {} }
}
