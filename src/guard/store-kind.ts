// Which guard store a service gets, from its kind and URL. Kept free of imports: the worker side
// asks it before deciding which store adapter to load.

const SCHEMES: Readonly<Record<string, string>> = { 'postgres:': 'postgres', 'postgresql:': 'postgres', 'redis:': 'redis', 'rediss:': 'redis' }

/**
 * The store kind of a service: its own kind, or for an `external()` service the kind its URL
 * names (`postgres://…`, `redis://…`), so a shared database rig did not start is watched too.
 */
export function storeKindOf(kind: string, url: string): string {
  if (kind !== 'external') return kind
  try {
    return SCHEMES[new URL(url).protocol] ?? kind
  } catch {
    return kind
  }
}
