// An event as one log line: its level first (what the log scan matches), the exception raised
// (type and value), the message, the top frames of its stack and its id, e.g.
// `error TypeError: boom at handler (/app/server.js:12:5) < route (/app/server.js:30:3) [event 4f2a9c01]`.
import type { SentryEvent, SentryException, SentryFrame } from './envelope.ts'

const LEVELS = new Set(['fatal', 'error', 'warning', 'info', 'debug'])

function text(v: unknown): string | undefined {
  if (typeof v === 'string') return v
  if (typeof v === 'object' && v !== null) {
    const o = v as { formatted?: unknown; message?: unknown }
    return typeof o.formatted === 'string' ? o.formatted : typeof o.message === 'string' ? o.message : undefined
  }
  return undefined
}

function exceptions(e: SentryEvent): SentryException[] {
  const x = e.exception
  const list = Array.isArray(x) ? x : Array.isArray(x?.values) ? x.values : []
  return list.filter((v): v is SentryException => typeof v === 'object' && v !== null)
}

function frame(f: SentryFrame): string {
  const where = [f.filename ?? f.abs_path ?? f.module, f.lineno, f.colno].filter((p) => p !== undefined && p !== null).join(':')
  return f.function ? `${f.function} (${where || '?'})` : where || '?'
}

/** The top frames of a stack (the innermost call first), the app's own ones when it says which. */
export function topFrames(frames: readonly SentryFrame[] | undefined, n = 3): string[] {
  const list = (frames ?? []).filter((f): f is SentryFrame => typeof f === 'object' && f !== null)
  const app = list.filter((f) => f.in_app === true)
  return (app.length > 0 ? app : list).slice(-n).reverse().map(frame)
}

/**
 * The line for one event, beginning with its level as the app gave it (`fatal`, `error`,
 * `warning`, `info`, `debug`); `error` when it gave none, as Sentry takes it (SDKs send
 * `captureException` at `error`).
 */
export function eventLine(e: SentryEvent): string {
  const given = typeof e.level === 'string' ? e.level.toLowerCase() : 'error'
  const level = LEVELS.has(given) ? given : given === 'warn' ? 'warning' : 'error'
  const raised = exceptions(e).at(-1)
  const parts: string[] = [level]
  if (raised) parts.push(raised.type && raised.value ? `${raised.type}: ${raised.value}` : (raised.type ?? raised.value ?? 'exception'))
  const message = text(e.logentry) ?? text(e.message)
  if (message && !(raised?.value && message.includes(raised.value))) parts.push(raised ? `(message: ${message})` : message)
  if (!raised && !message) parts.push(e.transaction ? `event in ${e.transaction}` : 'event with no message')
  const frames = topFrames(raised?.stacktrace?.frames)
  if (frames.length > 0) parts.push(`at ${frames.join(' < ')}`)
  const id = typeof e.event_id === 'string' ? e.event_id.slice(0, 8) : undefined
  const tags = [id && `event ${id}`, typeof e.environment === 'string' && `environment ${e.environment}`, typeof e.release === 'string' && `release ${e.release}`].filter(Boolean)
  if (tags.length > 0) parts.push(`[${tags.join(', ')}]`)
  return parts.join(' ')
}
