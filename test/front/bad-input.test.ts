// The front proxy asked for the impossible: each a clear error that says what to do, and
// nothing left running or listening.
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { validateConfig } from '../../src/config/validate.ts'
import { command, http as httpProbe, postgres, redis, type Environment } from '../../src/index.ts'
import { planFront } from '../../src/front/plan.ts'
import { freePort } from '../../src/providers/process/ports.ts'
import { assertNothingLeft, rejection, start } from '../support/env.ts'

const app = path.join(import.meta.dirname, 'fixtures/app.mjs')
const svc = () => command({ run: [process.execPath, app], env: { PORT: '{port}' }, ready: httpProbe('/health') })

let env: Environment | undefined
afterEach(async () => {
  await env?.stop()
  env = undefined
})
afterAll(async () => {
  await assertNothingLeft()
})

describe('at start', () => {
  it('a port another program holds: says which port, why that one, and how to choose another; nothing started', async () => {
    const port = await freePort()
    const squatter = net.createServer().listen(port, '127.0.0.1')
    await new Promise((r) => squatter.once('listening', r))
    const events: string[] = []
    const err = await rejection(start({ project: `busy-${process.pid}`, front: { port }, services: { api: svc() } }, { onEvent: (e) => events.push(e.type) }))
    squatter.close()
    expect(err.code).toBe('RIG_FRONT_PORT_IN_USE')
    expect(err.message).toContain(`the front proxy needs port ${port} (set by \`front.port\` in rig.config.ts), and another program listens there`)
    expect(err.message).toContain('`front: { port: N }`')
    expect(events).not.toContain('started')
    await assertNothingLeft()
  })

  it("a port held by another project's front proxy names that project", async () => {
    const port = await freePort()
    env = await start({ project: `first-${process.pid}`, front: { port }, services: { api: svc() } })
    const err = await rejection(start({ project: `second-${process.pid}`, front: { port }, services: { api: svc() } }))
    expect(err.code).toBe('RIG_FRONT_PORT_IN_USE')
    expect(err.message).toContain(`rig's front proxy of project "first-${process.pid}"`)
  })

  it('two projects of one name, even on different ports: the second is refused, naming the first and the option to rename', async () => {
    const name = `twin-${process.pid}`
    const a = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-twin-a-'))
    const b = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-twin-b-'))
    env = await start({ project: name, front: { port: await freePort() }, services: { api: svc() } }, { root: a })
    const err = await rejection(start({ project: name, front: { port: await freePort() }, services: { api: svc() } }, { root: b }))
    expect(err.code).toBe('RIG_PROJECT_NAME_TAKEN')
    expect(err.message).toContain(`project "${name}" is already running from ${a}`)
    expect(err.message).toContain("`project: '…'`")
    // The same project started twice is told to use or stop the running one.
    const again = await rejection(start({ project: name, front: { port: await freePort() }, services: { api: svc() } }, { root: a }))
    expect(again.code).toBe('RIG_FRONT_BUSY')
    await env.stop()
    env = undefined
    // Once the first is gone, the name is free.
    env = await start({ project: name, front: { port: await freePort() }, services: { api: svc() } }, { root: b })
    fs.rmSync(a, { recursive: true })
    fs.rmSync(b, { recursive: true })
  })

  it('a public service without a port is refused with what to do', async () => {
    const err = await rejection(start({ project: `noport-${process.pid}`, front: { port: await freePort() }, services: { api: command({ run: 'sleep 600', public: true }) } }))
    expect(err.message).toContain('service "api" is public on the front proxy but has no port rig knows')
  })
})

describe('in the config', () => {
  it('HTTP asked of a service that does not speak it, bad values, and a front with nothing to serve', () => {
    expect(() => validateConfig({ front: true, services: { db: postgres({ public: true }) } })).toThrow(/service "db" \(postgres\) does not speak HTTP.*use its `ssl: true`/)
    expect(() => validateConfig({ front: true, services: { cache: redis({ public: true }) } })).toThrow(/RIG_CACHE_URL/)
    expect(() => validateConfig({ project: 'My App', services: { a: redis() } })).toThrow(/project must be a DNS label/)
    expect(() => validateConfig({ front: { port: 70000 }, services: { a: redis() } })).toThrow(/front.port must be an integer from 1 to 65535/)
    expect(() => validateConfig({ front: { prot: 1 } as never, services: { a: redis() } })).toThrow(/unknown option "front.prot" \(allowed: port, tls\)/)
    expect(() => validateConfig({ front: 'yes' as never, services: { a: redis() } })).toThrow(/front must be true, false or \{ port, tls \}/)
    expect(() => planFront({ front: true, services: { cache: redis() } }, '/x/shop')).toThrow(/front is on, but no service is public/)
  })

  it('who is public: a command with an http() probe unless public: false, anything with public: true; names as DNS labels', () => {
    const plan = planFront({ front: true, services: { my_api: svc(), hidden: { ...svc(), options: { ...svc().options, public: false } }, raw: command({ run: 'x {port}', public: true }), cache: redis() } }, '/srv/My Shop!')
    expect(plan?.project).toBe('my-shop')
    expect(plan?.services).toEqual({ my_api: 'my-api', raw: 'raw' })
  })
})
