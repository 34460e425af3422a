// Network faults: what a test (or the config, or `rig fault`) asks of the proxy in front of a
// service, checked once here so every caller gets the same message for a wrong value.
import { ConfigError } from '../errors.ts'
import { shown } from '../config/option-checks.ts'

/**
 * Faults on the traffic to a service, applied by rig's proxy in front of it. Several keys
 * combine (`{ latency: 100, bandwidth: 10_000 }`).
 */
export interface Faults {
  /** ms added to everything the service sends back: each request/answer round trip takes this much longer. */
  latency?: number
  /** ± ms of random variation on `latency`, per chunk; the order of bytes is kept. */
  jitter?: number
  /** Bytes per second, in each direction. */
  bandwidth?: number
  /**
   * Traffic stops: new connections are accepted and never answered, open ones get nothing
   * more (what they send waits, as in a lost route). A number of ms also closes each stalled
   * connection after that long; `true` never does.
   */
  timeout?: boolean | number
  /** Open connections are reset (RST) now, and new ones as soon as they are accepted. */
  reset?: boolean
  /** Each connection is closed once this many bytes (both directions) passed since the fault was set. */
  closeAfter?: number
  /**
   * Cuts the traffic between this service and the named ones, both ways, as `timeout` does,
   * while tests still reach every service. Services talk through rig's proxy only to what
   * they depend on, so one of the two must depend on the other.
   */
  partition?: string | readonly string[]
  /** Only the connections that this dependent opens (default: every connection, the tests' too). */
  from?: string
}

/** Keys of {@link Faults}. */
export const FAULT_KEYS = ['latency', 'jitter', 'bandwidth', 'timeout', 'reset', 'closeAfter', 'partition', 'from'] as const

const isCount = (v: unknown, min: number): boolean => typeof v === 'number' && Number.isFinite(v) && v >= min

function bad(where: string, key: string, what: string, v: unknown): never {
  throw new ConfigError('RIG_FAULT_INVALID', `${where}: ${key} must be ${what}, got ${shown(v)}`)
}

/** Checks the shape of `faults` (not the service names it refers to); throws a ConfigError starting with `where`. */
export function checkFaults(faults: unknown, where: string): asserts faults is Faults {
  if (typeof faults !== 'object' || faults === null || Array.isArray(faults)) bad(where, 'faults', 'an object such as { latency: 200 }', faults)
  const f = faults as Record<string, unknown>
  for (const key of Object.keys(f)) {
    if (!(FAULT_KEYS as readonly string[]).includes(key)) throw new ConfigError('RIG_FAULT_INVALID', `${where}: unknown fault "${key}" (faults: ${FAULT_KEYS.join(', ')})`)
  }
  if (f.latency !== undefined && !isCount(f.latency, 0)) bad(where, 'latency', 'a number of ms ≥ 0', f.latency)
  if (f.jitter !== undefined && !isCount(f.jitter, 0)) bad(where, 'jitter', 'a number of ms ≥ 0', f.jitter)
  if (f.bandwidth !== undefined && !(isCount(f.bandwidth, 1) || f.bandwidth === 0)) bad(where, 'bandwidth', 'bytes per second (≥ 1, or 0 for no limit)', f.bandwidth)
  if (f.timeout !== undefined && typeof f.timeout !== 'boolean' && !isCount(f.timeout, 0)) bad(where, 'timeout', 'true, false or a number of ms after which stalled connections close', f.timeout)
  if (f.reset !== undefined && typeof f.reset !== 'boolean') bad(where, 'reset', 'true or false', f.reset)
  if (f.closeAfter !== undefined && !(Number.isInteger(f.closeAfter) && (f.closeAfter as number) >= 0)) bad(where, 'closeAfter', 'a whole number of bytes ≥ 0', f.closeAfter)
  const p = f.partition
  if (p !== undefined && !(typeof p === 'string' ? p !== '' : Array.isArray(p) && p.length > 0 && p.every((x) => typeof x === 'string' && x !== ''))) {
    bad(where, 'partition', 'a service name or a list of them', p)
  }
  if (f.from !== undefined && (typeof f.from !== 'string' || f.from === '')) bad(where, 'from', 'the name of a service that depends on this one', f.from)
  if (f.from !== undefined && p !== undefined) throw new ConfigError('RIG_FAULT_INVALID', `${where}: a partition already names both sides; drop \`from\``)
  if (Object.keys(f).every((k) => k === 'from')) throw new ConfigError('RIG_FAULT_INVALID', `${where}: no fault given (faults: ${FAULT_KEYS.filter((k) => k !== 'from').join(', ')})`)
}

/** The services a fault partitions its service from. */
export function partitionsOf(f: Faults): string[] {
  return f.partition === undefined ? [] : typeof f.partition === 'string' ? [f.partition] : [...f.partition]
}

/** True when `f` asks for something besides partitions (those need no proxy on this service). */
export function needsOwnProxy(f: Faults): boolean {
  return Object.keys(f).some((k) => k !== 'partition' && k !== 'from')
}

/** One line for lists and the report, e.g. `latency 200ms ±20ms from api`. */
export function describeFaults(f: Faults): string {
  const parts: string[] = []
  if (f.latency !== undefined) parts.push(`latency ${f.latency}ms${f.jitter ? ` ±${f.jitter}ms` : ''}`)
  else if (f.jitter !== undefined) parts.push(`jitter ±${f.jitter}ms`)
  if (f.bandwidth !== undefined) parts.push(f.bandwidth === 0 ? 'bandwidth unlimited' : `bandwidth ${f.bandwidth} B/s`)
  if (f.timeout !== undefined && f.timeout !== false) parts.push(f.timeout === true || f.timeout === 0 ? 'timeout' : `timeout (closed after ${f.timeout}ms)`)
  if (f.timeout === false) parts.push('no timeout')
  if (f.reset !== undefined) parts.push(f.reset ? 'reset' : 'no reset')
  if (f.closeAfter !== undefined) parts.push(`close after ${f.closeAfter} bytes`)
  const p = partitionsOf(f)
  if (p.length > 0) parts.push(`partition from ${p.join(', ')}`)
  return parts.join(', ') + (f.from ? ` (from ${f.from})` : '')
}
