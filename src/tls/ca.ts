// rig's local certificate authority: made once per user in rig's cache (`<cache>/ca/ca.key`,
// 0600, and `ca.crt`), limited by name constraints to `localhost`, names under it and loopback
// addresses, and used to issue short-lived certificates for `*.<project>.localhost`. A key
// anyone else could read, a link, or a file of another user is refused: whoever holds the key
// can mint certificates that every trusting client accepts.
import { createPrivateKey, generateKeyPairSync, randomBytes, X509Certificate, type KeyObject } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { RigError } from '../errors.ts'
import { ensurePrivateDir, myUid } from '../fs-safe/private-dir.ts'
import { readOwnFile, writePrivateFile } from '../fs-safe/private-file.ts'
import { cacheRoot } from '../providers/process/cache-dir.ts'
import { createCertificate } from './x509.ts'

const CA_DAYS = 3650
const DAY = 86_400_000

/** The CA as loaded. */
export interface LocalCA {
  dir: string
  certFile: string
  keyFile: string
  certPem: string
  cert: X509Certificate
  key: KeyObject
}

/** Where the CA lives: `$RIG_CA_DIR`, else `ca` in rig's cache (`~/.cache/testrig/ca`, `/var/cache/testrig/ca` as root). */
export function caDir(): string {
  return process.env.RIG_CA_DIR ? path.resolve(process.env.RIG_CA_DIR) : path.join(cacheRoot(), 'ca')
}

/** The CA key may not be used. */
export class UnsafeCaKeyError extends RigError {
  constructor(file: string, why: string, fix: string) {
    super('RIG_CA_KEY_UNSAFE', `rig's CA key ${file} ${why}: whoever can read it can make certificates that your browsers and tools trust. ${fix}`, { exitCode: 2 })
    this.name = 'UnsafeCaKeyError'
  }
}

function checkKeyFile(file: string): void {
  const st = fs.lstatSync(file)
  if (st.isSymbolicLink()) throw new UnsafeCaKeyError(file, 'is a symbolic link', 'Remove it and run `rig trust --remove`, then `rig trust` for a new CA.')
  const uid = myUid()
  if (uid >= 0 && st.uid !== uid) throw new UnsafeCaKeyError(file, `belongs to another user (uid ${st.uid})`, 'Remove it and run `rig trust` for a new CA of your own.')
  if ((st.mode & 0o077) !== 0) {
    throw new UnsafeCaKeyError(
      file,
      `can be read or written by others (mode ${(st.mode & 0o777).toString(8).padStart(4, '0')})`,
      `If no one else could have read it, \`chmod 600 ${file}\`; otherwise run \`rig trust --remove\` (and remove the CA from the trust stores it was added to), then \`rig trust\` for a new one.`,
    )
  }
}

function read(dir: string): LocalCA | undefined {
  const certFile = path.join(dir, 'ca.crt')
  const keyFile = path.join(dir, 'ca.key')
  if (!fs.existsSync(keyFile) && !fs.existsSync(certFile)) return undefined
  checkKeyFile(keyFile)
  const keyPem = readOwnFile(keyFile)
  const certPem = readOwnFile(certFile)
  if (keyPem === undefined || certPem === undefined) throw new RigError('RIG_CA_BROKEN', `rig's CA in ${dir} is incomplete (${keyPem === undefined ? 'ca.key' : 'ca.crt'} is missing): run \`rig trust --remove\`, then \`rig trust\``, { exitCode: 2 })
  const cert = new X509Certificate(certPem)
  const key = createPrivateKey(keyPem)
  if (!cert.checkPrivateKey(key)) throw new RigError('RIG_CA_BROKEN', `rig's CA certificate ${certFile} does not belong to its key ${keyFile}: run \`rig trust --remove\`, then \`rig trust\``, { exitCode: 2 })
  if (Date.parse(cert.validTo) < Date.now()) {
    throw new RigError('RIG_CA_EXPIRED', `rig's CA ${certFile} expired on ${cert.validTo}: run \`rig trust --remove\`, then \`rig trust\` for a new one (and trust it again)`, { exitCode: 2 })
  }
  return { dir, certFile, keyFile, certPem, cert, key }
}

function create(dir: string): void {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const now = Date.now()
  const subject = `testrig local CA (${os.userInfo().username}@${os.hostname()})`
  const pem = createCertificate({ subject, issuer: subject, publicKey, signingKey: privateKey, issuerPublicKey: publicKey, notBefore: new Date(now - DAY), notAfter: new Date(now + CA_DAYS * DAY), ca: true })
  // Made whole beside, then renamed into place: two rig processes starting together cannot end
  // with one's key and the other's certificate.
  const tmp = ensurePrivateDir(`${dir}.${randomBytes(6).toString('hex')}.tmp`)
  writePrivateFile(path.join(tmp, 'ca.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }) as string)
  writePrivateFile(path.join(tmp, 'ca.crt'), pem, 0o644)
  try {
    fs.renameSync(tmp, dir)
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true })
    const code = (err as NodeJS.ErrnoException).code
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err
  }
}

/** The CA, made on first use unless `create` is false (then undefined when there is none). */
export function loadCA(options: { create?: boolean } = {}): LocalCA | undefined {
  const dir = caDir()
  const found = read(dir)
  if (found || options.create === false) return found
  fs.mkdirSync(path.dirname(dir), { recursive: true })
  create(dir)
  return read(dir)
}

/** Removes the CA (key and certificate); true when there was one. */
export function removeCA(): boolean {
  const dir = caDir()
  if (!fs.existsSync(dir)) return false
  fs.rmSync(dir, { recursive: true, force: true })
  return true
}
