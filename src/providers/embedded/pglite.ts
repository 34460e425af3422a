// Launches the embedded PGlite server when no PostgreSQL binary is installed.
import { createRequire } from 'node:module'
import { moduleFile } from '../../module-file.ts'
import type { LogBuffer } from '../process/log-buffer.ts'
import { ManagedProcess } from '../process/managed-process.ts'

/** True when the PGlite packages can be loaded from the project or from rig's install. */
export function pgliteAvailable(): boolean {
  for (const base of [`${process.cwd()}/`, import.meta.url]) {
    try {
      const req = createRequire(base)
      req.resolve('@electric-sql/pglite')
      req.resolve('@electric-sql/pglite-socket')
      return true
    } catch {
      // try the next base
    }
  }
  return false
}

/** Starts `pglite-server.ts` as a child process on `port`, keeping data in `dataDir`. */
export function launchPglite(port: number, dataDir: string, logs: LogBuffer): ManagedProcess {
  const script = moduleFile(import.meta.url, './pglite-server.ts')
  return new ManagedProcess({ command: process.execPath, args: ['--no-warnings', script, String(port), dataDir], stopSignal: 'SIGTERM', stopGraceMs: 3000 }, logs)
}
