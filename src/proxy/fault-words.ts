// `rig fault db latency 200ms jitter 20ms`: the CLI's words for faults, turned into the same
// object a test passes to `service('db').fault()`.
import { RigError } from '../errors.ts'
import type { Faults } from './faults.ts'

/** What `rig fault NAME …` asks for. */
export type FaultCommand = { op: 'fault'; faults: Faults } | { op: 'clear' } | { op: 'hold' | 'refuse' | 'resume' }

const usage = (what: string): RigError =>
  new RigError('RIG_USAGE', `${what}: write e.g. \`rig fault db latency 200ms\`, \`rig fault db bandwidth 100kB\`, \`rig fault db timeout\`, \`rig fault db reset\`, \`rig fault db close-after 1kB\`, \`rig fault api partition db\`, \`rig fault db clear\``, { exitCode: 2 })

/** `200`, `200ms`, `1.5s` → ms. */
export function parseDuration(word: string | undefined, key: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(word ?? '')
  if (!m) throw usage(`${key} needs a duration such as 200ms or 2s, got ${word === undefined ? 'nothing' : JSON.stringify(word)}`)
  return Number(m[1]) * (m[2] === 's' ? 1000 : 1)
}

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1e3, kb: 1e3, kib: 1024, m: 1e6, mb: 1e6, mib: 1024 ** 2, g: 1e9, gb: 1e9, gib: 1024 ** 3 }

/** `1000`, `64kB`, `1MiB`, `100kB/s` → bytes. */
export function parseBytes(word: string | undefined, key: string): number {
  const m = /^(\d+(?:\.\d+)?)([a-z]*)(\/s)?$/i.exec(word ?? '')
  const unit = UNITS[(m?.[2] ?? '').toLowerCase()]
  if (!m || unit === undefined) throw usage(`${key} needs a size such as 1000, 64kB or 1MiB, got ${word === undefined ? 'nothing' : JSON.stringify(word)}`)
  return Math.round(Number(m[1]) * unit)
}

/** Parses the words after the service name. */
export function parseFaultWords(words: readonly string[], from?: string): FaultCommand {
  const first = words[0]
  if (first === undefined) throw usage('no fault given')
  if (first === 'clear' || first === 'hold' || first === 'refuse' || first === 'resume') {
    if (words.length > 1) throw usage(`${first} takes nothing after it`)
    return { op: first }
  }
  const f: Faults = {}
  const partitions: string[] = []
  for (let i = 0; i < words.length; i++) {
    const w = words[i] as string
    const next = (): string | undefined => words[++i]
    if (w === 'latency') f.latency = parseDuration(next(), w)
    else if (w === 'jitter') f.jitter = parseDuration(next(), w)
    else if (w === 'bandwidth') f.bandwidth = parseBytes(next(), w)
    else if (w === 'close-after') f.closeAfter = parseBytes(next(), w)
    else if (w === 'reset') f.reset = true
    else if (w === 'partition') {
      const other = next()
      if (!other) throw usage('partition needs the other service')
      partitions.push(other)
    } else if (w === 'timeout') {
      // `timeout` alone stalls for good; `timeout 5s` also closes stalled connections after 5 s.
      const n = words[i + 1]
      f.timeout = n !== undefined && /^\d/.test(n) ? parseDuration(next(), w) : true
    } else throw usage(`unknown fault "${w}"`)
  }
  if (partitions.length > 0) f.partition = partitions.length === 1 ? (partitions[0] as string) : partitions
  if (from !== undefined) f.from = from
  return { op: 'fault', faults: f }
}
