// Credentials of the data servers rig starts: a fresh random password per service and
// environment (never stored in a shared cache), carried by the service's URL; shown masked
// wherever someone other than the owner might read it.

/** A random password: 144 bits, URL-safe, so it needs no escaping in a URL or a config file. */
export function newPassword(): string {
  // Taken here, not imported: `rig status` masks passwords but makes none, and the ESM import
  // of node:crypto costs a few ms of its start.
  return process.getBuiltinModule('node:crypto').randomBytes(18).toString('base64url')
}

/** `url` with its password replaced by `***` (unchanged when it has none or does not parse). */
export function maskPassword(url: string): string {
  try {
    const u = new URL(url)
    if (!u.password) return url
    u.password = '***'
    return u.toString()
  } catch {
    return url
  }
}
