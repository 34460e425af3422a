// Finding the run reports a matrix is built from, and the matrix page a variant's run keeps up
// to date beside its report (`rig-report/what-is-tested.html` next to `rig-report/<variant>/`).
import fs from 'node:fs'
import path from 'node:path'
import { writePrivateFile } from '../fs-safe/private-file.ts'
import type { RunReport } from '../report/model.ts'
import { renderMatrixHtml } from './html.ts'
import { buildMatrix, variantOf, type Matrix } from './matrix.ts'

/** The page's name beside the variants' report directories. */
export const MATRIX_PAGE = 'what-is-tested.html'

/** The report.json files under `dir`: its own and one per subdirectory (one per variant), sorted. */
export function reportsUnder(dir: string): string[] {
  const found: string[] = []
  if (fs.existsSync(path.join(dir, 'report.json'))) found.push(path.join(dir, 'report.json'))
  let entries: fs.Dirent[] = []
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true })
  } catch {
    return found
  }
  for (const e of entries) if (e.isDirectory() && fs.existsSync(path.join(dir, e.name, 'report.json'))) found.push(path.join(dir, e.name, 'report.json'))
  return found.sort()
}

/** Writes the matrix page `file`, each variant's column linked to the HTML report beside its report.json. */
export function writeMatrixPage(file: string, matrix: Matrix, reports: readonly RunReport[], sources: readonly string[]): void {
  const links: Record<string, string> = {}
  reports.forEach((r, i) => {
    const page = path.join(path.dirname(path.resolve(sources[i] ?? '')), 'index.html')
    if (fs.existsSync(page)) links[variantOf(r)] ??= path.relative(path.dirname(file), page).split(path.sep).join('/')
  })
  fs.mkdirSync(path.dirname(file), { recursive: true })
  writePrivateFile(file, renderMatrixHtml(matrix, links), 0o644)
}

/**
 * Whether a report written to `dir` has the variant layout (`<parent>/<variant>/`), where the
 * run keeps `<parent>/what-is-tested.html` up to date.
 */
export const hasVariantLayout = (report: Pick<RunReport, 'variant'>, dir: string): boolean => report.variant !== undefined && path.basename(path.resolve(dir)) === report.variant

/**
 * After a variant's report was written to `<parent>/<variant>/`: the matrix page of every
 * variant report in `<parent>`, this one included. Reports that do not read are left out.
 */
export function refreshMatrixPage(dir: string): string {
  const parent = path.dirname(path.resolve(dir))
  const sources = reportsUnder(parent).filter((f) => path.dirname(f) !== parent)
  const read: { report: RunReport; source: string }[] = []
  for (const source of sources) {
    try {
      const report = JSON.parse(fs.readFileSync(source, 'utf8')) as RunReport
      if (Array.isArray(report.tests) && report.variant !== undefined) read.push({ report, source })
    } catch {
      // a half-written or foreign report.json: not part of the page
    }
  }
  const file = path.join(parent, MATRIX_PAGE)
  writeMatrixPage(
    file,
    buildMatrix(read.map((r) => r.report)),
    read.map((r) => r.report),
    read.map((r) => r.source),
  )
  return file
}
