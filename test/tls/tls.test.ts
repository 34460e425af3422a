// rig's local CA and the certificates it issues, against real clients and servers: OpenSSL's
// verify, Node's TLS (fetch, NODE_EXTRA_CA_CERTS in a child process), the front proxy over
// HTTPS, PostgreSQL with sslmode=verify-full; and the bad input: a CA key others can read, a
// link, an expired or foreign certificate, a name outside the project.
import { execFile, execFileSync, spawnSync } from 'node:child_process'
import { generateKeyPairSync, X509Certificate } from 'node:crypto'
import fs from 'node:fs'
import https from 'node:https'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { validateConfig } from '../../src/config/validate.ts'
import { command, http as httpProbe, postgres, redis, type Environment } from '../../src/index.ts'
import { expectHttp } from '../../src/checks/helpers/http.ts'
import { resolveLocalhost } from '../../src/front/localhost.ts'
import { freePort } from '../../src/providers/process/ports.ts'
import { loadCA, removeCA, type LocalCA } from '../../src/tls/ca.ts'
import { frontNames, issueCertificate } from '../../src/tls/issue.ts'
import { trustInProcess } from '../../src/tls/trust-process.ts'
import { splitPem } from '../../src/tls/client-trust.ts'
import { environmentTls } from '../../src/tls/environment-tls.ts'
import { createCertificate } from '../../src/tls/x509.ts'
import { assertNothingLeft, rejection, start } from '../support/env.ts'

const app = path.join(import.meta.dirname, '../front/fixtures/app.mjs')
const svc = (name: string) => command({ run: [process.execPath, app], env: { PORT: '{port}', NAME: name }, ready: httpProbe('/health') })
const project = `tls-${process.pid}`
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-tls-'))
const hasOpenssl = spawnSync('openssl', ['version']).status === 0

let ca: LocalCA
let env: Environment | undefined
beforeAll(() => {
  process.env.RIG_CA_DIR = path.join(tmp, 'ca')
  ca = loadCA() as LocalCA
  resolveLocalhost()
})
afterEach(async () => {
  await env?.stop()
  env = undefined
})
afterAll(async () => {
  delete process.env.RIG_CA_DIR
  fs.rmSync(tmp, { recursive: true, force: true })
  await assertNothingLeft()
})

/** Serves `cert` over HTTPS on a free port until `fn` is done. */
async function serving(cert: { cert: string; key: string }, fn: (port: number) => Promise<void>): Promise<void> {
  const srv = https.createServer(cert, (_req, res) => res.end('ok')).listen(0, '127.0.0.1')
  await new Promise((r) => srv.once('listening', r))
  try {
    await fn((srv.address() as net.AddressInfo).port)
  } finally {
    srv.closeAllConnections()
    await new Promise((r) => srv.close(r))
  }
}

