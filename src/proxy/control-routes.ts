// The network's part of the control API (`rig fault`, and tests through the control socket):
// GET /faults, POST /faults/reset, POST /services/NAME/fault (a JSON body of faults),
// POST /services/NAME/faults/clear, POST /services/NAME/proxy/hold|refuse|resume. A test's
// requests carry `?owner=<its worker>`: what it sets is tagged with it, and its reset and clear
// remove only what it set, not what a test running in another worker set.
import type http from 'node:http'
import { RigError } from '../errors.ts'
import type { Environment } from '../env/environment.ts'
import type { NetworkState } from './network.ts'
import { describeFaults, type Faults } from './faults.ts'

const MODES = { hold: 'hold', refuse: 'refuse', resume: 'open' } as const
const MAX_BODY = 64 * 1024

/** The JSON body of a control request (at most 64 KiB). */
export function readJson(req: http.IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (c: string) => {
      body += c
      if (body.length > MAX_BODY) req.destroy(new RigError('RIG_CONTROL_FAILED', 'request body too large'))
    })
    req.on('error', reject)
    req.on('end', () => {
      try {
        resolve(body === '' ? {} : JSON.parse(body))
      } catch {
        reject(new RigError('RIG_FAULT_INVALID', `faults must be JSON, got ${body.slice(0, 100)}`, { exitCode: 2 }))
      }
    })
  })
}

/** The state of every proxy, with the URLs tests use. */
export function networkState(env: Environment): NetworkState {
  return env.network.state(Object.fromEntries(Object.entries(env.services).map(([n, s]) => [n, s.url])))
}

/** The test worker a control request comes from (`?owner=`), or undefined for the CLI. */
export function ownerOf(req: http.IncomingMessage): string | undefined {
  return new URL(req.url ?? '/', 'http://rig').searchParams.get('owner') ?? undefined
}

/** Answers a network route, or returns undefined when `parts` is not one. */
export async function networkRoute(env: Environment, req: http.IncomingMessage, parts: readonly string[]): Promise<unknown> {
  const method = req.method
  const owner = ownerOf(req)
  if (parts[0] === 'faults' && parts.length === 1 && method === 'GET') return networkState(env)
  if (parts[0] === 'faults' && parts[1] === 'reset' && parts.length === 2 && method === 'POST') {
    // Hosts a test took down or partitioned are test state too: back up, healed.
    const hostsChanged = (await env.hosts?.reset(owner)) ?? false
    const changed = env.network.reset(owner) || hostsChanged
    if (changed) env.record('*', 'fault', owner === undefined ? 'every service back to the faults of rig.config.ts' : "the test's faults removed")
    return { changed, ...networkState(env) }
  }
  if (parts[0] !== 'services' || method !== 'POST' || parts.length < 3) return undefined
  const name = decodeURIComponent(parts[1] ?? '')
  const rest = parts.slice(2).join('/')
  if (rest === 'fault') {
    const faults = (await readJson(req)) as Faults
    env.network.fault(name, faults, owner)
    env.record(name, 'fault', describeFaults(faults))
    return networkState(env)
  }
  if (rest === 'faults/clear') {
    env.network.clear(name, owner)
    env.record(name, 'fault', 'cleared')
    return networkState(env)
  }
  const m = /^proxy\/(hold|refuse|resume)$/.exec(rest)
  if (m) {
    env.network.setMode(name, MODES[m[1] as keyof typeof MODES], owner)
    env.record(name, 'fault', `new connections ${m[1] === 'hold' ? 'held' : m[1] === 'refuse' ? 'refused' : 'resumed'}`)
    return networkState(env)
  }
  return undefined
}
