// PostgreSQL (and others) refuse to run as root: when rig runs as root, such servers run as
// an unprivileged user instead.
import fs from 'node:fs'

/** A system account to run servers as. */
export interface ServiceUser {
  name: string
  uid: number
  gid: number
}

let cached: ServiceUser | null | undefined

function lookup(name: string): ServiceUser | undefined {
  let passwd: string
  try {
    passwd = fs.readFileSync('/etc/passwd', 'utf8')
  } catch {
    return undefined
  }
  for (const line of passwd.split('\n')) {
    const f = line.split(':')
    if (f[0] === name && f[2] !== undefined && f[3] !== undefined) return { name, uid: Number(f[2]), gid: Number(f[3]) }
  }
  return undefined
}

/**
 * The user to run root-refusing servers as, or undefined when rig does not run as root.
 * `RIG_SERVICE_USER` chooses it; otherwise `postgres`, then `nobody`.
 */
export function unprivilegedUser(): ServiceUser | undefined {
  if (cached !== undefined) return cached ?? undefined
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    cached = null
    return undefined
  }
  const wanted = process.env.RIG_SERVICE_USER
  const candidates = wanted ? [wanted] : ['postgres', 'nobody']
  for (const name of candidates) {
    const u = lookup(name)
    if (u && u.uid !== 0) {
      cached = u
      return u
    }
  }
  throw new Error(`rig runs as root and found no unprivileged user (${candidates.join(', ')}) to run servers as; set RIG_SERVICE_USER to an existing non-root user`)
}

/** Hands `path` (recursively) to the unprivileged user, when there is one. */
export function chownForService(path: string, user: ServiceUser | undefined): void {
  if (!user) return
  fs.chownSync(path, user.uid, user.gid)
  const st = fs.statSync(path)
  if (st.isDirectory()) for (const entry of fs.readdirSync(path)) chownForService(`${path}/${entry}`, user)
}
