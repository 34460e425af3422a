// Data servers never run as root, nor as an account that owns anything else: a superuser of
// rig's PostgreSQL can run programs as the server's OS account (`COPY … FROM PROGRAM`), so that
// account must hold nothing worth reaching. As root, rig uses a dedicated system account
// (`testrig`, created on first use); as anyone else, servers run as that user.
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import { RigError } from '../../errors.ts'

/** A system account to run servers as. */
export interface ServiceUser {
  name: string
  uid: number
  gid: number
}

/** The account rig creates and runs servers as when it runs as root. */
export const SERVICE_ACCOUNT = 'testrig'

/** rig runs as root but cannot find or create an account to run servers as. */
export class ServiceUserError extends RigError {
  constructor(message: string, cause?: unknown) {
    super('RIG_SERVICE_USER', message, cause === undefined ? {} : { cause })
    this.name = 'ServiceUserError'
  }
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

function createAccount(name: string): void {
  try {
    execFileSync('useradd', ['--system', '--user-group', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', '--comment', 'testrig data servers', name], {
      stdio: ['ignore', 'ignore', 'pipe'],
    })
  } catch (err) {
    // Another rig process created it at the same moment: fine.
    if (lookup(name)) return
    const stderr = String((err as { stderr?: unknown }).stderr ?? '').trim()
    throw new ServiceUserError(
      `rig runs as root and needs a system account "${name}" to run data servers as, but could not create it (${stderr || (err as Error).message}).\n` +
        `  create it: useradd --system --user-group --no-create-home --shell /usr/sbin/nologin ${name}\n` +
        `  or set RIG_SERVICE_USER to an existing non-root account that owns nothing else`,
      err,
    )
  }
}

/**
 * The account data servers run as, or undefined when rig does not run as root (they run as
 * the current user). `RIG_SERVICE_USER` names one; otherwise the `testrig` system account,
 * created on first use unless `create` is false (then undefined is returned while it is absent).
 */
export function unprivilegedUser(options: { create?: boolean } = {}): ServiceUser | undefined {
  if (cached !== undefined) return cached ?? undefined
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    cached = null
    return undefined
  }
  const wanted = process.env.RIG_SERVICE_USER
  if (wanted) {
    const u = lookup(wanted)
    if (!u) throw new ServiceUserError(`RIG_SERVICE_USER names "${wanted}", which is not an account of this machine: create it or unset RIG_SERVICE_USER (rig then uses its own "${SERVICE_ACCOUNT}" account)`)
    if (u.uid === 0) throw new ServiceUserError(`RIG_SERVICE_USER names "${wanted}", which has uid 0: data servers must not run as root; name a non-root account or unset it`)
    cached = u
    return u
  }
  let u = lookup(SERVICE_ACCOUNT)
  if (!u) {
    if (options.create === false) return undefined
    createAccount(SERVICE_ACCOUNT)
    u = lookup(SERVICE_ACCOUNT)
  }
  if (!u || u.uid === 0) throw new ServiceUserError(`the "${SERVICE_ACCOUNT}" account ${u ? 'has uid 0' : 'could not be found after creating it'}: set RIG_SERVICE_USER to a non-root account that owns nothing else`)
  cached = u
  return u
}

/** Hands `path` (recursively) to the unprivileged user, when there is one. */
export function chownForService(path: string, user: ServiceUser | undefined): void {
  if (!user) return
  fs.lchownSync(path, user.uid, user.gid)
  const st = fs.lstatSync(path)
  if (st.isDirectory()) for (const entry of fs.readdirSync(path)) chownForService(`${path}/${entry}`, user)
}

/**
 * Makes `dir` a private directory of the service user (mode 0700): the server's sockets and
 * data live there, and no other local account may open them.
 */
export function privateServiceDir(dir: string, user: ServiceUser | undefined): void {
  fs.chmodSync(dir, 0o700)
  if (user) fs.chownSync(dir, user.uid, user.gid)
}
