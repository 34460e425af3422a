// Server certificates from rig's CA, for names of one project only: `<project>.localhost`,
// anything under it, `localhost` and loopback addresses. A fresh key and certificate per start
// (an EC key costs about a millisecond), so none goes stale or outlives its environment.
import { generateKeyPairSync, createPublicKey } from 'node:crypto'
import net from 'node:net'
import { RigError } from '../errors.ts'
import type { Cidr } from '../hosts/subnet.ts'
import type { LocalCA } from './ca.ts'
import { createCertificate } from './x509.ts'

const DAY = 86_400_000

/** A key and its certificate, PEM. */
export interface IssuedCertificate {
  cert: string
  key: string
}

const LOOPBACK = (n: string): boolean => (net.isIPv4(n) && n.startsWith('127.')) || n === '::1'

/** Whether IPv4 address `n` lies in `r`. */
function inRange(n: string, r: Cidr): boolean {
  if (!net.isIPv4(n)) return false
  const addr = n.split('.').reduce((a, o) => a * 256 + Number(o), 0)
  const mask = r.prefix === 0 ? 0 : (0xffffffff << (32 - r.prefix)) >>> 0
  return ((addr & mask) >>> 0) === r.base
}

/**
 * Throws `RIG_TLS_NAME_OUTSIDE` for a name a certificate of `project` may not carry; `ranges`:
 * addresses an environment's hosts CA may vouch for besides.
 */
export function checkNames(project: string, names: readonly string[], ranges: readonly Cidr[] = []): void {
  const domain = `${project}.localhost`
  for (const n of names) {
    const ok =
      n === 'localhost' || LOOPBACK(n) || ranges.some((r) => inRange(n, r)) || n === domain || (n.endsWith(`.${domain}`) && /^(\*|[a-z0-9]([a-z0-9-]*[a-z0-9])?)$/.test(n.slice(0, -domain.length - 1)))
    if (!ok) {
      throw new RigError(
        'RIG_TLS_NAME_OUTSIDE',
        `rig's CA issues certificates for project "${project}" only for ${domain}, one label under it (e.g. api.${domain}, *.${domain}), localhost and loopback addresses; "${n}" is outside: use a service name of this project, or another project's own environment for its names`,
        { exitCode: 2 },
      )
    }
  }
}

/** Issues a server certificate for `names` of `project`, valid `days` (30) from `now`; `ranges` as {@link checkNames}. */
export function issueCertificate(ca: Pick<LocalCA, 'cert' | 'key'>, project: string, names: readonly string[], options: { days?: number; now?: number; ranges?: readonly Cidr[] } = {}): IssuedCertificate {
  checkNames(project, names, options.ranges)
  const now = options.now ?? Date.now()
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const cert = createCertificate({
    subject: names[0] ?? `${project}.localhost`,
    issuer: ca.cert.subject.replace(/^[\s\S]*CN=/, '').split('\n')[0] ?? '',
    publicKey,
    signingKey: ca.key,
    issuerPublicKey: createPublicKey(ca.key),
    notBefore: new Date(now - DAY),
    notAfter: new Date(now + (options.days ?? 30) * DAY),
    names,
  })
  return { cert, key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string }
}

/** The names of a project's front certificate. */
export function frontNames(project: string): string[] {
  return [`*.${project}.localhost`, `${project}.localhost`, 'localhost', '127.0.0.1', '::1']
}
