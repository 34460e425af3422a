// Which requests go to the system under test: the HTTP addresses of its services (their
// `RIG_<NAME>_URL`, `RIG_<NAME>_PUBLIC_URL`…), the project's `baseURL` and the origins the
// options add. A failed request elsewhere (a CDN, analytics) is not the system's failure.
import type { RigProvided } from '../runner/provided.ts'

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]', '::1'])

/** `host:port`, every loopback name as one, so `localhost:8080` and `127.0.0.1:8080` are the same origin. */
function originKey(u: URL): string | undefined {
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined
  const host = LOOPBACK.has(u.hostname) ? 'loopback' : u.hostname.toLowerCase()
  return `${host}:${u.port || (u.protocol === 'https:' ? '443' : '80')}`
}

function parse(url: string): URL | undefined {
  try {
    return new URL(url)
  } catch {
    return undefined
  }
}

/** A test for "this URL is the system's own". */
export function ownOrigins(provided: RigProvided | undefined, extra: readonly (string | undefined)[]): (url: string) => boolean {
  const keys = new Set<string>()
  const urls = [...Object.values(provided?.vars ?? {}), ...Object.values(provided?.services ?? {}).map((s) => s.url), ...extra]
  for (const u of urls) {
    const parsed = u ? parse(u) : undefined
    const key = parsed ? originKey(parsed) : undefined
    if (key) keys.add(key)
  }
  return (url) => {
    const parsed = parse(url)
    const key = parsed ? originKey(parsed) : undefined
    return key !== undefined && keys.has(key)
  }
}
