// Worker side of `isolation: 'stack'`: the provided data as one worker sees it, each copied
// `command()` service replaced by that worker's copy (its url, port, pid, log file, variables
// and the control socket of the worker's stack), so everything downstream (the variables a test
// reads, the log scan, the dead-service check, the controls) needs no notion of copies.
import type { ProvidedService, RigProvided } from './provided.ts'

const views = new WeakMap<RigProvided, Map<number, RigProvided>>()

/** `p` as worker `id` sees it (the same object when no service has copies). */
export function ownCopies(p: RigProvided, id: number): RigProvided {
  if (!Object.values(p.services).some((s) => s.workerCopies)) return p
  let byId = views.get(p)
  if (!byId) views.set(p, (byId = new Map()))
  let view = byId.get(id)
  if (!view) byId.set(id, (view = build(p, id)))
  return view
}

function build(p: RigProvided, id: number): RigProvided {
  const services: Record<string, ProvidedService> = {}
  const vars = { ...p.vars }
  for (const [name, s] of Object.entries(p.services)) {
    const copies = s.workerCopies
    if (!copies || copies.length === 0) {
      services[name] = s
      continue
    }
    const { workerCopies: _, ...rest } = s
    const copy = copies[(id - 1) % copies.length]!
    services[name] = { ...rest, url: copy.url, host: copy.host, port: copy.port, pid: copy.pid, env: copy.env, logFile: copy.logFile, controlSocket: copy.controlSocket }
    Object.assign(vars, copy.env)
  }
  return { ...p, services, vars }
}
