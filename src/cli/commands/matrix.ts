// `rig matrix`: the Markdown "what is tested" (tests × variants) from run reports, written for
// the team to commit, or checked against the committed file in CI.
import fs from 'node:fs'
import path from 'node:path'
import { RigError } from '../../errors.ts'
import { renderMatrixHtml } from '../../matrix/html.ts'
import { buildMatrix, renderMatrix, variantOf } from '../../matrix/matrix.ts'
import type { RunReport } from '../../report/model.ts'
import { readReportAt } from '../../shard/merge-reports.ts'
import type { CommandContext } from '../command.ts'
import { projectRoot } from '../_context.ts'

/** The reports under `dir`: its own report.json and one per variant subdirectory. */
function reportsUnder(dir: string): string[] {
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

/** Variant names in rig.config.ts's order, when the config loads. */
async function configOrder(configOption: string | undefined): Promise<string[]> {
  try {
    const { loadConfig } = await import('../../config/load-config.ts')
    return Object.keys((await loadConfig(configOption)).config.variants ?? {})
  } catch {
    return []
  }
}

/** Writes `text` to `file` through a temp name renamed over it (a link there is replaced, not followed). */
function writeFileSafely(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true })
  const tmp = `${file}.${process.pid}.tmp`
  fs.writeFileSync(tmp, text, { flag: 'wx' })
  fs.renameSync(tmp, file)
}

/** Writes the HTML page to `file`, each variant's column linked to its index.html (the HTML report next to its report.json). */
function writeHtml(file: string, built: ReturnType<typeof buildMatrix>, reports: readonly RunReport[], sources: readonly string[]): void {
  const links: Record<string, string> = {}
  reports.forEach((r, i) => {
    const page = path.join(path.dirname(path.resolve(sources[i] ?? '')), 'index.html')
    if (fs.existsSync(page)) links[variantOf(r)] ??= path.relative(path.dirname(file), page).split(path.sep).join('/')
  })
  writeFileSafely(file, renderMatrixHtml(built, links))
}

/** `rig matrix [REPORT...] [--out FILE] [--html FILE] [--check]`. */
export async function matrix({ values, positionals, out }: CommandContext): Promise<number> {
  const root = projectRoot(values.config as string | undefined)
  const sources = positionals.length > 0 ? positionals.flatMap((p) => (fs.existsSync(p) && fs.statSync(p).isDirectory() && !fs.existsSync(path.join(p, 'report.json')) ? reportsUnder(p) : [p])) : reportsUnder(path.join(root, 'rig-report'))
  if (sources.length === 0) throw new RigError('RIG_MATRIX_NO_REPORTS', `no run reports in ${positionals.join(', ') || path.join(root, 'rig-report')}: run the suite (npx vitest run; once per variant: RIG_VARIANT=NAME npx vitest run) or name the report directories`, { exitCode: 2 })
  const reports: RunReport[] = sources.map(readReportAt)
  const built = buildMatrix(reports, await configOrder(values.config as string | undefined))
  const text = renderMatrix(built)
  const file = path.resolve(root, (values.out as string | undefined) ?? 'what-is-tested.md')
  const shown = path.relative(process.cwd(), file) || file
  if (values.html) {
    const page = path.resolve(root, values.html as string)
    writeHtml(page, built, reports, sources)
    out.print(`${path.relative(process.cwd(), page) || page}: the same matrix as a page (failing tests first, each variant linked to its report)`)
  }
  if (values.check) {
    const committed = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined
    if (committed === text) {
      out.print(`${shown} is up to date (${reports.length} report(s))`)
      return 0
    }
    const was = new Set((committed ?? '').split('\n').filter((l) => l.startsWith('| ')))
    const now = new Set(text.split('\n').filter((l) => l.startsWith('| ')))
    const gone = [...was].filter((l) => !now.has(l))
    const added = [...now].filter((l) => !was.has(l))
    out.error(`${shown} is ${committed === undefined ? 'missing' : 'stale'}: run npx rig matrix${values.out ? ` --out ${values.out as string}` : ''} and commit it`)
    for (const l of gone.slice(0, 10)) out.info(`  - ${l}`)
    for (const l of added.slice(0, 10)) out.info(`  + ${l}`)
    if (gone.length + added.length > 20) out.info(`  … ${gone.length + added.length - 20} more changed lines`)
    return 1
  }
  if (values.stdout) out.write(text)
  else {
    writeFileSafely(file, text)
    out.print(`${shown}: ${text.split('\n').filter((l) => l.startsWith('| ')).length - 1} tests from ${reports.length} report(s)`)
  }
  return 0
}
