// Small type checks for option values, shared by the config and every service kind, so a
// wrong value is a ConfigError naming the option and what was given, never a TypeError later.
import os from 'node:os'
import { ConfigError } from '../errors.ts'

/** A value as a message shows it: `42`, `null`, `a function`, `an array`. */
export function shown(v: unknown): string {
  if (typeof v === 'function') return 'a function'
  if (Array.isArray(v)) return `an array (${JSON.stringify(v).slice(0, 60)})`
  if (typeof v === 'object' && v !== null) return 'an object'
  if (typeof v === 'symbol' || typeof v === 'bigint') return String(v)
  return JSON.stringify(v) ?? String(v)
}

/** Throws a ConfigError `where: key must be what, got …`. */
export function invalid(where: string, key: string, what: string, v: unknown): never {
  throw new ConfigError('RIG_CONFIG_INVALID', `${where}: ${key} must be ${what}, got ${shown(v)}`)
}

/** Each check accepts `undefined` (the option is optional) and throws otherwise on a wrong type. */
export const check = {
  string(where: string, key: string, v: unknown): void {
    if (v !== undefined && (typeof v !== 'string' || v === '')) invalid(where, key, 'a non-empty string', v)
  },
  boolean(where: string, key: string, v: unknown): void {
    if (v !== undefined && typeof v !== 'boolean') invalid(where, key, 'true or false', v)
  },
  /** A number of ms ≥ 0 (or > 0 with `positive`). */
  ms(where: string, key: string, v: unknown, positive = false): void {
    if (v !== undefined && !(typeof v === 'number' && Number.isFinite(v) && (positive ? v > 0 : v >= 0))) invalid(where, key, `a ${positive ? 'positive' : 'non-negative'} number of ms`, v)
  },
  stringArray(where: string, key: string, v: unknown): void {
    if (v !== undefined && !(Array.isArray(v) && v.every((x) => typeof x === 'string'))) invalid(where, key, 'an array of strings', v)
  },
  /** `{ name: value }` with string, number or boolean values. */
  scalarMap(where: string, key: string, v: unknown): void {
    if (v === undefined) return
    if (typeof v !== 'object' || v === null || Array.isArray(v)) invalid(where, key, 'an object of name: value', v)
    for (const [k, x] of Object.entries(v)) {
      if (!['string', 'number', 'boolean'].includes(typeof x)) invalid(where, `${key}.${k}`, 'a string, number or boolean', x)
    }
  },
  oneOf(where: string, key: string, v: unknown, allowed: readonly string[]): void {
    if (v !== undefined && !allowed.includes(v as string)) invalid(where, key, `one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`, v)
  },
  /** A signal name this OS knows, e.g. `SIGTERM`. */
  signal(where: string, key: string, v: unknown): void {
    if (v === undefined) return
    if (typeof v !== 'string' || !Object.hasOwn(os.constants.signals, v)) invalid(where, key, 'a signal name such as "SIGTERM", "SIGINT" or "SIGQUIT"', v)
  },
}
