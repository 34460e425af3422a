// Drivers are optional peer dependencies: loaded on first use, with an error naming the
// package to install when it is missing.
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'
import { MissingDriverError } from '../errors.ts'

const cache = new Map<string, Promise<unknown>>()

/**
 * Imports `pkg`, resolving it from the user's project first (cwd) and then from rig's own
 * install, so a driver installed next to the tests is found.
 */
export function loadDriver<T>(pkg: string, purpose: string): Promise<T> {
  let p = cache.get(pkg)
  if (!p) {
    p = (async () => {
      for (const base of [`${process.cwd()}/`, import.meta.url]) {
        let resolved: string
        try {
          resolved = createRequire(base).resolve(pkg)
        } catch {
          continue
        }
        return import(pathToFileURL(resolved).href)
      }
      try {
        return await import(pkg)
      } catch (err) {
        throw new MissingDriverError(pkg, purpose, err)
      }
    })()
    cache.set(pkg, p)
    p.catch(() => cache.delete(pkg))
  }
  return p as Promise<T>
}
