// Per-test log scan: the lines each service wrote between a test's start and end that match
// its error patterns. The node side writes every line to the service's log file as soon as
// it arrives, so a worker reads the files from the offsets it noted at the test's start.
import fs from 'node:fs'
import type { LogErrorEntry } from '../report/model.ts'
import type { ProvidedService } from './provided.ts'
import { workerUrl } from './worker.ts'

/** Byte offsets of each service's log file. */
export type LogOffsets = Map<string, number>

/** Notes where each log file ends now. */
export function logOffsets(services: readonly ProvidedService[]): LogOffsets {
  const m: LogOffsets = new Map()
  for (const s of services) m.set(s.name, fs.statSync(s.logFile, { throwIfNoEntry: false })?.size ?? 0)
  return m
}

/** The text of `file` from byte `offset` to byte `end` (its size now when not given). */
function readFrom(file: string, offset: number, end?: number): string {
  let fd: number
  try {
    fd = fs.openSync(file, 'r')
  } catch {
    return ''
  }
  try {
    const size = end ?? fs.fstatSync(fd).size
    if (size <= offset) return ''
    const buf = Buffer.alloc(size - offset)
    const n = fs.readSync(fd, buf, 0, buf.length, offset)
    return buf.toString('utf8', 0, n)
  } finally {
    fs.closeSync(fd)
  }
}

/** What service `s` wrote since `offsets`, up to `end` (rig's own notes left out; on a server shared by parallel workers, only this worker's lines). */
function linesSince(s: ProvidedService, offsets: LogOffsets, end?: number): string[] {
  const own = s.workerUrls ? `@${decodeURIComponent(new URL(workerUrl(s)).pathname.slice(1))} ` : undefined
  const out: string[] = []
  for (const raw of readFrom(s.logFile, offsets.get(s.name) ?? 0, end).split('\n')) {
    // Log file lines are `<ISO time> <stream> <text>`; rig's own notes are not the service's.
    const m = /^\S+ (stdout|stderr|rig)\s+(.*)$/.exec(raw)
    if (!m || m[1] === 'rig') continue
    const text = m[2] ?? ''
    if (own && !text.includes(own)) continue
    out.push(text)
  }
  return out
}

/** Each service's lines written since `offsets`, read once (a file that did not grow is not read). */
export type NewLines = Map<string, string[]>

/**
 * Reads what every service wrote since `offsets`, up to `ends` (where each log file ended when
 * the environment's host answered: what it wrote later belongs to no test) or to where it ends now.
 */
export function linesWritten(services: readonly ProvidedService[], offsets: LogOffsets, ends?: LogOffsets): NewLines {
  const now = ends ?? logOffsets(services)
  return new Map(services.map((s) => [s.name, (now.get(s.name) ?? 0) > (offsets.get(s.name) ?? 0) ? linesSince(s, offsets, ends?.get(s.name)) : []]))
}

/** Error lines among `written`; `expected` marks the ones the test declared (the caller marks those the options allow). */
export function scanLogs(services: readonly ProvidedService[], written: NewLines, expected: readonly { service: string; pattern: RegExp }[]): LogErrorEntry[] {
  const found: LogErrorEntry[] = []
  for (const s of services) {
    if (s.errorPatterns.length === 0) continue
    const patterns = s.errorPatterns.map((p) => new RegExp(p.source, p.flags))
    for (const text of written.get(s.name) ?? []) {
      if (!patterns.some((p) => p.test(text))) continue
      found.push({ service: s.name, line: text, expected: expected.some((e) => e.service === s.name && e.pattern.test(text)) })
    }
  }
  return found
}

/** The last `n` lines of a log file, for "service died" messages. */
export function logTail(file: string, n = 20): string[] {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-n)
  } catch {
    return []
  }
}
