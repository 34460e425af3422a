// expectTcp, expectDns, expectTlsCert: the network layers under HTTP, checked one by one so a
// failure says which layer broke.
import dns from 'node:dns'
import net from 'node:net'
import tls from 'node:tls'
import { ProbeFailure } from '../../probes/probe.ts'
import { note, signalFor, warn } from '../context.ts'
import { failure, raceSignal } from './_fail.ts'

/** Passes when a TCP connection to `host:port` is accepted; resolves with the connect time in ms. */
export async function expectTcp(host: string, port: number, options: { signal?: AbortSignal } = {}): Promise<number> {
  const signal = signalFor(options.signal)
  const t0 = performance.now()
  await new Promise<void>((resolve, reject) => {
    const socket = net.connect({ host, port })
    const done = (err?: unknown): void => {
      signal?.removeEventListener('abort', onAbort)
      socket.destroy()
      if (err) reject(failure(`tcp ${host}:${port}`, err))
      else resolve()
    }
    const onAbort = (): void => done(signal?.reason)
    if (signal?.aborted) return onAbort()
    signal?.addEventListener('abort', onAbort, { once: true })
    socket.once('connect', () => done())
    socket.once('error', done)
  })
  const ms = performance.now() - t0
  note(`connected in ${Math.round(ms)} ms`)
  return ms
}

/** Options of {@link expectDns}. */
export interface ExpectDnsOptions {
  /** @default 0 (either) */
  family?: 0 | 4 | 6
  /** An address the name must resolve to. */
  includes?: string
  signal?: AbortSignal
}

/** Passes when `hostname` resolves (through the system resolver, as the app would); resolves with the addresses. */
export async function expectDns(hostname: string, options: ExpectDnsOptions = {}): Promise<string[]> {
  let found: dns.LookupAddress[]
  try {
    found = await raceSignal(dns.promises.lookup(hostname, { all: true, family: options.family ?? 0 }), signalFor(options.signal))
  } catch (err) {
    throw failure(`dns ${hostname}`, err)
  }
  const addresses = found.map((a) => a.address)
  if (options.includes !== undefined && !addresses.includes(options.includes)) throw new ProbeFailure('dns', `dns ${hostname} resolved to ${addresses.join(', ')}, not ${options.includes}`)
  note(`${hostname} → ${addresses.join(', ')}`)
  return addresses
}

/** Options of {@link expectTlsCert}. */
export interface ExpectTlsCertOptions {
  /** @default 443, or the URL's port */
  port?: number
  /** Fails when the certificate expires within this many days. @default 14 */
  minDaysLeft?: number
  /** Warns when it expires within this many days. */
  warnDaysLeft?: number
  /** Name sent in SNI and verified. @default the host */
  servername?: string
  /** Extra trusted CA certificates (PEM), e.g. an internal CA. */
  ca?: string | Buffer | Array<string | Buffer>
  /** Verify the chain and host name. @default true */
  verify?: boolean
  signal?: AbortSignal
}

/** What the certificate says. */
export interface TlsCertSeen {
  subject: string
  issuer: string
  validTo: Date
  daysLeft: number
}

/**
 * Passes when `hostOrUrl` presents a valid certificate that does not expire within
 * `minDaysLeft` days. Fails with reason `tls` otherwise.
 */
export async function expectTlsCert(hostOrUrl: string, options: ExpectTlsCertOptions = {}): Promise<TlsCertSeen> {
  const u = /^[a-z]+:\/\//i.test(hostOrUrl) ? new URL(hostOrUrl) : undefined
  const host = u ? u.hostname.replace(/^\[|\]$/g, '') : hostOrUrl
  const port = options.port ?? (u?.port ? Number(u.port) : 443)
  const what = `tls ${host}:${port}`
  const signal = signalFor(options.signal)
  const cert = await new Promise<tls.PeerCertificate>((resolve, reject) => {
    const servername = options.servername ?? (net.isIP(host) ? undefined : host)
    const socket = tls.connect({ host, port, rejectUnauthorized: options.verify ?? true, ...(servername ? { servername } : {}), ...(options.ca ? { ca: options.ca } : {}) })
    const done = (err: unknown, c?: tls.PeerCertificate): void => {
      signal?.removeEventListener('abort', onAbort)
      socket.destroy()
      if (err) reject(failure(what, err))
      else resolve(c as tls.PeerCertificate)
    }
    const onAbort = (): void => done(signal?.reason)
    if (signal?.aborted) return onAbort()
    signal?.addEventListener('abort', onAbort, { once: true })
    socket.once('secureConnect', () => done(undefined, socket.getPeerCertificate()))
    socket.once('error', (err) => done(err))
  })
  if (!cert || !cert.valid_to) throw new ProbeFailure('tls', `${what}: the server presented no certificate`)
  const validTo = new Date(cert.valid_to)
  const daysLeft = (validTo.getTime() - Date.now()) / 86_400_000
  const days = Math.floor(daysLeft)
  const min = options.minDaysLeft ?? 14
  if (daysLeft < min) throw new ProbeFailure('tls', `${what}: certificate ${daysLeft < 0 ? `expired ${-days} day(s) ago` : `expires in ${days} day(s)`} (${validTo.toISOString()}), under the ${min}-day minimum: renew it`)
  if (options.warnDaysLeft !== undefined && daysLeft < options.warnDaysLeft) warn(`${what}: certificate expires in ${days} day(s)`)
  const name = (x: unknown): string => String((x as { CN?: unknown } | undefined)?.CN ?? '')
  note(`certificate valid for ${days} more day(s)`)
  return { subject: name(cert.subject), issuer: name(cert.issuer), validTo, daysLeft }
}
