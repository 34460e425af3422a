// Trusting rig's CA inside a running Node process (NODE_EXTRA_CA_CERTS is read only at
// start-up): every TLS connection made after this, fetch's included, accepts certificates rig
// issued, besides those of the usual roots. Certificate checks stay on.
import fs from 'node:fs'
import tls from 'node:tls'
import { loadCA } from './ca.ts'
import { splitPem } from './client-trust.ts'

/** Adds the certificates of `pem` (one or several) to this process's default CA certificates; false where Node cannot (before 22.19). */
export function trustInProcess(pem: string): boolean {
  const t = tls as typeof tls & { setDefaultCACertificates?: (certs: string[]) => void; getCACertificates?: (type: string) => string[] }
  if (typeof t.setDefaultCACertificates !== 'function' || typeof t.getCACertificates !== 'function') return false
  const current = t.getCACertificates('default')
  const norm = (c: string): string => c.replace(/\s+/g, '')
  const known = new Set(current.map(norm))
  const added = splitPem(pem).filter((c) => !known.has(norm(c)))
  if (added.length > 0) t.setDefaultCACertificates([...current, ...added])
  return true
}

/**
 * Trusts rig's CA in this process when there is one: the file `RIG_CA_CERT` names, else the CA
 * in rig's cache (whose key must be private). Returns whether a CA was trusted.
 */
export function trustRigCA(env: NodeJS.ProcessEnv = process.env): boolean {
  const file = env.RIG_CA_CERT
  if (file && fs.existsSync(file)) return trustInProcess(fs.readFileSync(file, 'utf8'))
  const ca = loadCA({ create: false })
  return ca ? trustInProcess(ca.certPem) : false
}
