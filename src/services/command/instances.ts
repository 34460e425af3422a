// `command({ instances: N })`: N copies of a command, each on a port of its own, behind one
// stable address (rig's balancer on the service's port). A restart replaces them one at a
// time: the new copy (a new version, when `run`/`env` change) starts on a new port and must be
// ready before it takes traffic; then the old one leaves the rotation, its open connections
// finish, and it stops. A new copy that does not get ready is stopped and the old one kept.
import { DEFAULT_READY_TIMEOUT_MS, timeoutScale } from '../../config/defaults.ts'
import { ConfigError, RigError } from '../../errors.ts'
import { runProbe, type Probe, type ProbeTarget } from '../../probes/probe.ts'
import { waitFor } from '../../probes/retry.ts'
import { tcp } from '../../probes/tcp.ts'
import { ManagedProcess, type SpawnSpec } from '../../providers/process/managed-process.ts'
import { freePort } from '../../providers/process/ports.ts'
import { Balancer } from '../../proxy/balancer.ts'
import type { CommonOptions, Launched, MemberSpec, RestartChange, StartContext } from '../service-kind.ts'
import type { CommandEnv, CommandOptions } from './index.ts'

type Options = CommandOptions & CommonOptions

/** The options of a new version: `run` replaced, `env` set on top of the config's. */
export function withChange(o: Options, change: RestartChange | undefined): Options {
  if (!change) return o
  const base = o.env
  const env: CommandEnv | undefined = change.env === undefined ? base : typeof base === 'function' ? (deps, self) => ({ ...base(deps, self), ...change.env }) : { ...base, ...change.env }
  return { ...o, ...(change.run !== undefined ? { run: change.run } : {}), ...(env !== undefined ? { env } : {}) }
}

interface Instance extends MemberSpec {
  url: string
}

/** Starts the instances of a command behind its stable address. */
export async function startInstances(ctx: StartContext, o: Options, prepare: (o: Options, port: number) => { spawn: SpawnSpec; url: string; usesPort: boolean }): Promise<Launched> {
  let current = o
  const balancer = new Balancer(ctx.name)
  await balancer.listen(ctx.port)
  let probes: readonly Probe[] = [tcp()]
  const readyMs = (o.readyTimeout ?? DEFAULT_READY_TIMEOUT_MS) * timeoutScale()

  const make = async (name: string, opts: Options): Promise<Instance> => {
    const port = await freePort()
    const p = prepare(opts, port)
    if (!p.usesPort) {
      throw new ConfigError('RIG_CONFIG_INVALID', `service "${ctx.name}": each of its instances must listen on a port of its own: use {port} in its \`run\` or \`env\` (e.g. env: { PORT: '{port}' })`)
    }
    return { name, role: 'instance', host: '127.0.0.1', port, url: p.url, launch: () => new ManagedProcess(p.spawn, ctx.logs) }
  }
  const target = (m: Instance): ProbeTarget => ({ name: `${ctx.name} (${m.name})`, host: m.host, port: m.port, url: m.url, logLines: () => [] })
  const instances: Instance[] = []
  for (let i = 1; i <= (o.instances ?? 1); i++) instances.push(await make(`instance${i}`, o))

  // The service is ready once every instance is: each one joins the rotation as its probes pass.
  const joined = new Set<string>()
  const everyInstance = (ps: readonly Probe[]): Probe[] => {
    probes = ps
    return [
      {
        name: `${ps.map((p) => p.name).join(', ') || 'spawned'} on each of ${instances.length} instance(s)`,
        timeoutMs: Math.max(...ps.map((p) => p.timeoutMs ?? 2000), 1000) * instances.length,
        async run({ signal }) {
          for (const m of instances) {
            if (joined.has(`${m.name}:${m.port}`)) continue
            for (const p of ps) {
              const r = await runProbe(p, { signal, target: target(m) })
              if (r.status === 'fail') throw Object.assign(new Error(`${m.name}: ${p.name}: ${r.detail ?? 'failed'}`), { reason: r.reason })
            }
            joined.add(`${m.name}:${m.port}`)
            balancer.add(m)
          }
        },
      },
    ]
  }

  return {
    host: '127.0.0.1',
    port: ctx.port,
    url: prepare(o, ctx.port).url,
    env: {},
    provider: 'process',
    members: instances,
    defaultReady: [tcp()],
    wrapReady: everyInstance,
    redeploy: {
      async next(old, change) {
        return make(old.name, withChange(current, change))
      },
      async ready(m, signal) {
        const outcome = await waitFor(probes, { deadlineMs: readyMs, signal, target: target(m as Instance) })
        if (!outcome.ok) {
          throw new RigError('RIG_NOT_READY', `${outcome.probe ?? 'readiness'} did not pass within ${Math.round(readyMs / 1000)} s${outcome.last?.detail ? `: ${outcome.last.detail}` : ''}`)
        }
      },
      async switchOver(old, next) {
        balancer.add(next)
        balancer.remove(old)
        const i = instances.findIndex((m) => m.name === old.name)
        if (i >= 0) instances[i] = next as Instance
        joined.add(`${next.name}:${next.port}`)
        await balancer.drain(old, current.stopGrace ?? 5000)
      },
      commit(change) {
        current = withChange(current, change)
      },
    },
    cleanup: () => balancer.close(),
  }
}
