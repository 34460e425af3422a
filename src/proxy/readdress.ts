// An address moved to another host and port (a service's URL through its proxy): apart from the
// proxy itself, so a test worker reads it without loading the proxy's sockets.

/** Replaces `host:port` in `url` (the rest kept byte for byte); rebuilds it when the pair is not found. */
export function readdress(url: string, from: { host: string; port: number }, to: { host: string; port: number }): string {
  const hostIn = (h: string): string => (h.includes(':') ? `[${h}]` : h)
  const pair = `${hostIn(from.host)}:${from.port}`
  if (url.includes(pair)) return url.replace(pair, `${hostIn(to.host)}:${to.port}`)
  try {
    const u = new URL(url)
    u.hostname = hostIn(to.host)
    u.port = String(to.port)
    return u.toString()
  } catch {
    return url
  }
}
