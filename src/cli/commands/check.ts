// `rig check`: run the health checks once (after a deployment, in CI, on a laptop) and exit
// 0 when everything passed or warned, 1 when something failed, 2 on a usage error.
import { CHECK_DEFAULTS } from '../../checks/config.ts'
import { CheckConfigError } from '../../checks/errors.ts'
import { FORMATS, formatReport, type FormatName } from '../../checks/format/index.ts'
import { prepareChecks } from '../../checks/prepare.ts'
import { runChecks } from '../../checks/runner.ts'
import type { CommandContext } from '../command.ts'
import { findChecksRoot } from '../../checks/root.ts'
import { projectRoot } from '../_context.ts'

/** Parses a positive whole number option, or throws a usage error naming it. */
export function positiveInt(value: unknown, option: string): number | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string' || !/^\d+$/.test(value) || Number(value) < 1) throw new CheckConfigError('RIG_CHECK_USAGE', `--${option} must be a whole number ≥ 1, got "${String(value)}"`)
  return Number(value)
}

/** The --tag values, split on commas too (`--tag smoke,db`). */
export function tagsOf(value: unknown): string[] {
  const list = Array.isArray(value) ? value : typeof value === 'string' ? [value] : []
  return list.flatMap((t) => String(t).split(',')).map((t) => t.trim()).filter(Boolean)
}

/** `rig check`: runs the health checks once and reports. */
export async function check({ values, out }: CommandContext): Promise<number> {
  const format = (values.json ? 'json' : (values.format ?? 'pretty')) as FormatName
  if (!FORMATS.includes(format)) throw new CheckConfigError('RIG_CHECK_USAGE', `unknown format "${String(values.format)}": use ${FORMATS.join(', ')}`)
  const concurrency = positiveInt(values.concurrency, 'concurrency')
  // --config names the project; otherwise the nearest rig.checks.ts or rig.config.ts wins.
  const root = values.config ? projectRoot(values.config as string) : findChecksRoot()
  const include = values.checks as string[] | undefined
  const { project, target } = await prepareChecks(root, { ...(include ? { include } : {}), ...(typeof values.target === 'string' ? { target: values.target } : {}) })
  if (values.list) {
    const rows = project.checks.map((c) => ({ name: c.name, tags: [...(c.options.tags ?? [])], file: c.file ?? null, ...(c.options.dependsOn ? { dependsOn: c.options.dependsOn } : {}) }))
    if (format === 'json') out.json(rows)
    else for (const r of rows) out.print(`${r.name}${r.tags.length ? out.s.dim(`  [${r.tags.join(', ')}]`) : ''}${r.file ? out.s.dim(`  ${r.file}`) : ''}`)
    return 0
  }
  if (target.source === 'rig-up' && format === 'pretty') out.info(out.e.dim('using the environment `rig up` runs here (RIG_* variables); pass --target to check another'))
  const config = project.config
  const report = await runChecks(project.checks, {
    tags: tagsOf(values.tag),
    concurrency: concurrency ?? config.concurrency,
    ...(config.defaultTimeout !== undefined ? { defaultTimeout: config.defaultTimeout } : {}),
    tiers: { ...(config.tiers ?? CHECK_DEFAULTS.tiers) },
    ...(target.name ? { target: target.name } : {}),
  })
  out.write(formatReport(report, format, out.s))
  return report.status === 'fail' ? 1 : 0
}
