// TLS for one environment: when the front proxy serves HTTPS or a service asks for `ssl`, rig's
// CA is loaded (made on first use), certificates are issued for the project's names, and every
// process the environment starts is told to trust the CA (`NODE_EXTRA_CA_CERTS`).
import fs from 'node:fs'
import path from 'node:path'
import { writePrivateFile } from '../fs-safe/private-file.ts'
import { hostLabel } from '../front/plan.ts'
import { loadCA, type LocalCA } from './ca.ts'
import { rememberTrust } from './client-trust.ts'
import { frontNames, issueCertificate, type IssuedCertificate } from './issue.ts'

/** A certificate for one service, with the CA file clients verify it against. */
export interface ServiceCertificate extends IssuedCertificate {
  /** rig's CA certificate (PEM file): `sslrootcert`, `NODE_EXTRA_CA_CERTS`, `--cacert`. */
  caFile: string
}

/** The TLS of a running environment. */
export interface EnvironmentTls {
  ca: LocalCA
  /** The file every process is told to trust (rig's CA, with the user's own extra CAs when set). */
  bundle: string
  /** `NODE_EXTRA_CA_CERTS` and `RIG_CA_CERT`. */
  vars: Record<string, string>
  /** The front proxy's certificate (`*.<project>.localhost`). */
  front(): IssuedCertificate
  /** A certificate for `service` (`<service>.<project>.localhost`, localhost, loopback). */
  forService(service: string): ServiceCertificate
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

/** Loads the CA and prepares the environment's TLS; `dir` is the environment's private dir. */
export function environmentTls(project: string, dir: string): EnvironmentTls {
  const ca = loadCA() as LocalCA
  rememberTrust(ca.certFile)
  // NODE_EXTRA_CA_CERTS names one file: a user's own extra CAs stay trusted beside rig's.
  const own = process.env.NODE_EXTRA_CA_CERTS
  let bundle = ca.certFile
  if (own && own !== ca.certFile && fs.existsSync(own)) {
    bundle = path.join(dir, 'ca-bundle.pem')
    writePrivateFile(bundle, `${fs.readFileSync(own, 'utf8').trimEnd()}\n${ca.certPem}`, 0o644)
  }
  return {
    ca,
    bundle,
    vars: { NODE_EXTRA_CA_CERTS: bundle, RIG_CA_CERT: ca.certFile },
    front: () => issueCertificate(ca, project, frontNames(project)),
    forService: (service) => ({ ...issueCertificate(ca, project, [`${hostLabel(service)}.${project}.localhost`, 'localhost', '127.0.0.1', '::1']), caFile: ca.certFile }),
  }
}
