// prodLike(): the variant that runs the suite as in production. The front proxy comes on (its
// port from the config kept), HTTPS when asked, RIG_PROFILE and the app's flags as env; a
// variant's `front` is checked like the config's, naming the variant.
import nodeHttp from 'node:http'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { validateConfig } from '../../src/config/validate.ts'
import { command, defineConfig, http, postgres, prodLike, type Environment, type RigConfig } from '../../src/index.ts'
import { freePort } from '../../src/providers/process/ports.ts'
import { applyVariant, mergeFront } from '../../src/variants/variants.ts'
import { assertNothingLeft, start } from '../support/env.ts'

let env: Environment | undefined
afterEach(async () => {
  await env?.stop()
  env = undefined
})
afterAll(async () => {
  await assertNothingLeft()
})

const message = (f: () => unknown): string => {
  try {
    f()
    return 'ok'
  } catch (err) {
    return (err as Error).message
  }
}

describe('prodLike()', () => {
  it('turns the front proxy on (HTTPS with https: true), sets RIG_PROFILE and the app\'s flags, overlays services', () => {
    expect(prodLike()).toEqual({ front: true, env: { RIG_PROFILE: 'prod-like' } })
    expect(prodLike({ https: true, env: { APP_ENV: 'production', COOKIE_SECURE: 'true' }, services: { api: { env: { DEBUG: '' } } } })).toEqual({
      front: { tls: true },
      env: { RIG_PROFILE: 'prod-like', APP_ENV: 'production', COOKIE_SECURE: 'true' },
      services: { api: { env: { DEBUG: '' } } },
    })
  })

  it("a variant's front is merged over the config's: true keeps its port, an object adds to it, false turns it off", () => {
    expect(mergeFront({ port: 5555 }, true)).toEqual({ port: 5555 })
    expect(mergeFront({ port: 5555 }, { tls: true })).toEqual({ port: 5555, tls: true })
    expect(mergeFront(undefined, true)).toBe(true)
    expect(mergeFront(true, { tls: true })).toEqual({ tls: true })
    expect(mergeFront({ port: 5555, tls: true }, false)).toBe(false)
    const config: RigConfig = defineConfig({ services: { db: postgres() }, front: { port: 5555 }, variants: { 'prod-like': prodLike({ https: true }), dev: {} } })
    expect(applyVariant(config, 'prod-like').front).toEqual({ port: 5555, tls: true })
    expect(applyVariant(config, 'dev').front).toEqual({ port: 5555 })
  })

  it("a variant's front is checked before anything starts, naming the variant", () => {
    const services = { db: postgres() }
    expect(message(() => validateConfig({ services, variants: { 'prod-like': prodLike({ https: true }) } }))).toBe('ok')
    expect(message(() => validateConfig({ services, variants: { p: { front: { tls: 'yes' } } } } as unknown as RigConfig))).toMatch(/variant "p": front\.tls must be true or false, got "yes"/)
    expect(message(() => validateConfig({ services, variants: { p: { front: { porte: 1 } } } } as unknown as RigConfig))).toMatch(/variant "p": unknown option "front\.porte" \(allowed: port, tls\)/)
    expect(message(() => validateConfig({ services, variants: { p: { frnt: true } } } as unknown as RigConfig))).toMatch(/variant "p": unknown key "frnt" — did you mean "front"\? \(allowed: services, env, front\)/)
  })

  it('started: the app is reached at its public name on the front port of the config', async () => {
    const port = await freePort()
    const app = `require('node:http').createServer((q, s) => s.end(process.env.RIG_API_PUBLIC_URL || 'none')).listen(process.env.PORT, '127.0.0.1')`
    const config = defineConfig({
      project: 'prodlike',
      front: { port },
      services: { api: command({ run: [process.execPath, '-e', app], env: { PORT: '{port}' }, ready: http('/') }) },
      variants: { 'prod-like': prodLike() },
    })
    env = await start(applyVariant(config, 'prod-like'))
    const publicUrl = env.vars().RIG_API_PUBLIC_URL
    expect(publicUrl).toBe(`http://api.prodlike.localhost:${port}`)
    // Through the front proxy, by name (Host routes it), on the port the config fixed.
    const body = await new Promise<string>((resolve, reject) => {
      nodeHttp.get({ host: '127.0.0.1', port, path: '/', headers: { host: `api.prodlike.localhost:${port}` } }, (res) => {
        let text = ''
        res.setEncoding('utf8').on('data', (d: string) => (text += d)).on('end', () => resolve(text))
      }).on('error', reject)
    })
    expect(body).toBe(publicUrl)
  })
})
