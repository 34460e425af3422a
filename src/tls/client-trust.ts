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

/**
 * The CA certificates (PEM) a client of rig's TLS services verifies against. With `caFile` (a
 * service rig started: its certificate comes from one of rig's CAs) only rig's CA files; without
 * (an `external()` server, a store opened by hand), the usual roots besides.
 */
export function trustedCAs(caFile?: string): string[] {
  const out = new Set(caFile ? [] : defaults())
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

// A context holding a few hundred roots costs 70-130 ms to build on a loaded machine: made once
// per set of files (and their versions), not per readiness attempt or guard connection.
const contexts = new Map<string, tls.SecureContext>()

function mtime(f: string): number {
  try {
    return fs.statSync(f).mtimeMs
  } catch {
    return -1
  }
}

/** A secure context trusting {@link trustedCAs}, cached while the files stay the same. */
export function trustContext(caFile?: string): tls.SecureContext {
  const files = [caFile ?? '', process.env.RIG_CA_CERT ?? '', ...remembered]
  const key = `${caFile ? 'own' : `roots:${defaults().length}`}|${files.map((f) => `${f}@${f ? mtime(f) : 0}`).join('|')}`
  let ctx = contexts.get(key)
  if (!ctx) {
    ctx = tls.createSecureContext({ ca: trustedCAs(caFile) })
    contexts.set(key, ctx)
  }
  return ctx
}

/** TLS options for a client of `url`: undefined unless it is `rediss://`. */
export function redisTlsOptions(url: string | URL, caFile?: string): tls.ConnectionOptions | undefined {
  const u = typeof url === 'string' ? new URL(url) : url
  if (u.protocol !== 'rediss:') return undefined
  const host = u.hostname.replace(/^\[|\]$/g, '')
  return { secureContext: trustContext(caFile), ...(net.isIP(host) ? {} : { servername: host }) }
}