describe("rig's CA", () => {
  it('is made once: a P-256 key readable by this user only, a certificate limited to localhost names, and the same CA on the next load', () => {
    expect(fs.statSync(ca.keyFile).mode & 0o777).toBe(0o600)
    expect(ca.cert.ca).toBe(true)
    expect(loadCA()?.cert.fingerprint256).toBe(ca.cert.fingerprint256)
    if (hasOpenssl) expect(execFileSync('openssl', ['x509', '-in', ca.certFile, '-noout', '-text'], { encoding: 'utf8' })).toMatch(/Name Constraints: critical[\s\S]*DNS:localhost[\s\S]*IP:127\.0\.0\.0\/255\.0\.0\.0/)
  })

  it('issues certificates that OpenSSL and Node verify, for the project names it was asked', () => {
    const leaf = issueCertificate(ca, project, frontNames(project))
    const x = new X509Certificate(leaf.cert)
    expect(x.checkIssued(ca.cert)).toBe(true)
    expect(x.verify(ca.cert.publicKey)).toBe(true)
    expect(x.checkHost(`api.${project}.localhost`)).toBe(`*.${project}.localhost`)
    expect(x.checkHost(`api.other.localhost`)).toBeUndefined()
    expect(x.checkIP('127.0.0.1')).toBe('127.0.0.1')
    expect(x.ca).toBe(false)
    if (hasOpenssl) {
      const file = path.join(tmp, 'leaf.crt')
      fs.writeFileSync(file, leaf.cert)
      expect(execFileSync('openssl', ['verify', '-CAfile', ca.certFile, '-purpose', 'sslserver', file], { encoding: 'utf8' }).trim()).toBe(`${file}: OK`)
    }
  })

  it('refuses a key others can read, says how to fix it, and refuses a link in its place', () => {
    fs.chmodSync(ca.keyFile, 0o644)
    try {
      const err = (() => {
        try {
          loadCA()
        } catch (e) {
          return e as Error & { code?: string }
        }
      })()
      expect(err?.code).toBe('RIG_CA_KEY_UNSAFE')
      expect(err?.message).toContain(`rig's CA key ${ca.keyFile} can be read or written by others (mode 0644)`)
      expect(err?.message).toContain(`chmod 600 ${ca.keyFile}`)
      expect(err?.message).toContain('rig trust --remove')
    } finally {
      fs.chmodSync(ca.keyFile, 0o600)
    }
    const dir = path.join(tmp, 'linked')
    fs.mkdirSync(dir, { mode: 0o700 })
    fs.symlinkSync(ca.keyFile, path.join(dir, 'ca.key'))
    fs.copyFileSync(ca.certFile, path.join(dir, 'ca.crt'))
    process.env.RIG_CA_DIR = dir
    try {
      expect(() => loadCA()).toThrow(/ca.key is a symbolic link/)
    } finally {
      process.env.RIG_CA_DIR = path.join(tmp, 'ca')
    }
  })

  it('never issues for a name outside the project: another project, another domain, two labels deep', () => {
    for (const name of [`api.other.localhost`, 'example.com', `a.b.${project}.localhost`, '10.0.0.1', `*.localhost`]) {
      expect(() => issueCertificate(ca, project, [name]), name).toThrow(new RegExp(`"${name.replace(/[.*]/g, '\\$&')}" is outside`))
    }
  })

  it("an environment's hosts CA vouches for the host addresses of its /24 and loopback names, nothing else", () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'hosts-'))
    const t = environmentTls(project, dir, { hostSubnet: '10.213.9.0/24' })
    const trust = t.vars.RIG_CA_CERT as string
    expect(splitPem(fs.readFileSync(trust, 'utf8'))).toHaveLength(2)
    const onHost = t.forService('db', '10.213.9.2')
    expect(onHost.caFile).toBe(trust)
    const x = new X509Certificate(onHost.cert)
    expect(x.checkIP('10.213.9.2')).toBe('10.213.9.2')
    expect(x.checkHost(`db.${project}.localhost`)).toBe(`db.${project}.localhost`)
    expect(x.checkIssued(ca.cert)).toBe(false)
    // Loopback services of the same environment keep certificates of rig's CA.
    expect(new X509Certificate(t.forService('api', '127.0.0.1').cert).checkIssued(ca.cert)).toBe(true)
    expect(() => t.forService('db', '10.213.10.2')).toThrow(/"10\.213\.10\.2" is outside/)
    if (hasOpenssl) {
      const file = path.join(dir, 'leaf.crt')
      fs.writeFileSync(file, onHost.cert)
      expect(execFileSync('openssl', ['verify', '-CAfile', trust, '-purpose', 'sslserver', file], { encoding: 'utf8' }).trim()).toBe(`${file}: OK`)
      // A CA with the same constraints signing outside them: OpenSSL refuses the certificate.
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
      const now = Date.now()
      const caPem = createCertificate({ subject: 'c', issuer: 'c', publicKey, signingKey: privateKey, issuerPublicKey: publicKey, notBefore: new Date(now - 60_000), notAfter: new Date(now + 3_600_000), ca: true, permitIpv4: [{ base: (10 << 24) + (213 << 16) + (9 << 8), prefix: 24 }] })
      expect(execFileSync('openssl', ['x509', '-noout', '-text'], { input: caPem, encoding: 'utf8' })).toMatch(/IP:10\.213\.9\.0\/255\.255\.255\.0/)
      const leafKey = generateKeyPairSync('ec', { namedCurve: 'P-256' })
      const outside = createCertificate({ subject: 'x', issuer: 'c', publicKey: leafKey.publicKey, signingKey: privateKey, issuerPublicKey: publicKey, notBefore: new Date(now - 60_000), notAfter: new Date(now + 3_600_000), names: ['10.213.10.2'] })
      fs.writeFileSync(path.join(dir, 'c.crt'), caPem)
      fs.writeFileSync(path.join(dir, 'outside.crt'), outside)
      const r = spawnSync('openssl', ['verify', '-CAfile', path.join(dir, 'c.crt'), path.join(dir, 'outside.crt')], { encoding: 'utf8' })
      expect(r.status).not.toBe(0)
      expect(r.stdout + r.stderr).toMatch(/permitted subtree violation/)
    }
  })

  it('an expired certificate and one from a foreign CA fail a check with the reason, a valid one passes', async () => {
    trustInProcess(ca.certPem)
    await serving(issueCertificate(ca, project, ['localhost']), async (port) => {
      expect((await expectHttp(`https://localhost:${port}/`)).statusCode).toBe(200)
    })
    await serving(issueCertificate(ca, project, ['localhost'], { now: Date.now() - 40 * 86_400_000 }), async (port) => {
      const err = await rejection(expectHttp(`https://localhost:${port}/`))
      expect(err.message).toMatch(/certificate has expired/)
    })
    process.env.RIG_CA_DIR = path.join(tmp, 'foreign')
    const foreign = loadCA() as LocalCA
    process.env.RIG_CA_DIR = path.join(tmp, 'ca')
    await serving(issueCertificate(foreign, project, ['localhost']), async (port) => {
      const err = await rejection(expectHttp(`https://localhost:${port}/`))
      expect(err.message).toMatch(/self[- ]signed certificate in certificate chain|unable to (get local issuer|verify)/)
    })
  })
})

