// Why a process could not be started, in words: Node reports a missing working directory as
// "spawn /bin/sh ENOENT", which reads as if the shell were missing.
import fs from 'node:fs'
import path from 'node:path'
import type { SpawnSpec } from './managed-process.ts'

function statOf(p: string): fs.Stats | undefined {
  try {
    return fs.statSync(p)
  } catch {
    return undefined
  }
}

/** One sentence saying what kept `spec` from starting, from the OS error and a look at the paths. */
export function explainSpawnError(spec: Pick<SpawnSpec, 'command' | 'cwd' | 'user'>, error: NodeJS.ErrnoException): string {
  const code = error.code ?? ''
  const asUser = spec.user ? ` for user ${spec.user.name}` : ''
  if (spec.cwd !== undefined) {
    const cwd = statOf(spec.cwd)
    if (!cwd) return `its working directory ${spec.cwd} does not exist (\`cwd\` is relative to the config file)`
    if (!cwd.isDirectory()) return `its working directory ${spec.cwd} is not a directory`
  }
  const hasSlash = spec.command.includes('/')
  const target = hasSlash ? statOf(path.resolve(spec.cwd ?? '.', spec.command)) : undefined
  if (code === 'ENOENT') return hasSlash ? `${spec.command} does not exist` : `\`${spec.command}\` was not found on PATH`
  if (code === 'EACCES' || code === 'EPERM') {
    if (target?.isDirectory()) return `${spec.command} is a directory, not a program`
    if (target) return `${spec.command} is not executable${asUser} (chmod +x ${spec.command}), or a directory on its path is not searchable`
    return `permission denied${asUser} running ${spec.command}${spec.cwd ? ` in ${spec.cwd}` : ''}`
  }
  if (code === 'ENOTDIR') return `a part of the path of ${spec.command}${spec.cwd ? ` or of ${spec.cwd}` : ''} is not a directory`
  if (code === 'E2BIG') return 'its arguments and environment are too large for the OS'
  return error.message
}
