// Errors a new user met that pointed the wrong way, run through the real CLI: each now names the
// actual problem (no port, another port, a syntax error's place, a typo, a full disk) and
// suggests more time only when more time can help.
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { envDirs, FIXTURES, leftovers, makeProject, type Project } from '../support/project.ts'
import { waitUntil } from '../support/procs.ts'

const SERVER = path.join(FIXTURES, 'echo-server.cjs')
const projects: Project[] = []
afterEach(async () => {
  for (const p of projects.splice(0)) {
    await p.dispose()
    expect(await waitUntil(() => leftovers(p.dir).length === 0), leftovers(p.dir).join('\n')).toBe(true)
  }
})

function project(services: string, extra = ''): Project {
  const p = makeProject(`import { defineConfig, postgres, redis, command, http, tcp } from 'testrig'\n${extra}\nexport default defineConfig({ services: { ${services} } })\n`)
  projects.push(p)
  return p
}

async function nothingLeft(p: Project): Promise<void> {
  expect(await waitUntil(() => leftovers(p.dir).length === 0), leftovers(p.dir).join('\n')).toBe(true)
  expect(await waitUntil(() => envDirs(p.dir).length === 0)).toBe(true)
}

/** A port nothing listens on right now. */
async function unusedPort(): Promise<number> {
  const srv = net.createServer().listen(0, '127.0.0.1')
  await new Promise((r) => srv.once('listening', r))
  const port = (srv.address() as net.AddressInfo).port
  await new Promise((r) => srv.close(r))
  return port
}

describe('readiness failures say what is wrong', () => {
  it('an HTTP probe on a service with no port says so at once (not "Invalid URL" after the deadline)', async () => {
    // A 10-minute deadline: only failing at once lets this test finish.
    const p = project(`api: command({ run: 'exec sleep 600', ready: http('/health'), readyTimeout: 600_000 })`)
    const r = await p.rig(['up'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('service "api" cannot be checked for readiness: http() needs the address of "api", but it has no port or url')
    expect(r.stderr).toContain("env: { PORT: '{port}' }")
    expect(r.stderr).not.toContain('Invalid URL')
    await nothingLeft(p)
  })

  it('a server that ignores {port}: the address, ECONNREFUSED, and where it does listen', async () => {
    const fixed = await unusedPort()
    const p = project(`api: command({ run: [process.execPath, ${JSON.stringify(SERVER)}], env: { APP_PORT: '{port}', PORT: '${fixed}' }, ready: http('/health'), readyTimeout: 6000 })`)
    const r = await p.rig(['up'])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/last error: GET http:\/\/127\.0\.0\.1:(\d+)\/health: connect ECONNREFUSED 127\.0\.0\.1:\1/)
    expect(r.stderr).not.toContain('fetch failed')
    expect(r.stderr).toMatch(new RegExp(`nothing listens on 127\\.0\\.0\\.1:\\d+, but it listens on 127\\.0\\.0\\.1:${fixed}: make it listen on the port rig gives it`))
    expect(r.stderr).not.toContain('readyTimeout')
    await nothingLeft(p)
  })

  it('no "raise readyTimeout" when the probe fails the same way all along, or the process exited', async () => {
    const p = project(`api: command({ run: [process.execPath, ${JSON.stringify(SERVER)}], env: { PORT: '{port}' }, ready: http('/nope'), readyTimeout: 6000 })`)
    const r = await p.rig(['up'])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/last error: GET http:\/\/127\.0\.0\.1:\d+\/nope answered 404: not found/)
    expect(r.stderr).toMatch(/the probe failed the same way for the last [\d.]+ s \(see the last error\): fix the service or the probe/)
    expect(r.stderr).not.toContain('raise its `readyTimeout`')
    const crash = project(`api: command({ run: 'echo "no config"; exit 3', env: { PORT: '{port}' }, readyTimeout: 60_000 })`)
    const c = await crash.rig(['up'])
    expect(c.code).toBe(1)
    expect(c.stderr).toContain('service "api" exited with code 3 while starting')
    expect(c.stderr).not.toContain('readyTimeout')
    await nothingLeft(p)
  })

  it('"raise readyTimeout" when it can help: the service answers, but slower than the probe waits', async () => {
    // Accepts connections and never answers: every attempt runs into the probe's own timeout.
    const p = project(`api: command({ run: [process.execPath, '-e', "require('net').createServer(() => {}).listen(Number(process.env.PORT), '127.0.0.1')"], env: { PORT: '{port}' }, ready: http('/health', { timeoutMs: 300 }), readyTimeout: 6000 })`)
    const r = await p.rig(['up'])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain("its answers took longer than the probe's own timeout: if it is just slow, raise its `readyTimeout`")
    await nothingLeft(p)
  })
})

describe('config and command-line mistakes', () => {
  it('a syntax error in rig.config.ts shows file:line:col and the code there', async () => {
    const p = project(`api: command({ run: 'sleep 1' }),,`)
    const r = await p.rig(['up'])
    expect(r.code).toBe(2)
    const file = path.join(p.dir, 'rig.config.ts')
    expect(r.stderr).toContain(`could not load ${file}: SyntaxError: Unexpected token`)
    expect(r.stderr).toMatch(new RegExp(`at ${file.replaceAll('/', '\\/').replaceAll('.', '\\.')}:3:\\d+`))
    expect(r.stderr).toMatch(/> 3 \| export default defineConfig\(\{ services: \{ api: command\(\{ run: 'sleep 1' \}\),, \} \}\)\n {6}\| +\^/)
  })

  it('an error thrown while the config runs points at its line', async () => {
    const p = project(`db: postgres()`, `const port = Number(process.env.NOPE.trim())`)
    const s = await p.rig(['up'])
    expect(s.code).toBe(2)
    expect(s.stderr).toMatch(/TypeError: Cannot read properties of undefined \(reading 'trim'\)\n {2}at .*rig\.config\.ts:2:\d+/)
    expect(s.stderr).toContain("> 2 | const port = Number(process.env.NOPE.trim())")
  })

  it('a mistyped command or option gets a "did you mean"', async () => {
    const p = project(`cache: redis()`)
    const r = await p.rig(['stauts', '--json'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('unknown command "stauts" — did you mean "status"? (rig status --json)')
    const o = await p.rig(['up', '--detatch'])
    expect(o.code).toBe(2)
    expect(o.stderr).toContain('did you mean --detach?')
  })
})

const canMount = process.getuid?.() === 0 && process.platform === 'linux'

describe.skipIf(!canMount)('a full disk', () => {
  it('one error naming the place, the free space and the need, instead of one line per file', async () => {
    const p = project(`db: postgres(), cache: redis()`)
    const small = path.join(p.dir, 'small-tmpfs')
    fs.mkdirSync(small)
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m,mode=1777', 'tmpfs', small])
    try {
      const r = await p.rig(['up'], { env: { RIG_TMP_DIR: small } })
      expect(r.code).toBe(1)
      expect(r.stderr).toMatch(new RegExp(`no space left on the device of ${small.replaceAll('/', '\\/')} while copying PostgreSQL's data directory \\(.*\\): [\\d.]+ MiB free of 4\\.0 MiB, [\\d.]+ MiB needed`))
      expect(r.stderr).toContain('RIG_TMP_DIR')
      expect(r.stderr.split('\n').filter((l) => l.includes('No space left')).length).toBe(0)
      expect(r.stderr.split('\n').length).toBeLessThan(12)
      expect(await waitUntil(() => leftovers(p.dir).length === 0)).toBe(true)
    } finally {
      execFileSync('umount', ['-l', small])
    }
  })
})