describe('HTTPS on the front proxy', () => {
  it('serves every public name over HTTPS with a certificate from the CA; plain HTTP is redirected; processes rig starts trust the CA', async () => {
    const port = await freePort()
    env = await start({ project, front: { port, tls: true }, services: { api: svc('api'), web: svc('web') } })
    const apiUrl = `https://api.${project}.localhost:${port}`
    expect(env.vars()).toMatchObject({ RIG_API_PUBLIC_URL: apiUrl, RIG_CA_CERT: ca.certFile })
    // rig's CA, with the CAs this process was already told to trust when it was (one file only).
    const bundle = env.vars().NODE_EXTRA_CA_CERTS as string
    expect(fs.readFileSync(bundle, 'utf8')).toContain(ca.certPem.trim())
    if (!process.env.NODE_EXTRA_CA_CERTS) expect(bundle).toBe(ca.certFile)
    trustInProcess(ca.certPem)
    const body = (await (await fetch(`${apiUrl}/`)).json()) as Record<string, unknown>
    expect(body).toMatchObject({ service: 'api', host: `api.${project}.localhost:${port}`, proto: 'https', extraCa: bundle })
    const plain = await fetch(`http://web.${project}.localhost:${port}/x?y=1`, { redirect: 'manual' })
    expect(plain.status).toBe(308)
    expect(plain.headers.get('location')).toBe(`https://web.${project}.localhost:${port}/x?y=1`)
    // A Node process with the variables rig gives its services verifies the certificate by itself.
    const script = `import('${path.join(import.meta.dirname, '../../src/front/localhost.ts')}').then((m) => { m.resolveLocalhost(); return fetch('${apiUrl}/') }).then((r) => r.json()).then((b) => console.log(b.proto))`
    // (Not spawnSync: the proxy runs in this process and must answer meanwhile.)
    const node = (vars: Record<string, string>) => new Promise<{ stdout: string; stderr: string }>((resolve) => execFile(process.execPath, ['-e', script], { env: { ...process.env, ...vars } }, (_err, stdout, stderr) => resolve({ stdout, stderr })))
    const child = await node(env.vars())
    expect(child.stderr).toBe('')
    expect(child.stdout.trim()).toBe('https')
    const without = await node({ NODE_EXTRA_CA_CERTS: '' })
    expect(without.stderr).toMatch(/self[- ]signed certificate in certificate chain|unable to (get local issuer|verify)/)
  })

  it('HTTPS asked of a service that does not speak HTTP is refused before anything starts', () => {
    expect(() => validateConfig({ front: { tls: true }, services: { cache: redis({ public: true }) } })).toThrow(/service "cache" \(redis\) does not speak HTTP, and the front proxy serves HTTP and HTTPS only/)
    expect(() => validateConfig({ services: { cache: redis({ ssl: true } as never) } })).toThrow(/unknown option "ssl"/)
    expect(() => validateConfig({ services: { db: postgres({ ssl: 'yes' as never }) } })).toThrow(/ssl must be true or false/)
  })
})

