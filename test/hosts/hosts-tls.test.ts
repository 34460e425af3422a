// TLS to services on hosts (network namespaces, as root): PostgreSQL with `ssl: true` on core1
// and Redis with `tls: true` on core2 get certificates that carry their host's address, from the
// environment's hosts CA, so `sslmode=verify-full` and node-redis's checks pass against that
// address; rig's CA alone does not verify them, and an application on a host reaches both with
// the URL alone. Nothing is left in the kernel after the stop.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import tls from 'node:tls'
import { X509Certificate } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createGuard, storesFor } from '../../src/guard/index.ts'
import { command, postgres, redis, tcp, type Environment } from '../../src/index.ts'
import { loadCA, type LocalCA } from '../../src/tls/ca.ts'
import { splitPem } from '../../src/tls/client-trust.ts'
import { assertNothingLeft, rejection, start } from '../support/env.ts'
import { expectNothingInKernel, NO_HOSTS } from './support.ts'

const APP = path.join(import.meta.dirname, '../tls/fixtures/redis-app.mjs')
const DB_CLIENT = path.join(import.meta.dirname, 'fixtures/db-client.mjs')
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-hosts-tls-'))

describe.skipIf(NO_HOSTS)('TLS to services on hosts', () => {
  let env: Environment
  let ca: LocalCA
  beforeAll(async () => {
    process.env.RIG_CA_DIR = path.join(tmp, 'ca')
    ca = loadCA() as LocalCA
    env = await start({
      project: `htls-${process.pid}`,
      hosts: { core1: {}, core2: {} },
      services: {
        db: postgres({ host: 'core1', ssl: true }),
        cache: redis({ host: 'core2', tls: true }),
        api: command({ host: 'core1', run: [process.execPath, APP], env: ({ cache }) => ({ REDIS_URL: cache?.url ?? '', PORT: '{port}', HOST: '{host}' }), dependsOn: ['cache'], ready: tcp() }),
        dbapi: command({ host: 'core2', run: [process.execPath, DB_CLIENT], env: ({ db }) => ({ DATABASE_URL: db?.url ?? '', PORT: '{port}', HOST: '{host}' }), dependsOn: ['db'], ready: tcp() }),
      },
    })
  })
  afterAll(async () => {
    await env?.stop()
    delete process.env.RIG_CA_DIR
    fs.rmSync(tmp, { recursive: true, force: true })
    await assertNothingLeft(env)
    expectNothingInKernel()
  })

  it('PostgreSQL: verify-full against the host address passes; rig CA alone does not verify the certificate', async () => {
    const db = env.get('db')
    const address = env.host('core1').address
    expect(db.url).toContain(`@${address}:`)
    expect(db.url).toContain('sslmode=verify-full')
    const trust = db.env.RIG_DB_SSL_ROOT_CERT as string
    expect(db.env.RIG_CA_CERT).toBe(trust)
    // The trust file holds rig's CA and the environment's hosts CA.
    const cas = splitPem(fs.readFileSync(trust, 'utf8')).map((p) => new X509Certificate(p))
    expect(cas.map((c) => c.subject)).toEqual([ca.cert.subject, expect.stringContaining('testrig hosts CA')])
    const { default: pg } = await import('pg')
    const client = new pg.Client({ connectionString: db.url })
    await client.connect()
    const row = (await client.query('select ssl from pg_stat_ssl where pid = pg_backend_pid()')).rows[0] as { ssl: boolean }
    await client.end()
    expect(row.ssl).toBe(true)
    const narrow = new pg.Client({ connectionString: db.url.replace(encodeURIComponent(trust), encodeURIComponent(ca.certFile)) })
    const err = await rejection(narrow.connect())
    await narrow.end().catch(() => {})
    expect(err.message).toMatch(/unable to (get local issuer|verify)|self[- ]signed/)
    // An application on the other host reaches it with the URL alone.
    const r = await fetch(env.get('dbapi').url, { signal: AbortSignal.timeout(30_000) })
    expect(await r.json()).toEqual({ ok: true })
  })

  it("Redis: the certificate carries the host's address; node-redis with the CA verifies it, without the CA it is refused", async () => {
    const cache = env.get('cache')
    const address = env.host('core2').address
    expect(cache.url).toMatch(new RegExp(`^rediss://default:[^@]+@${address.replace(/\./g, '\\.')}:${cache.port}$`))
    const caFile = cache.env.RIG_CACHE_CA_CERT as string
    const peer = await new Promise<tls.PeerCertificate>((resolve, reject) => {
      const s = tls.connect({ host: address, port: cache.port, ca: fs.readFileSync(caFile, 'utf8') }, () => {
        resolve(s.getPeerCertificate())
        s.destroy()
      })
      s.on('error', reject)
    })
    expect(peer.subjectaltname).toContain(`IP Address:${address}`)
    const { createClient } = await import('redis')
    const good = createClient({ url: cache.url, socket: { tls: true, ca: fs.readFileSync(caFile, 'utf8'), reconnectStrategy: false } })
    good.on('error', () => {})
    await good.connect()
    expect(await good.ping()).toBe('PONG')
    good.destroy()
    const bad = createClient({ url: cache.url, socket: { reconnectStrategy: false } })
    bad.on('error', () => {})
    expect((await rejection(bad.connect())).message).toMatch(/self[- ]signed certificate in certificate chain|unable to (get local issuer|verify)/)
    // An application on another host, given only the URL, trusts the CAs through NODE_EXTRA_CA_CERTS.
    const r = await fetch(env.get('api').url, { signal: AbortSignal.timeout(30_000) })
    expect(await r.json()).toEqual({ ok: true, ping: 'PONG' })
  })

  it("the guard sees a test's keys and rows over TLS at the hosts' addresses", async () => {
    const guard = createGuard({ stores: storesFor(env) })
    const { createClient } = await import('redis')
    const cache = env.get('cache')
    const app = createClient({ url: cache.url, socket: { tls: true, ca: fs.readFileSync(cache.env.RIG_CACHE_CA_CERT as string, 'utf8'), reconnectStrategy: false } })
    app.on('error', () => {})
    await app.connect()
    const { default: pg } = await import('pg')
    const db = new pg.Client({ connectionString: env.get('db').url })
    await db.connect()
    try {
      await db.query('create table if not exists orders (id int primary key)')
      await guard.baseline()
      await app.set('session:1', 'a')
      await db.query('insert into orders values (1)')
      const rep = await guard.check('orders')
      expect(rep.leaked).toBe(true)
      expect(rep.message).toContain('redis cache: 1 key added without TTL: session:1')
      expect(rep.message).toMatch(/postgres db: .*orders/)
      expect(await app.exists('session:1')).toBe(0)
      expect((await db.query('select count(*)::int as n from orders')).rows[0]).toEqual({ n: 0 })
    } finally {
      await guard.close()
      app.destroy()
      await db.end()
    }
  })
})
