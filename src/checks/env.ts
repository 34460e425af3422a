// `env` in check files: process.env plus the values of the chosen target (or of the
// environment `rig up` left running). Kept on globalThis so two copies of this module (the
// CLI's and a check file's) still share one view.
const KEY = Symbol.for('testrig.checks.env')

type Overlay = Record<string, string>
const holder = globalThis as unknown as Record<symbol, Overlay | undefined>

/** Replaces the values layered over process.env; returns the previous overlay to restore. */
export function setEnvOverlay(values: Overlay): Overlay {
  const previous = holder[KEY] ?? {}
  holder[KEY] = { ...values }
  return previous
}

/** The values layered over process.env right now. */
export function envOverlay(): Overlay {
  return holder[KEY] ?? {}
}

/**
 * Environment of the checks: target values first, then process.env. Read it inside a check
 * body (at run time), not at the top of the file, so `--target` applies.
 */
export const env: Readonly<Record<string, string | undefined>> = new Proxy({} as Record<string, string | undefined>, {
  get: (_, key) => (typeof key === 'string' ? (envOverlay()[key] ?? process.env[key]) : undefined),
  has: (_, key) => typeof key === 'string' && (key in envOverlay() || key in process.env),
  ownKeys: () => [...new Set([...Object.keys(process.env), ...Object.keys(envOverlay())])],
  getOwnPropertyDescriptor: (_, key) => {
    if (typeof key !== 'string') return undefined
    const value = envOverlay()[key] ?? process.env[key]
    return value === undefined ? undefined : { value, enumerable: true, configurable: true, writable: false }
  },
})
