// Why a config file did not load, with the place to fix: file:line:col and a code frame.
// Node puts the location of a TypeScript syntax error in the stack's first lines (an "arrow"
// with a caret), and that of a runtime error in a stack frame; for a JavaScript syntax error in
// an imported module it keeps it to itself, so `node --check` is asked.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import { fileURLToPath } from 'node:url'

/** A place in a source file; line and column start at 1. */
export interface SourceLocation {
  file: string
  line: number
  column: number
}

const toPath = (p: string): string => (p.startsWith('file://') ? fileURLToPath(p) : p)

/** Reads Node's syntax "arrow": `file:LINE`, source lines, then a line of carets under the culprit. */
function fromArrow(text: string): SourceLocation | undefined {
  const head = /^(file:\/\/\S+|\/\S+?):(\d+)\n/.exec(text)
  if (!head?.[1] || !head[2]) return undefined
  const lines = text.slice(head[0].length).split('\n')
  const caret = lines.findIndex((l) => /^\s*\^+\s*$/.test(l))
  const column = caret > 0 ? (lines[caret] as string).indexOf('^') + 1 : 1
  return { file: toPath(head[1]), line: Number(head[2]), column }
}

/** The first stack frame in `file`, for errors thrown while the config runs. */
function fromStack(stack: string, file: string): SourceLocation | undefined {
  for (const m of stack.matchAll(/\(?((?:file:\/\/)?\/[^\s():]+):(\d+):(\d+)\)?$/gm)) {
    if (m[1] && toPath(m[1]) === file) return { file, line: Number(m[2]), column: Number(m[3]) }
  }
  return undefined
}

/** Where `err` points in the config `file` (or a module it imports), when Node says. */
export function locateLoadError(err: unknown, file: string): SourceLocation | undefined {
  const stack = err instanceof Error ? (err.stack ?? '') : ''
  const arrow = fromArrow(stack)
  if (arrow) return arrow
  if (err instanceof SyntaxError) {
    const check = spawnSync(process.execPath, ['--check', file], { encoding: 'utf8', timeout: 10_000 })
    const found = fromArrow(check.stderr ?? '')
    if (found) return found
  }
  return fromStack(stack, file)
}

/** `context` lines either side of the location, numbered, with a caret under the column. */
export function codeFrame(loc: SourceLocation, context = 2): string {
  let source: string
  try {
    source = fs.readFileSync(loc.file, 'utf8')
  } catch {
    return ''
  }
  const lines = source.replace(/\r?\n$/, '').split(/\r?\n/)
  const from = Math.max(1, loc.line - context)
  const to = Math.min(lines.length, loc.line + context)
  const width = String(to).length
  const out: string[] = []
  for (let n = from; n <= to; n++) {
    const text = (lines[n - 1] ?? '').replace(/\t/g, '  ')
    out.push(`  ${n === loc.line ? '>' : ' '} ${String(n).padStart(width)} | ${text}`.trimEnd())
    if (n === loc.line) out.push(`    ${' '.repeat(width)} | ${' '.repeat(Math.max(0, loc.column - 1))}^`)
  }
  return out.join('\n')
}

/** The message for a config that failed to import: what Node said, where, and the code there. */
export function describeLoadError(err: unknown, file: string): string {
  const e = err instanceof Error ? err : new Error(String(err))
  const kind = e.name && e.name !== 'Error' ? `${e.name}: ` : ''
  const loc = locateLoadError(err, file)
  if (!loc) return `could not load ${file}: ${kind}${e.message}`
  const frame = codeFrame(loc)
  return `could not load ${file}: ${kind}${e.message}\n  at ${loc.file}:${loc.line}:${loc.column}${frame ? `\n\n${frame}` : ''}`
}
