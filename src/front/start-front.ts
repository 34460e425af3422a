// The front proxy as an environment runs it: the project's name claimed, the proxy listening
// before any service starts (every public URL is known from the config), and each request
// routed to where its service is now: through rig's TCP proxy when it has one, so faults set
// on a service reach the browser too.
import type { Network } from '../proxy/network.ts'
import { claimProject } from './claim.ts'
import { FrontProxy, type FrontTarget } from './front-proxy.ts'
import { publicUrl, type FrontPlan } from './plan.ts'

/** A service as the front proxy needs it. */
export interface FrontService {
  host: string
  port: number
  status: string
}

/** The front proxy of a running environment. */
export interface RunningFront {
  readonly plan: FrontPlan
  readonly proxy: FrontProxy
  /** Public URL of each public service, by service name. */
  readonly urls: Record<string, string>
  close(): Promise<void>
}

/** Claims the project's name and opens its front proxy. */
export async function startFront(
  plan: FrontPlan,
  opts: { root: string; envId: string; network: Network; service: (name: string) => FrontService | undefined; tls?: { cert: string; key: string } | undefined },
): Promise<RunningFront> {
  const release = claimProject(plan.project, opts.root, plan.port, opts.envId)
  const target = (name: string): FrontTarget | undefined => {
    const s = opts.service(name)
    if (!s) return undefined
    const via = opts.network.get(name)?.outside
    return via && s.port > 0 ? { host: via.host, port: via.port, status: s.status } : { host: s.host, port: s.port, status: s.status }
  }
  let proxy: FrontProxy
  try {
    proxy = await FrontProxy.open({ plan, target, tls: opts.tls })
  } catch (err) {
    release()
    throw err
  }
  const urls = Object.fromEntries(Object.entries(plan.services).map(([name, label]) => [name, publicUrl(plan, label)]))
  return {
    plan,
    proxy,
    urls,
    async close() {
      await proxy.close()
      release()
    },
  }
}
