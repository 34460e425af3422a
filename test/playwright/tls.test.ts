// Chromium through rig's Playwright fixtures trusts rig's CA with certificate checks on: the
// front proxy's HTTPS public URL loads; the same page fails on its certificate without rig's
// trust; real Chromium enforces the CA's name constraints (a certificate the CA signed for a
// name outside them is refused); without certutil the run stops before any test with what to
// install, and `trustCA: false` launches Chromium with the machine's trust alone.
import { createPublicKey, generateKeyPairSync } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { TestEntry } from '../../src/report/model.ts'
import { freePort } from '../../src/providers/process/ports.ts'
import { browserTrustHome } from '../../src/tls/browser-trust.ts'
import { loadCA, type LocalCA } from '../../src/tls/ca.ts'
import { createCertificate } from '../../src/tls/x509.ts'
import { envDirs, leftovers, makeProject, REPO, type Project } from '../support/project.ts'
import { waitUntil } from '../support/procs.ts'
import { playwrightConfig, readReport, runPlaywright } from './playwright-project.ts'

const project = `pwtls-${process.pid}`

/** An HTTP service: a page that fetches its own API, so the page and a request of it go through the front proxy's HTTPS. */
const SITE = `import http from 'node:http'
http.createServer((req, res) => {
  if (req.url === '/health') return res.end('ok')
  if (req.url === '/api') return res.end('pong ' + req.headers['x-forwarded-proto'])
  res.setHeader('content-type', 'text/html')
  res.end('<!doctype html><title>t</title><h1>over https</h1><p id="api"></p><script>fetch("/api").then((r) => r.text()).then((t) => { document.getElementById("api").textContent = t })</script>')
}).listen(Number(process.env.PORT), '127.0.0.1')
`

const SPEC = `import fs from 'node:fs'
import https from 'node:https'
import os from 'node:os'
import path from 'node:path'
import { test, expect, rig } from 'testrig/playwright'

const url = process.env.RIG_WEB_PUBLIC_URL ?? ''

test('the HTTPS public URL loads with certificate checks on', async ({ page, launchOptions, ignoreHTTPSErrors }) => {
  expect(url).toMatch(/^https:\\/\\/web\\.${project}\\.localhost:\\d+$/)
  expect(ignoreHTTPSErrors).toBe(false)
  expect((launchOptions.args ?? []).join(' ')).not.toMatch(/ignore-certificate-errors/)
  await page.goto(url)
  await expect(page.locator('h1')).toHaveText('over https')
  await expect(page.locator('#api')).toHaveText('pong https')
})

test('a Chromium the test launches itself trusts the CA too', async ({ playwright }) => {
  const browser = await playwright.chromium.launch()
  try {
    const page = await browser.newPage()
    await page.goto(url)
    await expect(page.locator('h1')).toHaveText('over https')
  } finally {
    await browser.close()
  }
})

test("without rig's trust the same page fails on its certificate", async ({ playwright, launchOptions }) => {
  // A browser the test launches is watched too: the refused request is the system's, expected here.
  rig.expectConsole(/failed: net::ERR_CERT_AUTHORITY_INVALID/)
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'no-trust-'))
  const browser = await playwright.chromium.launch({ ...launchOptions, env: { ...process.env, HOME: home } })
  try {
    const page = await browser.newPage()
    await expect(page.goto(url)).rejects.toThrow(/net::ERR_CERT_AUTHORITY_INVALID/)
  } finally {
    await browser.close()
    fs.rmSync(home, { recursive: true, force: true })
  }
})

/** Serves the certificate \`name\` (written by the test beside the project) on a free port. */
async function serving(name: string, fn: (port: number) => Promise<void>): Promise<void> {
  const read = (ext: string) => fs.readFileSync(path.join('certs', name + ext), 'utf8')
  const srv = https.createServer({ cert: read('.crt'), key: read('.key') }, (_req, res) => res.end('<title>t</title><h1>' + name + '</h1>')).listen(0, '127.0.0.1')
  await new Promise((r) => srv.once('listening', r))
  try {
    await fn((srv.address() as { port: number }).port)
  } finally {
    srv.closeAllConnections()
    await new Promise((r) => srv.close(r))
  }
}

test("the CA's name constraints: a certificate it signed for a name outside them is refused", async ({ page }) => {
  // Both made the same way with the CA's key; only the name differs.
  await serving('inside.localhost', async (port) => {
    await page.goto('https://inside.localhost:' + port + '/')
    await expect(page.locator('h1')).toHaveText('inside.localhost')
  })
  await serving('outside.example', async (port) => {
    await expect(page.goto('https://outside.example:' + port + '/')).rejects.toThrow(/net::ERR_CERT_INVALID/)
  })
})
`

const OFF_SPEC = `import { test, expect, rig } from 'testrig/playwright'

test('with trustCA: false the page fails on its certificate', async ({ page }) => {
  rig.expectConsole(/failed: net::ERR_CERT_AUTHORITY_INVALID/)
  await expect(page.goto(process.env.RIG_WEB_PUBLIC_URL ?? '')).rejects.toThrow(/net::ERR_CERT_AUTHORITY_INVALID/)
})
`

