// Writes the three report files side by side. Each file is written to a temporary name and
// renamed, so a run killed mid-write never leaves a truncated report.json for CI to choke on.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs'
import { mkdir, rename, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { renderHtml } from './html.ts'
import { renderJunit } from './junit.ts'
import type { RunReport } from './model.ts'

/** Absolute paths of the files {@link writeReport} wrote. */
export interface WrittenReport {
  json: string
  junit: string
  html: string
}

async function writeAtomic(path: string, content: string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`
  await writeFile(tmp, content, 'utf8')
  await rename(tmp, path)
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
  await Promise.all([
    writeAtomic(paths.json, `${JSON.stringify(report, null, 2)}\n`),
    writeAtomic(paths.junit, renderJunit(report)),
    writeAtomic(paths.html, renderHtml(report)),
  ])
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
  const files: [string, string][] = [
    [paths.json, `${JSON.stringify(report, null, 2)}\n`],
    [paths.junit, renderJunit(report)],
    [paths.html, renderHtml(report)],
  ]
  for (const [path, content] of files) {
    writeFileSync(`${path}.${process.pid}.tmp`, content, 'utf8')
    renameSync(`${path}.${process.pid}.tmp`, path)
  }
  return paths
}
