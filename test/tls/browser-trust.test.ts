// The NSS database Chromium gets as its HOME to trust rig's CA (src/tls/browser-trust.ts), made
// with the real certutil: one per CA in rig's cache, private, made once and reused, a new one for
// a new CA, a link in its place refused, a damaged one made again, and certutil missing said
// with what to install. Chromium itself is in test/playwright/tls.test.ts.
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { browserTrustHome, browserTrustRoot, chromiumTrustHome } from '../../src/tls/browser-trust.ts'
import { environmentCA } from '../../src/playwright/launch-trust.ts'
import { loadCA, type LocalCA } from '../../src/tls/ca.ts'

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-browser-trust-'))
const saved = { cache: process.env.RIG_CACHE_DIR, ca: process.env.RIG_CA_DIR }

function newCA(name: string): LocalCA {
  process.env.RIG_CA_DIR = path.join(tmp, name)
  return loadCA() as LocalCA
}
/** The nicknames and trust flags in the database under `home`. */
const listed = (home: string): string => execFileSync('certutil', ['-L', '-d', `sql:${home}/.pki/nssdb`], { encoding: 'utf8' })

beforeAll(() => {
  process.env.RIG_CACHE_DIR = path.join(tmp, 'cache')
})
afterAll(() => {
  for (const [k, v] of [['RIG_CACHE_DIR', saved.cache], ['RIG_CA_DIR', saved.ca]] as const) {
    if (v === undefined) delete process.env[k]
    else process.env[k] = v
  }
  fs.rmSync(tmp, { recursive: true, force: true })
})

describe("Chromium's NSS database for rig's CA", () => {
  it('is made once per CA in rig’s cache, private, holding the CA as trusted for servers; a new CA gets its own', () => {
    const ca = newCA('one')
    const home = chromiumTrustHome(ca.certPem)
    expect(home).toBe(path.join(tmp, 'cache/browser-trust', ca.cert.fingerprint256.replaceAll(':', '').toLowerCase()))
    expect(home).toBe(browserTrustHome(ca.certPem))
    for (const d of [browserTrustRoot(), home, path.join(home, '.pki'), path.join(home, '.pki/nssdb')]) expect(fs.statSync(d).mode & 0o777, d).toBe(0o700)
    expect(listed(home)).toMatch(/testrig local CA\s+C,,/)
    // Reused as it is: the same database file.
    const ino = fs.statSync(path.join(home, '.pki/nssdb/cert9.db')).ino
    expect(chromiumTrustHome(ca.certPem)).toBe(home)
    expect(fs.statSync(path.join(home, '.pki/nssdb/cert9.db')).ino).toBe(ino)
    const other = newCA('two')
    const home2 = chromiumTrustHome(other.certPem)
    expect(home2).not.toBe(home)
    expect(fs.existsSync(home)).toBe(true)
    expect(fs.readdirSync(browserTrustRoot()).filter((n) => n.endsWith('.tmp'))).toEqual([])
  })

  it('removes the databases of CAs no run used for a week when it makes one', () => {
    const old = chromiumTrustHome(newCA('old').certPem)
    const week = new Date(Date.now() - 8 * 86_400_000)
    fs.utimesSync(old, week, week)
    const used = chromiumTrustHome(newCA('used').certPem)
    fs.utimesSync(used, week, week)
    // Using one marks it used.
    chromiumTrustHome(newCA('used').certPem)
    chromiumTrustHome(newCA('fresh').certPem)
    expect(fs.existsSync(old)).toBe(false)
    expect(fs.existsSync(used)).toBe(true)
  })

  it('refuses a link in place of the database, and makes a damaged one again', () => {
    const ca = newCA('three')
    const home = browserTrustHome(ca.certPem)
    const elsewhere = fs.mkdtempSync(path.join(tmp, 'elsewhere-'))
    // Run first (rig shuffles tests), no database was made yet: the cache dir is not there.
    fs.mkdirSync(path.dirname(home), { recursive: true, mode: 0o700 })
    fs.symlinkSync(elsewhere, home)
    expect(() => chromiumTrustHome(ca.certPem)).toThrow(expect.objectContaining({ code: 'RIG_UNSAFE_PATH', message: expect.stringContaining('it is a symbolic link') }))
    fs.unlinkSync(home)
    chromiumTrustHome(ca.certPem)
    fs.rmSync(path.join(home, '.pki/nssdb/cert9.db'))
    expect(chromiumTrustHome(ca.certPem)).toBe(home)
    expect(listed(home)).toMatch(/testrig local CA\s+C,,/)
    expect(fs.readdirSync(elsewhere)).toEqual([])
  })

  it('says what to install when certutil is missing, and leaves nothing behind', () => {
    const ca = newCA('four')
    const path0 = process.env.PATH
    process.env.PATH = path.join(tmp, 'no-bin')
    try {
      expect(() => chromiumTrustHome(ca.certPem, 'OPT-OUT.')).toThrow(expect.objectContaining({ code: 'RIG_CERTUTIL_MISSING', message: expect.stringMatching(/`certutil`, which is not installed\. Install it with `apt-get install libnss3-tools`.* OPT-OUT\.$/) }))
    } finally {
      process.env.PATH = path0
    }
    expect(fs.existsSync(browserTrustHome(ca.certPem))).toBe(false)
    expect(fs.readdirSync(browserTrustRoot()).filter((n) => n.endsWith('.tmp'))).toEqual([])
  })
})

describe("the CA the fixtures' Chromium trusts", () => {
  it("is the first certificate of RIG_CA_CERT: rig's CA, not an environment's hosts CA after it", () => {
    const ca = newCA('five')
    const hosts = newCA('hosts-like')
    const file = path.join(tmp, 'ca-trust.pem')
    fs.writeFileSync(file, `${ca.certPem.trimEnd()}\n${hosts.certPem}`)
    expect(environmentCA({ vars: { RIG_CA_CERT: file } })).toBe(ca.certPem)
    expect(environmentCA({ vars: {} })).toBeUndefined()
    fs.writeFileSync(file, 'no certificate')
    expect(() => environmentCA({ vars: { RIG_CA_CERT: file } })).toThrow(expect.objectContaining({ code: 'RIG_CA_BROKEN' }))
  })
})
