// `rig matrix`: the Markdown "what is tested" (tests × variants) from run reports, written for
// the team to commit, or checked against the committed file in CI.
import fs from 'node:fs'
import path from 'node:path'
import { RigError } from '../../errors.ts'
import { writePrivateFile } from '../../fs-safe/private-file.ts'
import { buildMatrix, renderMatrix } from '../../matrix/matrix.ts'
import { reportsUnder, writeMatrixPage } from '../../matrix/reports.ts'
import type { RunReport } from '../../report/model.ts'
import { readReportAt } from '../../shard/merge-reports.ts'
import type { CommandContext } from '../command.ts'
import { projectRoot } from '../_context.ts'

/** Variant names in rig.config.ts's order, when the config loads. */
async function configOrder(configOption: string | undefined): Promise<string[]> {
  try {
    const { loadConfig } = await import('../../config/load-config.ts')
    return Object.keys((await loadConfig(configOption, undefined, '')).config.variants ?? {})
  } catch {
    return []
  }
}

/** Writes `text` to `file` through a temp name renamed over it (a link there is replaced, not followed). */
function writeFileSafely(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true })
  writePrivateFile(file, text, 0o644)
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
    writeMatrixPage(page, built, reports, sources)
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
