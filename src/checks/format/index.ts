// Output formats of a check report, by name.
import type { CheckReport } from '../result.ts'
import { formatJson, formatJunit, formatTap } from './machine.ts'
import { formatPretty, type Paint } from './pretty.ts'

/** The formats `rig check --format` accepts. */
export const FORMATS = ['pretty', 'json', 'junit', 'tap'] as const

/** One of {@link FORMATS}. */
export type FormatName = (typeof FORMATS)[number]

/** Renders `report` in `format`. */
export function formatReport(report: CheckReport, format: FormatName, paint?: Paint): string {
  switch (format) {
    case 'json':
      return formatJson(report)
    case 'junit':
      return formatJunit(report)
    case 'tap':
      return formatTap(report)
    default:
      return formatPretty(report, paint)
  }
}

export { formatJson, formatJunit, formatTap, formatPretty, type Paint }
