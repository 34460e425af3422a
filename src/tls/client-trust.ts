// What rig's own clients of a TLS data service (`rediss://`) trust: the usual roots, rig's CA,
// and the files that name an environment's CAs (`RIG_CA_CERT`, a service's `_CA_CERT`, the
// trust file of an environment this process started). Verification stays on: a server whose
// certificate no such CA signed, or whose names do not include the address, is refused.
import fs from 'node:fs'
import net from 'node:net'
import tls from 'node:tls'
import { loadCA } from './ca.ts'

const remembered = new Set<string>()

/** Records a CA file of an environment started in this process (its probes, stop and guard trust it). */
export function rememberTrust(file: string): void {
  remembered.add(file)
}

/** The certificates of a PEM file's text, one string each. */
export function splitPem(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)?.map((c) => `${c}\n`) ?? []
}

function defaults(): string[] {
  const t = tls as typeof tls & { getCACertificates?: (type: string) => string[] }
  return typeof t.getCACertificates === 'function' ? t.getCACertificates('default') : [...tls.rootCertificates]
}

/** The CA certificates (PEM) a client of rig's TLS services verifies against; `caFile` first. */
export function trustedCAs(caFile?: string): string[] {
  const out = new Set(defaults())
  let found = false
  for (const f of [caFile, process.env.RIG_CA_CERT, ...remembered]) {
    if (!f) continue
    let text: string
    try {
      text = fs.readFileSync(f, 'utf8')
    } catch {
      continue
    }
    for (const c of splitPem(text)) out.add(c)
    found = true
  }
  if (!found) {
    // A process given no file (a store opened by hand): rig's CA from its cache, when it is sound.
    try {
      const ca = loadCA({ create: false })
      if (ca) out.add(ca.certPem)
    } catch {
      // An unsafe or broken CA is not trusted; the connection then fails its check.
    }
  }
  return [...out]
}

/** TLS options for a client of `url`: undefined unless it is `rediss://`. */
export function redisTlsOptions(url: string | URL, caFile?: string): tls.ConnectionOptions | undefined {
  const u = typeof url === 'string' ? new URL(url) : url
  if (u.protocol !== 'rediss:') return undefined
  const host = u.hostname.replace(/^\[|\]$/g, '')
  return { ca: trustedCAs(caFile), ...(net.isIP(host) ? {} : { servername: host }) }
}
