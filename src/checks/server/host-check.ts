// DNS rebinding defence for `rig serve`: a web page on evil.example can make a browser resolve
// its own name to 127.0.0.1 and read a loopback server, but the browser still sends
// `Host: evil.example`. A loopback bind therefore answers only to loopback names with its
// port, and to names the user listed (--allow-host), e.g. the name a reverse proxy forwards.
import net from 'node:net'

/** Accepted Host values remembered (a handful in practice: the names and ports clients use). */
const ACCEPTED_KEPT = 16

/** True for 127.0.0.0/8, ::1 and `localhost`. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase()
  if (h === 'localhost' || h === '::1') return true
  return net.isIPv4(h) && h.startsWith('127.')
}

/** `Host` header → lower-case name and port (undefined when absent). */
function parseHost(value: string): { name: string; port: number | undefined } | undefined {
  const m = /^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/i.exec(value.trim())
  if (!m?.[1]) return undefined
  return { name: m[1].toLowerCase(), port: m[2] === undefined ? undefined : Number(m[2]) }
}

/**
 * A predicate on the `Host` header of requests to a server bound to `bindHost:port`.
 * Loopback names must carry the server's port; a listed name may carry any port or none.
 * On a public bind (token required) any Host is accepted unless names were listed.
 */
export function hostChecker(bindHost: string, port: number, allowHosts: readonly string[]): (host: string | undefined) => boolean {
  const listed = allowHosts.map((h) => parseHost(h)).filter((h): h is NonNullable<typeof h> => h !== undefined)
  const loopbackBind = isLoopback(bindHost)
  if (!loopbackBind && listed.length === 0) return () => true
  const own = new Set(['127.0.0.1', 'localhost', '[::1]'])
  if (loopbackBind) own.add(net.isIPv6(bindHost) ? `[${bindHost.toLowerCase()}]` : bindHost.toLowerCase())
  // Clients send the same few Host values on every request: those accepted once are remembered.
  const accepted = new Set<string>()
  return (value) => {
    // HTTP/1.0 without Host: no browser sends that, so it is no rebinding attempt.
    if (value === undefined || accepted.has(value)) return true
    const h = parseHost(value)
    if (!h) return false
    const ok = (own.has(h.name) && (h.port === port || (h.port === undefined && port === 80))) || listed.some((l) => l.name === h.name && (l.port === undefined || l.port === h.port))
    if (ok && accepted.size < ACCEPTED_KEPT) accepted.add(value)
    return ok
  }
}