let p: Project
let ca: LocalCA
let bin: string
const cas: string[] = []
beforeAll(async () => {
  const port = await freePort()
  p = makeProject(`import { defineConfig, command, http } from 'testrig'
export default defineConfig({
  project: '${project}',
  front: { port: ${port}, tls: true },
  services: { web: command({ run: [process.execPath, 'site.mjs'], env: { PORT: '{port}' }, ready: http('/health') }) },
})
`)
  fs.mkdirSync(path.join(p.dir, 'node_modules/@playwright'), { recursive: true })
  fs.symlinkSync(path.join(REPO, 'node_modules/@playwright/test'), path.join(p.dir, 'node_modules/@playwright/test'))
  p.write('site.mjs', SITE)
  p.write('e2e/https.spec.ts', SPEC)
  p.write('e2e/off.spec.ts', OFF_SPEC)
  // outside.example resolves to loopback in Chromium only (no DNS, no /etc/hosts).
  p.write('playwright.config.ts', playwrightConfig("{ use: { baseURL: undefined, launchOptions: { args: ['--host-resolver-rules=MAP outside.example 127.0.0.1'] } } }", "{ trustCA: process.env.TRUST_CA !== '0' }"))
  // The project's own CA, so no trust this machine gives rig's usual CA counts.
  const saved = process.env.RIG_CA_DIR
  process.env.RIG_CA_DIR = path.join(p.dir, 'ca')
  try {
    ca = loadCA() as LocalCA
  } finally {
    if (saved === undefined) delete process.env.RIG_CA_DIR
    else process.env.RIG_CA_DIR = saved
  }
  cas.push(ca.certPem)
  // The test-only way to a certificate of the CA for any name: issue.ts refuses names outside the project.
  for (const name of ['inside.localhost', 'outside.example']) {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const now = Date.now()
    p.write(`certs/${name}.crt`, createCertificate({ subject: name, issuer: ca.cert.subject.replace(/^[\s\S]*CN=/, '').split('\n')[0] ?? '', publicKey, signingKey: ca.key, issuerPublicKey: createPublicKey(ca.key), notBefore: new Date(now - 86_400_000), notAfter: new Date(now + 86_400_000), names: [name] }))
    p.write(`certs/${name}.key`, privateKey.export({ type: 'pkcs8', format: 'pem' }) as string)
  }
  // A PATH with every command of /usr/bin but certutil (Debian's chromium is a shell script that needs some).
  bin = path.join(p.dir, 'bin-without-certutil')
  fs.mkdirSync(bin)
  for (const f of fs.readdirSync('/usr/bin')) if (f !== 'certutil') fs.symlinkSync(path.join('/usr/bin', f), path.join(bin, f))
})
afterAll(async () => {
  await p?.dispose()
  for (const pem of cas) fs.rmSync(browserTrustHome(pem), { recursive: true, force: true })
})
const nothingLeft = async (): Promise<void> => {
  expect(await waitUntil(() => leftovers(p.dir).length === 0), leftovers(p.dir).join('\n')).toBe(true)
  expect(envDirs(p.dir)).toEqual([])
}
const withoutCertutil = (): string => `${bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/sbin`

describe("Chromium and rig's CA", { timeout: 600_000 }, () => {
  test('the fixtures’ Chromium loads the HTTPS public URL with checks on; without the trust, or outside the name constraints, Chromium refuses', async () => {
    const r = await runPlaywright(p, ['e2e/https.spec.ts'], { RIG_CA_DIR: path.join(p.dir, 'ca') })
    expect(r.code, r.output).toBe(0)
    const tests = readReport(p).tests
    expect(tests.map((t: TestEntry) => [t.name, t.status]).sort()).toEqual(
      [
        ['the HTTPS public URL loads with certificate checks on', 'passed'],
        ['a Chromium the test launches itself trusts the CA too', 'passed'],
        ["without rig's trust the same page fails on its certificate", 'passed'],
        ["the CA's name constraints: a certificate it signed for a name outside them is refused", 'passed'],
      ].sort(),
    )
    expect(tests.find((t) => t.name === "without rig's trust the same page fails on its certificate")?.browserErrors).toMatchObject([{ kind: 'request', text: expect.stringMatching(/^GET https:\/\/web\..*failed: net::ERR_CERT_AUTHORITY_INVALID$/), expected: true }])
    // The CA's database, private, in rig's cache, made once per CA.
    const home = browserTrustHome(ca.certPem)
    expect(fs.statSync(home).mode & 0o777).toBe(0o700)
    expect(fs.statSync(path.join(home, '.pki/nssdb/cert9.db')).isFile()).toBe(true)
    await nothingLeft()
  })

  test('without certutil the run stops before any test, saying what to install; trustCA: false runs with checks on and the machine’s trust alone', async () => {
    // A CA whose database is not made yet.
    const caDir = path.join(p.dir, 'ca2')
    const r = await runPlaywright(p, ['e2e/off.spec.ts'], { RIG_CA_DIR: caDir, PATH: withoutCertutil() })
    expect(r.code).not.toBe(0)
    expect(r.output).toContain('that takes NSS\'s `certutil`, which is not installed. Install it with `apt-get install libnss3-tools`')
    expect(r.output).toContain('withRig(config, { trustCA: false })')
    expect(r.output).not.toMatch(/passed|with trustCA: false the page fails/)
    await nothingLeft()
    cas.push(fs.readFileSync(path.join(caDir, 'ca.crt'), 'utf8'))
    expect(fs.existsSync(browserTrustHome(cas.at(-1) as string))).toBe(false)

    const off = await runPlaywright(p, ['e2e/off.spec.ts'], { RIG_CA_DIR: caDir, PATH: withoutCertutil(), TRUST_CA: '0' })
    expect(off.code, off.output).toBe(0)
    expect(readReport(p).tests).toMatchObject([{ name: 'with trustCA: false the page fails on its certificate', status: 'passed' }])
    await nothingLeft()
  })
})
