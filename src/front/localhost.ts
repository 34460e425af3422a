// `*.localhost` is loopback (RFC 6761), and browsers resolve it so themselves, but Node asks the
// system resolver, and glibc without nss-myhostname answers ENOTFOUND for `api.x.localhost`.
// This resolves every name under `.localhost` as `localhost`, for Node's http, https, net and
// fetch alike: pass `localhostLookup` as a `lookup` option, or call `resolveLocalhost()` once
// (importing `testrig/localhost` does) so every connection of the process uses it.
import dns from 'node:dns'

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void

const isSub = (host: unknown): boolean => typeof host === 'string' && host.toLowerCase().replace(/\.$/, '').endsWith('.localhost')

const original = dns.lookup

/** `dns.lookup` that answers names under `.localhost` as `localhost`; a drop-in `lookup` option. */
export const localhostLookup = function lookup(hostname: string, options: unknown, callback?: unknown): void {
  const host = isSub(hostname) ? 'localhost' : hostname
  if (typeof options === 'function') return (original as (h: string, cb: LookupCallback) => void)(host, options as LookupCallback)
  return (original as (h: string, o: unknown, cb: LookupCallback) => void)(host, options, callback as LookupCallback)
} as typeof dns.lookup

let installed = false

/**
 * Makes every lookup of this process resolve `*.localhost` to loopback: `dns.lookup` and
 * `dns.promises.lookup`, which `net.connect` (and so `http`, `https` and `fetch`) call. Other
 * names are looked up as before. Idempotent.
 */
export function resolveLocalhost(): void {
  if (installed) return
  installed = true
  dns.lookup = localhostLookup
  const p = dns.promises.lookup
  dns.promises.lookup = ((hostname: string, options?: unknown) => p(isSub(hostname) ? 'localhost' : hostname, options as dns.LookupOptions)) as typeof p
}
