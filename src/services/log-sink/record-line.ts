// A structured log record as one line: its level (from whichever field the app's logger uses)
// first, so the per-test scan fails a test on `error` and `fatal` records, then the message and
// the record's other fields, e.g. `error payment failed {"order":7,"err":{"type":"TypeError",…}}`.

/** Levels of a line, as the log scan reads them. */
export type Level = 'fatal' | 'error' | 'warning' | 'info' | 'debug'

const WORDS: Record<string, Level> = {
  fatal: 'fatal', panic: 'fatal', emerg: 'fatal', emergency: 'fatal', alert: 'fatal', crit: 'fatal', critical: 'fatal',
  error: 'error', err: 'error', severe: 'error',
  warn: 'warning', warning: 'warning',
  notice: 'info', info: 'info', information: 'info', informational: 'info',
  debug: 'debug', trace: 'debug', verbose: 'debug', fine: 'debug', finer: 'debug', finest: 'debug', silly: 'debug',
}

/** Syslog severities 0–7 (RFC 5424), also GELF's `level`. */
export function syslogLevel(severity: number): Level {
  return severity <= 2 ? 'fatal' : severity === 3 ? 'error' : severity === 4 ? 'warning' : severity <= 6 ? 'info' : 'debug'
}

/** A level from a field's value: a word (any case), a syslog severity (0–7) or a pino/bunyan number (10–60). */
export function levelOf(v: unknown): Level | undefined {
  if (typeof v === 'string') {
    const w = v.trim().toLowerCase()
    if (/^\d+$/.test(w)) return levelOf(Number(w))
    return WORDS[w]
  }
  if (typeof v === 'number' && Number.isFinite(v)) {
    if (v >= 0 && v <= 7) return syslogLevel(v)
    // pino and bunyan: 10 trace, 20 debug, 30 info, 40 warn, 50 error, 60 fatal.
    return v >= 60 ? 'fatal' : v >= 50 ? 'error' : v >= 40 ? 'warning' : v >= 30 ? 'info' : 'debug'
  }
  return undefined
}

// Where loggers put the level and the message: pino/bunyan/winston `level`/`msg`/`message`,
// GCP `severity`, Python `levelname`, ECS `log.level`, GELF `level`/`short_message`, Serilog `@l`/`@m`.
const LEVEL_KEYS = ['level', 'severity', 'levelname', 'log.level', 'lvl', '@l', 'loglevel', 'log_level']
const MESSAGE_KEYS = ['msg', 'message', 'short_message', '@m', '@message', 'text', 'full_message']

function field(r: Record<string, unknown>, key: string): unknown {
  if (Object.hasOwn(r, key)) return r[key]
  // ECS nests: { log: { level } }.
  const dot = key.indexOf('.')
  if (dot > 0) {
    const outer = r[key.slice(0, dot)]
    if (typeof outer === 'object' && outer !== null) return (outer as Record<string, unknown>)[key.slice(dot + 1)]
  }
  return undefined
}

// Fields every record carries that say nothing about this one.
const NOISE = new Set(['time', 'timestamp', '@timestamp', '@t', 'ts', 'pid', 'hostname', 'host', 'v', 'version', '_id'])

/**
 * The line for one record. `fallback`: the level when the record has none (a syslog message's
 * severity; `info` for a plain record).
 */
export function recordLine(r: Record<string, unknown>, fallback: Level = 'info'): string {
  let level: Level | undefined
  let levelKey: string | undefined
  for (const k of LEVEL_KEYS) {
    level = levelOf(field(r, k))
    if (level) {
      levelKey = k
      break
    }
  }
  const messageKey = MESSAGE_KEYS.find((k) => typeof r[k] === 'string')
  const rest: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(r)) if (k !== messageKey && k !== levelKey && !NOISE.has(k) && !(levelKey === 'log.level' && k === 'log')) rest[k] = v
  const parts: string[] = [level ?? fallback]
  if (messageKey) parts.push(r[messageKey] as string)
  if (Object.keys(rest).length > 0) parts.push(JSON.stringify(rest))
  return parts.join(' ')
}
