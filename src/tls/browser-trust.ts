// Chromium trusting rig's CA for one launch, not machine-wide. On Linux Chromium reads its trust
// anchors beyond the built-in roots from the NSS database under `$HOME` (`.pki/nssdb`, which
// Chromium 146 and later still prefer to their newer `.local/share/pki/nssdb` when it exists), so
// the browser rig's fixtures launch gets `HOME` pointed at a directory of rig's whose NSS
// database holds rig's CA and nothing else. Certificate checks stay on: a certificate the CA did
// not issue, or one for a name outside its name constraints, is refused as by any browser.
// Chromium has no per-launch switch for an extra anchor (its `CACertificates` policy is read
// from /etc, for every launch on the machine), and only NSS's `certutil` writes the database.
//
// One database per CA, in rig's cache: `<cache>/browser-trust/<sha-256 of the CA>/` (0700),
// made whole in a fresh directory beside it and renamed into place, so concurrent runs share one
// and a new CA gets a new one.
import { spawnSync } from 'node:child_process'
import { randomBytes, X509Certificate } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { RigError } from '../errors.ts'
import { myUid, verifyPrivateDir } from '../fs-safe/private-dir.ts'
import { writePrivateFile } from '../fs-safe/private-file.ts'
import { cacheRoot } from '../providers/process/cache-dir.ts'

/** The Debian package with `certutil`. */
export const CERTUTIL_PACKAGE = 'libnss3-tools'

/** The nickname of rig's CA in the database. */
const NICK = 'testrig local CA'

/** Databases of CAs no run used for this long are removed when another one is made. */
const STALE_MS = 7 * 86_400_000

/** `certutil` is not installed. */
export class CertutilMissingError extends RigError {
  constructor(optOut: string) {
    super(
      'RIG_CERTUTIL_MISSING',
      `Chromium cannot be told to trust rig's CA (the environment serves HTTPS): that takes NSS's \`certutil\`, which is not installed. Install it with \`apt-get install ${CERTUTIL_PACKAGE}\` (Fedora: nss-tools). ${optOut}`,
      { exitCode: 2 },
    )
    this.name = 'CertutilMissingError'
  }
}

/** Where the databases live: `browser-trust` in rig's cache. */
export function browserTrustRoot(): string {
  return path.join(cacheRoot(), 'browser-trust')
}

/** The home directory Chromium gets for the CA whose certificate is `certPem` (it need not exist yet). */
export function browserTrustHome(certPem: string): string {
  const fp = new X509Certificate(certPem).fingerprint256.replaceAll(':', '').toLowerCase()
  return path.join(browserTrustRoot(), fp)
}

/** A 0700 directory of this user, made here (never one that was there). */
function freshDir(dir: string): string {
  fs.mkdirSync(dir, { mode: 0o700 })
  fs.chmodSync(dir, 0o700)
  verifyPrivateDir(dir)
  return dir
}

/** The root's directory, made 0700 unless there; refused when it is a link or not this user's own. */
function ensureRoot(root: string): void {
  fs.mkdirSync(path.dirname(root), { recursive: true })
  try {
    freshDir(root)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    verifyPrivateDir(root)
  }
}

function certutil(args: string[], optOut: string): void {
  const r = spawnSync('certutil', args, { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] })
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') throw new CertutilMissingError(optOut)
  if (r.error || r.status !== 0) {
    const said = `${r.stderr ?? ''}${r.stdout ?? ''}`.trim() || String(r.error?.message ?? `exit ${r.status}`)
    throw new RigError('RIG_BROWSER_TRUST_FAILED', `certutil ${args.join(' ')} failed: ${said}`)
  }
}

/**
 * What is at `home`: nothing, a database made by {@link chromiumTrustHome} (every part a real
 * directory or file of this user), or something else. A link or another user's directory in
 * its place throws (`RIG_UNSAFE_PATH`).
 */
function state(home: string): 'missing' | 'ok' | 'broken' {
  try {
    verifyPrivateDir(home)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing'
    throw err
  }
  try {
    for (const d of ['.pki', '.pki/nssdb']) verifyPrivateDir(path.join(home, d))
    const db = fs.lstatSync(path.join(home, '.pki/nssdb/cert9.db'))
    return db.isFile() && (myUid() < 0 || db.uid === myUid()) ? 'ok' : 'broken'
  } catch {
    return 'broken'
  }
}

/** Removes the databases of other CAs that no run used for a week. */
function prune(root: string, keep: string): void {
  const now = Date.now()
  for (const name of fs.readdirSync(root)) {
    const p = path.join(root, name)
    if (p === keep) continue
    try {
      const st = fs.lstatSync(p)
      if (now - st.mtimeMs > STALE_MS) fs.rmSync(p, { recursive: true, force: true })
    } catch {
      // another run removed it
    }
  }
}

/**
 * The home directory in which Chromium trusts the CA `certPem` (and the built-in roots), made on
 * first use. `optOut` ends the error when `certutil` is missing (how to launch without it).
 */
export function chromiumTrustHome(certPem: string, optOut = ''): string {
  const root = browserTrustRoot()
  const home = browserTrustHome(certPem)
  ensureRoot(root)
  const found = state(home)
  if (found === 'ok') {
    const now = new Date()
    fs.utimesSync(home, now, now)
    return home
  }
  // Only a whole database is renamed into place, so a broken one was changed by hand: made again.
  if (found === 'broken') fs.rmSync(home, { recursive: true, force: true })
  const tmp = freshDir(`${home}.${randomBytes(6).toString('hex')}.tmp`)
  try {
    const db = freshDir(path.join(freshDir(path.join(tmp, '.pki')), 'nssdb'))
    writePrivateFile(path.join(tmp, 'ca.crt'), certPem, 0o644)
    certutil(['-N', '-d', `sql:${db}`, '--empty-password'], optOut)
    certutil(['-A', '-d', `sql:${db}`, '-t', 'C,,', '-n', NICK, '-i', path.join(tmp, 'ca.crt')], optOut)
    try {
      fs.renameSync(tmp, home)
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      // Another run made it first: theirs is as good.
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true })
  }
  prune(root, home)
  return home
}
