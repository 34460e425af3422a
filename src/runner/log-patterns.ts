// Log lines as patterns: the allowed lines of the options (`logs.allow`, `logs.allowIn`) sent to
// workers as RegExp sources, and the other way round the unexpected lines of a run grouped by
// a pattern that matches all their variants (numbers, ids and generated names replaced), with
// the options that would allow them.
import fs from 'node:fs'
import path from 'node:path'
import { RigError } from '../errors.ts'

/** A RegExp that can travel to a worker. */
export interface PatternSource {
  source: string
  flags: string
}

/** Patterns per service. */
export type ServicePatterns = Record<string, PatternSource[]>

/** The allowed lines of some test files: a file, or a directory (`dir`) and everything below it. */
export interface FileAllow {
  /** Absolute path. */
  path: string
  dir: boolean
  allow: ServicePatterns
}

/** What a worker needs to tell allowed lines. */
export interface LogAllow {
  allow: ServicePatterns
  allowIn: FileAllow[]
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')

/** A string matches as a substring; a RegExp as it is (without `g`, which would make `test` stateful). */
export function toSource(p: string | RegExp): PatternSource {
  const r = typeof p === 'string' ? new RegExp(escape(p)) : p
  return { source: r.source, flags: r.flags.replace(/[gy]/g, '') }
}

function servicePatterns(where: string, given: Record<string, (string | RegExp)[]>, services: readonly string[]): ServicePatterns {
  const out: ServicePatterns = Object.create(null) as ServicePatterns
  for (const [name, list] of Object.entries(given)) {
    if (!services.includes(name)) throw new RigError('RIG_OPTION_INVALID', `${where} names service "${name}", which rig.config.ts does not define (services: ${services.join(', ') || 'none'})`, { exitCode: 2 })
    if (!Array.isArray(list) || !list.every((p) => typeof p === 'string' || p instanceof RegExp)) {
      throw new RigError('RIG_OPTION_INVALID', `${where}.${name} must be a list of strings and regular expressions, e.g. { ${name}: [/duplicate key/, 'already exists'] }`, { exitCode: 2 })
    }
    out[name] = list.map(toSource)
  }
  return out
}

/** Checks and converts `logs.allow` and `logs.allowIn`: services must exist, files must exist (relative to `root`). */
export function resolveLogAllow(o: { allow: Record<string, (string | RegExp)[]>; allowIn: Record<string, Record<string, (string | RegExp)[]>> }, services: readonly string[], root: string): LogAllow {
  const allowIn: FileAllow[] = []
  for (const [file, given] of Object.entries(o.allowIn)) {
    const abs = path.resolve(root, file)
    const stat = fs.statSync(abs, { throwIfNoEntry: false })
    if (!stat) throw new RigError('RIG_OPTION_INVALID', `logs.allowIn: no file or directory "${file}" (paths are relative to ${root}), e.g. { 'test/reconnect.test.ts': { db: [/terminating connection/] } }`, { exitCode: 2 })
    allowIn.push({ path: abs, dir: stat.isDirectory(), allow: servicePatterns(`logs.allowIn['${file}']`, given, services) })
  }
  return { allow: servicePatterns('logs.allow', o.allow, services), allowIn }
}

/** A predicate for the lines allowed in `file` (absolute path). */
export function allowedIn(a: LogAllow | undefined, file: string): (service: string, line: string) => boolean {
  if (!a) return () => false
  const lists = [a.allow, ...a.allowIn.filter((f) => (f.dir ? file.startsWith(f.path + path.sep) : file === f.path)).map((f) => f.allow)]
  const compiled = new Map<string, RegExp[]>()
  for (const l of lists) for (const [s, ps] of Object.entries(l)) compiled.set(s, [...(compiled.get(s) ?? []), ...ps.map((p) => new RegExp(p.source, p.flags))])
  return (service, line) => compiled.get(service)?.some((r) => r.test(line)) ?? false
}

// Parts of a line that change from one occurrence to the next.
const VARIABLE = /([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})|("[^"\n]*\d[^"\n]*")|('[^'\n]*\d[^'\n]*')|(\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{8,}\b)|(\d+)/gi

/**
 * A pattern matching `line` and its variants: from where the service's error pattern matched
 * (PostgreSQL's prefix of time, pid and database is left out), numbers, ids and quoted names
 * that hold a number replaced.
 */
export function linePattern(line: string, errorPatterns: readonly PatternSource[]): string {
  let start = line.length
  for (const p of errorPatterns) {
    const m = new RegExp(p.source, p.flags).exec(line)
    if (m && m.index < start) start = m.index
  }
  const text = (start < line.length ? line.slice(start) : line).trim().slice(0, 200)
  let out = ''
  let last = 0
  for (const m of text.matchAll(VARIABLE)) {
    out += escape(text.slice(last, m.index))
    out += m[1] ? '[0-9a-f-]+' : m[2] ? '"[^"]*"' : m[3] ? "'[^']*'" : m[4] ? '[0-9a-f]+' : '\\d+'
    last = m.index + m[0].length
  }
  return out + escape(text.slice(last))
}

/** Unexpected lines of a run that share a pattern. */
export interface LineGroup {
  service: string
  pattern: string
  example: string
  count: number
  tests: Set<string>
  files: Set<string>
}

/** Groups unexpected lines by service and pattern, most frequent first. */
export function groupLines(lines: Iterable<{ service: string; line: string; test: string; file: string }>, errorPatterns: (service: string) => readonly PatternSource[]): LineGroup[] {
  const groups = new Map<string, LineGroup>()
  for (const l of lines) {
    const pattern = linePattern(l.line, errorPatterns(l.service))
    const key = `${l.service}\0${pattern}`
    let g = groups.get(key)
    if (!g) groups.set(key, (g = { service: l.service, pattern, example: l.line, count: 0, tests: new Set(), files: new Set() }))
    g.count++
    g.tests.add(l.test)
    g.files.add(l.file)
  }
  return [...groups.values()].sort((a, b) => b.count - a.count || b.tests.size - a.tests.size)
}

const quoteKey = (k: string): string => (/^[A-Za-z_$][\w$]*$/.test(k) ? k : `'${k.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`)

/** The `logs` options that allow `groups`: in one file's `allowIn` when all its lines came from one file, else in `allow`. */
export function allowSnippet(groups: readonly LineGroup[]): string {
  const allow = new Map<string, string[]>()
  const allowIn = new Map<string, Map<string, string[]>>()
  for (const g of groups) {
    const re = `/${g.pattern}/`
    if (g.files.size === 1) {
      const file = [...g.files][0] as string
      const m = allowIn.get(file) ?? new Map<string, string[]>()
      allowIn.set(file, m)
      m.set(g.service, [...(m.get(g.service) ?? []), re])
    } else allow.set(g.service, [...(allow.get(g.service) ?? []), re])
  }
  const services = (m: Map<string, string[]>): string => `{ ${[...m].map(([s, rs]) => `${quoteKey(s)}: [${rs.join(', ')}]`).join(', ')} }`
  const parts: string[] = []
  if (allow.size > 0) parts.push(`    allow: ${services(allow)},`)
  if (allowIn.size > 0) parts.push(`    allowIn: {\n${[...allowIn].map(([f, m]) => `      ${quoteKey(f)}: ${services(m)},`).join('\n')}\n    },`)
  return `  logs: {\n${parts.join('\n')}\n  },`
}
