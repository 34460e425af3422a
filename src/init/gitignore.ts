// What rig writes into a project and nobody should commit: `.rig/` (state and logs of `rig up`)
// and `rig-report/` (each run's report).
import path from 'node:path'
import { readProjectFile, writeProjectFile } from './write-file.ts'

/** Entries rig adds to .gitignore. */
export const IGNORED = ['.rig/', 'rig-report/']

/** Adds the missing {@link IGNORED} entries to the project's .gitignore (created if absent); returns those added. */
export function ignoreRigFiles(dir: string): string[] {
  const file = path.join(dir, '.gitignore')
  const text = readProjectFile(file) ?? ''
  const present = new Set(text.split('\n').map((l) => l.trim().replace(/^\//, '').replace(/\/$/, '')))
  const missing = IGNORED.filter((e) => !present.has(e.replace(/\/$/, '')))
  if (missing.length === 0) return []
  const sep = text === '' || text.endsWith('\n') ? '' : '\n'
  writeProjectFile(file, `${text}${sep}${text === '' ? '' : '\n'}# testrig: state of \`rig up\`, run reports\n${missing.join('\n')}\n`, { replace: true })
  return missing
}
