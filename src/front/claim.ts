// One running project per name: `<name>.localhost` is a cookie domain, so two projects of the
// same name would read each other's cookies even on different ports. A claim file per project
// name in this user's temp root records who serves it; a live claim from another directory is
// refused with a clear error, a dead one is taken over.
import path from 'node:path'
import fs from 'node:fs'
import { RigError } from '../errors.ts'
import { readOwnFile, writePrivateFile } from '../fs-safe/private-file.ts'
import { tempDir } from '../fs-safe/temp-root.ts'
import { isAlive, processStartTime } from '../env/proc.ts'

/** What a claim file holds. */
export interface FrontClaim {
  project: string
  root: string
  port: number
  pid: number
  startTime?: number | undefined
  /** The environment that holds it. */
  env: string
}

function claimFile(project: string): string {
  return path.join(tempDir('front'), `${project}.json`)
}

function readClaim(file: string): FrontClaim | undefined {
  try {
    const text = readOwnFile(file)
    return text === undefined ? undefined : (JSON.parse(text) as FrontClaim)
  } catch {
    return undefined
  }
}

/** The live claims of this user, e.g. to tell who holds a port. */
export function liveClaims(): FrontClaim[] {
  const dir = tempDir('front')
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .flatMap((f) => readClaim(path.join(dir, f)) ?? [])
    .filter((c) => Number.isInteger(c.pid) && isAlive(c.pid, c.startTime))
}

/**
 * Claims `project` for the environment `env` of `root`. Throws `RIG_PROJECT_NAME_TAKEN` when a
 * live environment of another directory holds the name, `RIG_FRONT_BUSY` when another
 * environment of the same project does.
 */
export function claimProject(project: string, root: string, port: number, env: string): () => void {
  const file = claimFile(project)
  const held = readClaim(file)
  if (held && held.env !== env && Number.isInteger(held.pid) && isAlive(held.pid, held.startTime)) {
    if (path.resolve(held.root) !== path.resolve(root)) {
      throw new RigError(
        'RIG_PROJECT_NAME_TAKEN',
        `project "${project}" is already running from ${held.root} (pid ${held.pid}, front proxy on port ${held.port}), and two projects of one name would share the names *.${project}.localhost and their cookies: give this one another name with \`project: '…'\` in its rig.config.ts, or stop the other (\`rig down\` in ${held.root})`,
        { exitCode: 2 },
      )
    }
    throw new RigError(
      'RIG_FRONT_BUSY',
      `another environment of this project (pid ${held.pid}) already serves *.${project}.localhost on port ${held.port}: test runs attach to \`rig up\`'s environment by themselves; stop the other with \`rig down\` to start a new one`,
      { exitCode: 2 },
    )
  }
  const mine: FrontClaim = { project, root: path.resolve(root), port, pid: process.pid, startTime: processStartTime(process.pid), env }
  writePrivateFile(file, JSON.stringify(mine))
  return () => {
    if (readClaim(file)?.env === env) fs.rmSync(file, { force: true })
  }
}
