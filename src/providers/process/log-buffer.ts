// Captures a process's stdout/stderr line by line: timestamped to a file, the last lines kept
// in memory for error messages, and streamed to listeners (log probes, per-test log scans).
import fs from 'node:fs'
import type { Readable } from 'node:stream'
import { openOwnFileForWriting } from '../../fs-safe/private-file.ts'

/** One captured line. */
export interface LogLine {
  /** Epoch ms. */
  at: number
  stream: 'stdout' | 'stderr' | 'rig'
  text: string
}

const KEEP = 1000

/** Formats a line the way log files and `rig logs` show it. */
export function formatLogLine(l: LogLine): string {
  return `${new Date(l.at).toISOString()} ${l.stream.padEnd(6)} ${l.text}`
}

/** Line-oriented log capture for one service. */
export class LogBuffer {
  readonly file: string
  private readonly lines: LogLine[] = []
  private readonly listeners = new Set<(l: LogLine) => void>()
  private fd: number | undefined
  /** Total lines ever written; a cursor for "lines since". */
  count = 0

  /** Starts `file` empty (never through a link, never another user's file). */
  constructor(file: string) {
    this.file = file
    // Written synchronously, line by line: a test that just got a response from a service
    // must find the line that service logged on the way already in the file.
    this.fd = openOwnFileForWriting(file, { truncate: true })
  }

  /** Reads `stream` line by line until it ends. */
  attach(stream: Readable, name: 'stdout' | 'stderr'): void {
    let partial = ''
    stream.setEncoding('utf8')
    stream.on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n')
      partial = parts.pop() ?? ''
      for (const p of parts) this.push(name, p.replace(/\r$/, ''))
    })
    stream.on('end', () => {
      if (partial) this.push(name, partial)
      partial = ''
    })
    stream.on('error', () => {})
  }

  /** Records a line; rig's own notes use stream `rig`. */
  push(stream: LogLine['stream'], text: string): void {
    const line: LogLine = { at: Date.now(), stream, text }
    this.lines.push(line)
    if (this.lines.length > KEEP) this.lines.splice(0, this.lines.length - KEEP)
    this.count++
    if (this.fd !== undefined) {
      try {
        fs.writeSync(this.fd, formatLogLine(line) + '\n')
      } catch {
        // a full disk must not break the service
      }
    }
    for (const l of this.listeners) l(line)
  }

  /** The last `n` lines (newest last). */
  tail(n = 20): LogLine[] {
    return this.lines.slice(-n)
  }

  /** Lines kept in memory as text; with `since` (a past {@link count}), only the lines written after it. */
  texts(since = 0): string[] {
    const skip = Math.max(0, this.lines.length - (this.count - since))
    return this.lines.slice(skip).map((l) => l.text)
  }

  /** Calls `fn` for each new line; returns the unsubscribe function. */
  onLine(fn: (l: LogLine) => void): () => void {
    this.listeners.add(fn)
    return () => this.listeners.delete(fn)
  }

  /** Closes the file; later lines are kept in memory only. */
  async close(): Promise<void> {
    if (this.fd === undefined) return
    fs.closeSync(this.fd)
    this.fd = undefined
  }
}
