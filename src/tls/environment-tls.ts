// TLS for one environment: when the front proxy serves HTTPS or a service asks for `ssl`, rig's
// CA is loaded (made on first use), certificates are issued for the project's names, and every
// process the environment starts is told to trust the CA (`NODE_EXTRA_CA_CERTS`).
import { generateKeyPairSync, X509Certificate, type KeyObject } from 'node:crypto'
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { type Cidr, formatCidr, parseCidr } from '../hosts/subnet.ts'
import { writePrivateFile } from '../fs-safe/private-file.ts'
import { hostLabel } from '../front/plan.ts'
import { loadCA, type LocalCA } from './ca.ts'
import { rememberTrust } from './client-trust.ts'
import { frontNames, issueCertificate, type IssuedCertificate } from './issue.ts'
import { createCertificate } from './x509.ts'

const DAY = 86_400_000

/** A certificate for one service, with the CA file clients verify it against. */
export interface ServiceCertificate extends IssuedCertificate {
  /** rig's CA certificate (PEM file): `sslrootcert`, `NODE_EXTRA_CA_CERTS`, `--cacert`. */
  caFile: string
}

/** The TLS of a running environment. */
export interface EnvironmentTls {
  ca: LocalCA
  /** The file every process is told to trust (rig's CA and the hosts CA, with the user's own extra CAs when set). */
  bundle: string
  /** `NODE_EXTRA_CA_CERTS` and `RIG_CA_CERT`. */
  vars: Record<string, string>
  /** The front proxy's certificate (`*.<project>.localhost`). */
  front(): IssuedCertificate
  /**
   * A certificate for `service` (`<service>.<project>.localhost`, localhost, loopback), and
   * `address` when it is a host's (issued by the environment's hosts CA).
   */
  forService(service: string, address?: string): ServiceCertificate
}

/** Whether a service asks for TLS of its own: PostgreSQL's `ssl: true`, Redis's `tls: true`. */
export function servesTls(options: object): boolean {
  const o = options as { ssl?: unknown; tls?: unknown }
  return o.ssl === true || o.tls === true
}

/** Whether a config needs rig's CA: HTTPS on the front proxy, or a service serving TLS ({@link servesTls}). */
export function needsTls(config: { front?: unknown; services: Record<string, { options: object }> }): boolean {
  const front = config.front
  if (typeof front === 'object' && front !== null && (front as { tls?: unknown }).tls === true) return true
  return Object.values(config.services).some((d) => servesTls(d.options))
}

/**
 * An environment's hosts CA: made in memory for one environment whose services run on `hosts`,
 * constrained to the names rig's CA may carry and the environment's /24, so certificates can
 * carry a host's address (rig's CA is limited to loopback and cannot). Its key never leaves the
 * process and goes with it; only the environment's processes and URLs trust its certificate.
 */
function hostsCA(project: string, subnet: Cidr): { cert: X509Certificate; key: KeyObject; certPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const now = Date.now()
  // No comma: the issuer name of the certificates it signs is read back from the parsed subject.
  const subject = `testrig hosts CA (${project} on ${formatCidr(subnet)})`
  const certPem = createCertificate({ subject, issuer: subject, publicKey, signingKey: privateKey, issuerPublicKey: publicKey, notBefore: new Date(now - DAY), notAfter: new Date(now + 30 * DAY), ca: true, permitIpv4: [subnet] })
  return { cert: new X509Certificate(certPem), key: privateKey, certPem }
}

/**
 * Loads the CA and prepares the environment's TLS; `dir` is the environment's private dir.
 * `hostSubnet`: the /24 of the environment's hosts, when it has some (see {@link hostsCA}).
 */
export function environmentTls(project: string, dir: string, options: { hostSubnet?: string } = {}): EnvironmentTls {
  const ca = loadCA() as LocalCA
  const subnet = options.hostSubnet === undefined ? undefined : parseCidr(options.hostSubnet)
  const hosts = subnet ? hostsCA(project, subnet) : undefined
  // The CAs that verify this environment's certificates: rig's, and the hosts CA when there is one.
  // rig's comes first: the Playwright fixtures' Chromium trusts that one only (src/playwright/launch-trust.ts).
  let trust = ca.certFile
  if (hosts) {
    trust = path.join(dir, 'ca-trust.pem')
    writePrivateFile(trust, `${ca.certPem.trimEnd()}\n${hosts.certPem}`, 0o644)
  }
  rememberTrust(trust)
  // NODE_EXTRA_CA_CERTS names one file: a user's own extra CAs stay trusted beside rig's.
  const own = process.env.NODE_EXTRA_CA_CERTS
  let bundle = trust
  if (own && own !== ca.certFile && own !== trust && fs.existsSync(own)) {
    bundle = path.join(dir, 'ca-bundle.pem')
    writePrivateFile(bundle, `${fs.readFileSync(own, 'utf8').trimEnd()}\n${fs.readFileSync(trust, 'utf8')}`, 0o644)
  }
  const names = (service: string): string[] => [`${hostLabel(service)}.${project}.localhost`, 'localhost', '127.0.0.1', '::1']
  return {
    ca,
    bundle,
    vars: { NODE_EXTRA_CA_CERTS: bundle, RIG_CA_CERT: trust },
    front: () => issueCertificate(ca, project, frontNames(project)),
    forService: (service, address) => {
      // On a host: the host's address too, which only the hosts CA may vouch for.
      if (hosts && subnet && address !== undefined && !isLoopback(address)) return { ...issueCertificate(hosts, project, [...names(service), address], { ranges: [subnet] }), caFile: trust }
      return { ...issueCertificate(ca, project, names(service)), caFile: trust }
    },
  }
}

const isLoopback = (a: string): boolean => a === '::1' || a === 'localhost' || (net.isIPv4(a) && a.startsWith('127.'))
