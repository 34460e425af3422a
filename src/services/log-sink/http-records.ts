// The records of an HTTP request a log shipper sent: JSON lines (Fluent Bit's `json_lines`,
// Vector's `http` sink, pino/winston HTTP transports), a JSON array of records (Fluent Bit's
// `json`), one record (GELF over HTTP: `short_message`, `level`), or Loki's JSON push
// (`{ streams: [{ stream, values: [[ts, line]] }] }`).
import { IntakeRefusal } from '../intake/read-body.ts'

type Rec = Record<string, unknown>

const isRecord = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v)

/** Loki's push body as records: each line (a JSON record, or text) with its stream's labels. */
function lokiRecords(body: Rec): Rec[] | undefined {
  const streams = body.streams
  if (!Array.isArray(streams) || Object.keys(body).length !== 1) return undefined
  const out: Rec[] = []
  for (const s of streams) {
    if (!isRecord(s) || !Array.isArray(s.values)) throw new IntakeRefusal(400, 'malformed Loki push: every stream needs "values": [[timestamp, line], …]')
    const labels = isRecord(s.stream) ? s.stream : {}
    for (const v of s.values as unknown[]) {
      const line = Array.isArray(v) ? v[1] : undefined
      if (typeof line !== 'string') throw new IntakeRefusal(400, 'malformed Loki push: a value is not [timestamp, line]')
      let rec: Rec = { message: line }
      if (line.trimStart().startsWith('{')) {
        try {
          const parsed = JSON.parse(line) as unknown
          if (isRecord(parsed)) rec = parsed
        } catch {
          // a text line that starts with a brace
        }
      }
      out.push({ ...labels, ...rec })
    }
  }
  return out
}

/** The records of a body; throws a 400 {@link IntakeRefusal} that says which line is wrong. */
export function httpRecords(body: Buffer): Rec[] {
  const text = body.toString('utf8').replace(/^\uFEFF/, '').trim()
  if (text === '') return []
  let whole: unknown
  let parsedWhole = false
  try {
    whole = JSON.parse(text)
    parsedWhole = true
  } catch {
    // JSON lines, read one by one below
  }
  if (parsedWhole) {
    if (Array.isArray(whole)) {
      const bad = whole.findIndex((r) => !isRecord(r) && typeof r !== 'string')
      if (bad >= 0) throw new IntakeRefusal(400, `malformed records: item ${bad + 1} of the array is neither an object nor a string`)
      return whole.map((r) => (isRecord(r) ? r : { message: r }))
    }
    if (isRecord(whole)) return lokiRecords(whole) ?? [whole]
    throw new IntakeRefusal(400, 'malformed records: the body is JSON but neither an object nor an array of records')
  }
  const out: Rec[] = []
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').trim()
    if (line === '') continue
    let r: unknown
    try {
      r = JSON.parse(line)
    } catch (err) {
      throw new IntakeRefusal(400, `malformed records: line ${i + 1} is not JSON (${(err as Error).message}); send JSON lines, a JSON array of records, or syslog over TCP/UDP`)
    }
    if (!isRecord(r)) throw new IntakeRefusal(400, `malformed records: line ${i + 1} is not a JSON object`)
    out.push(r)
  }
  return out
}
