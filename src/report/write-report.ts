// Writes the three report files side by side. Each file is written to a fresh temporary name
// (opened exclusively, never through a link: rig may run as root in a shared directory) and
// renamed, so a run killed mid-write never leaves a truncated report.json for CI to choke on.
import { mkdirSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { boundReport } from './bound.ts'
import { renderHtml } from './html.ts'
import { renderJunit } from './junit.ts'
import type { RunReport } from './model.ts'
import { writePrivateFile } from '../fs-safe/private-file.ts'
import { hasVariantLayout, MATRIX_PAGE, refreshMatrixPage } from '../matrix/reports.ts'

/** Absolute paths of the files {@link writeReport} wrote. */
export interface WrittenReport {
  json: string
  junit: string
  html: string
}

/**
 * report.json: the top level indented, one test per line, so a large run stays small and
 * `grep` finds a test's whole entry.
 */
export function renderJson(report: RunReport): string {
  const { tests, ...rest } = report
  const head = JSON.stringify({ ...rest, tests: [] }, null, 2).replace(/\n {2}"tests": \[\]\n\}$/, '')
  const body = tests.map((t) => `    ${JSON.stringify(t)}`).join(',\n')
  return `${head}\n  "tests": [${tests.length > 0 ? `\n${body}\n  ` : ''}]\n}\n`
}

/** The three files' contents, from the bounded report (see {@link boundReport}); `variantLayout`: the page links the matrix beside. */
function render(report: RunReport, variantLayout: boolean): { json: string; junit: string; html: string } {
  const bounded = boundReport(report)
  return { json: renderJson(bounded), junit: renderJunit(bounded), html: renderHtml(bounded, variantLayout ? { matrix: `../${MATRIX_PAGE}` } : {}) }
}

/**
 * A variant's report in `<parent>/<variant>/` refreshes `<parent>/what-is-tested.html`, the
 * tests × variants page its HTML report links to. A page that cannot be written never costs
 * the report itself.
 */
function afterWrite(variantLayout: boolean, root: string): void {
  if (!variantLayout) return
  try {
    refreshMatrixPage(root)
  } catch (err) {
    process.stderr.write(`rig: could not write ${join(root, '..', MATRIX_PAGE)}: ${(err as Error).message} (npx rig matrix --html writes it from the reports)\n`)
  }
}

async function writeAtomic(path: string, content: string): Promise<void> {
  // Reports are meant to be read (CI uploads them): 0644, still written without following links.
  writePrivateFile(path, content, 0o644)
}

/**
 * Write `report.json`, `junit.xml` and `index.html` into `dir` (created if missing).
 *
 * @example
 * ```ts
 * const { html } = await writeReport(report)
 * console.log(`Report: ${pathToFileURL(html)}`)
 * ```
 */
export async function writeReport(report: RunReport, dir = 'rig-report'): Promise<WrittenReport> {
  const root = resolve(dir)
  await mkdir(root, { recursive: true })
  const paths: WrittenReport = { json: join(root, 'report.json'), junit: join(root, 'junit.xml'), html: join(root, 'index.html') }
  const layout = hasVariantLayout(report, root)
  const out = render(report, layout)
  await Promise.all([writeAtomic(paths.json, out.json), writeAtomic(paths.junit, out.junit), writeAtomic(paths.html, out.html)])
  afterWrite(layout, root)
  return paths
}

/**
 * The same, synchronously: for a signal handler that must finish before the process exits
 * (Vitest exits right after Ctrl-C).
 */
export function writeReportSync(report: RunReport, dir = 'rig-report'): WrittenReport {
  const root = resolve(dir)
  mkdirSync(root, { recursive: true })
  const paths: WrittenReport = { json: join(root, 'report.json'), junit: join(root, 'junit.xml'), html: join(root, 'index.html') }
  const layout = hasVariantLayout(report, root)
  const out = render(report, layout)
  const files: [string, string][] = [
    [paths.json, out.json],
    [paths.junit, out.junit],
    [paths.html, out.html],
  ]
  for (const [path, content] of files) writePrivateFile(path, content, 0o644)
  afterWrite(layout, root)
  return paths
}