describe('PostgreSQL with ssl: true', () => {
  it('serves TLS with a certificate for its names; its URL asks verify-full against the CA, and a foreign CA is refused', async () => {
    env = await start({ project, services: { db: postgres({ ssl: true }) } })
    const db = env.get('db')
    expect(db.url).toContain(`sslmode=verify-full&sslrootcert=${encodeURIComponent(ca.certFile)}`)
    expect(db.env.RIG_DB_SSL_ROOT_CERT).toBe(ca.certFile)
    const { default: pg } = await import('pg')
    const client = new pg.Client({ connectionString: db.url })
    await client.connect()
    const row = (await client.query('select ssl, version from pg_stat_ssl where pid = pg_backend_pid()')).rows[0] as { ssl: boolean; version: string }
    await client.end()
    expect(row.ssl).toBe(true)
    expect(row.version).toMatch(/^TLSv1\.[23]$/)
    const foreign = path.join(tmp, 'foreign', 'ca.crt')
    if (!fs.existsSync(foreign)) {
      process.env.RIG_CA_DIR = path.join(tmp, 'foreign')
      loadCA()
      process.env.RIG_CA_DIR = path.join(tmp, 'ca')
    }
    const bad = new pg.Client({ connectionString: db.url.replace(encodeURIComponent(ca.certFile), encodeURIComponent(foreign)) })
    const err = await rejection(bad.connect())
    await bad.end().catch(() => {})
    expect(err.message).toMatch(/self[- ]signed certificate in certificate chain|unable to (get local issuer|verify)/)
  })
})

describe('rig trust', () => {
  it('prints the CA and the commands per trust store; --remove deletes it and prints how to untrust it', () => {
    const dir = path.join(tmp, 'cli')
    const rig = (...args: string[]) => spawnSync(process.execPath, [path.join(import.meta.dirname, '../../bin/rig.ts'), 'trust', ...args], { env: { ...process.env, RIG_CA_DIR: dir }, encoding: 'utf8' })
    const shown = rig()
    expect(shown.status).toBe(0)
    expect(shown.stdout).toContain(`rig's CA: ${dir}/ca.crt`)
    expect(shown.stdout).toContain('sudo update-ca-certificates')
    expect(shown.stdout).toContain(`export NODE_EXTRA_CA_CERTS=${dir}/ca.crt`)
    expect(shown.stdout).toMatch(/certutil -d sql:.*\/\.pki\/nssdb -A -t C,, -n testrig-/)
    expect(fs.statSync(path.join(dir, 'ca.key')).mode & 0o777).toBe(0o600)
    const json = JSON.parse(rig('--json').stdout) as { certFile: string; fingerprint256: string }
    expect(json.certFile).toBe(`${dir}/ca.crt`)
    const removed = rig('--remove')
    expect(removed.stdout).toContain(`removed rig's CA (${dir})`)
    expect(removed.stdout).toContain('update-ca-certificates --fresh')
    expect(fs.existsSync(dir)).toBe(false)
    // A new one next time.
    expect((JSON.parse(rig('--json').stdout) as { fingerprint256: string }).fingerprint256).not.toBe(json.fingerprint256)
    process.env.RIG_CA_DIR = dir
    expect(removeCA()).toBe(true)
    process.env.RIG_CA_DIR = path.join(tmp, 'ca')
  })
})
