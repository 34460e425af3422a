// Syslog messages (RFC 5424 and the older BSD form, RFC 3164) as lines: the severity of the
// PRI part is the level, the app name tags the message; a message that is itself a JSON record
// (a JSON logger behind syslog) is read as one, its own level first.
import { recordLine, syslogLevel, type Level } from './record-line.ts'

const RFC5424 = /^<(\d{1,3})>1 (\S+) (\S+) (\S+) (\S+) (\S+) (-|(?:\[(?:[^\]\\]|\\.)*\])+)(?: (.*))?$/s
const RFC3164 = /^<(\d{1,3})>(?:[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d |\S+T\S+ )?(?:(\S+) )?([^:[\s]+)(?:\[(\d+)\])?: ?(.*)$/s

/** One syslog message as a line, or undefined when it is not syslog (no `<PRI>`). */
export function syslogLine(message: string): string | undefined {
  const text = message.replace(/^\uFEFF/, '').replace(/\r?\n$/, '')
  let pri: number
  let app: string | undefined
  let msg: string
  const a = RFC5424.exec(text)
  if (a) {
    pri = Number(a[1])
    app = a[4] === '-' ? undefined : a[4]
    msg = (a[8] ?? '').replace(/^\uFEFF/, '')
  } else {
    const b = RFC3164.exec(text)
    if (b) {
      pri = Number(b[1])
      app = b[3]
      msg = b[5] ?? ''
    } else {
      const c = /^<(\d{1,3})>(.*)$/s.exec(text)
      if (!c) return undefined
      pri = Number(c[1])
      msg = c[2] ?? ''
    }
  }
  if (pri > 191) return undefined
  const level: Level = syslogLevel(pri % 8)
  const trimmed = msg.trim()
  if (trimmed.startsWith('{')) {
    try {
      const r = JSON.parse(trimmed) as unknown
      if (typeof r === 'object' && r !== null && !Array.isArray(r)) return recordLine(app ? { app, ...(r as Record<string, unknown>) } : (r as Record<string, unknown>), level)
    } catch {
      // not JSON after all: a plain message
    }
  }
  return `${level} ${app ? `${app}: ` : ''}${msg}`
}
