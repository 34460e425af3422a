// Hosts (src/hosts) against no hosts, in the same run: an environment of PostgreSQL and Redis
// started and stopped with each on a host of its own (two network namespaces, a bridge) and on
// the loopback, alternating round by round; and, alone, what the hosts' network costs to make
// and remove, and one partition/heal and down/up.
//
//   node_modules/.bin/node bench/topology-hosts.bench.ts [--rounds N] [--no-write]   (as root)
//
// Writes bench/results/topology-hosts.json and the hosts section of bench/RESULTS.md.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { HostNetwork } from '../src/hosts/host-network.ts'
import { hostsUnavailable } from '../src/hosts/support.ts'
import { DEFAULT_HOST_NETWORK } from '../src/hosts/subnet.ts'
import { defineConfig, postgres, redis, startEnvironment, type RigConfig } from '../src/index.ts'
import { writeResultsSection } from './lib/results-md.ts'
import { formatSummary, round, summarize, type Summary } from './lib/stats.ts'

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '8' }, 'no-write': { type: 'boolean', default: false } } })
const ROUNDS = Number(values.rounds)
const here = path.dirname(new URL(import.meta.url).pathname)

const plain: RigConfig = defineConfig({ services: { db: postgres(), cache: redis() } })
const hosted: RigConfig = defineConfig({ hosts: { core1: {}, core2: {} }, services: { db: postgres({ host: 'core1' }), cache: redis({ host: 'core2' }) } })

async function startStop(config: RigConfig): Promise<{ start: number; stop: number }> {
  const t0 = performance.now()
  const env = await startEnvironment(config)
  const t1 = performance.now()
  await env.stop()
  return { start: t1 - t0, stop: performance.now() - t1 }
}

const timed = async (f: () => Promise<unknown>): Promise<number> => {
  const t = performance.now()
  await f()
  return performance.now() - t
}

async function main(): Promise<void> {
  const why = hostsUnavailable()
  if (why) throw new Error(`hosts cannot be made here (${why}): run this benchmark as root with iproute2`)
  const loadBefore = os.loadavg()
  // Warm-up: init caches, spares, binaries in the page cache.
  await startStop(plain)
  await startStop(hosted)
  const s: Record<string, number[]> = { startPlain: [], startHosts: [], stopPlain: [], stopHosts: [], makeNetwork: [], removeNetwork: [], partitionHeal: [], downUp: [] }
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? ['plain', 'hosts'] : ['hosts', 'plain']
    for (const which of order) {
      const t = await startStop(which === 'plain' ? plain : hosted)
      s[which === 'plain' ? 'startPlain' : 'startHosts']?.push(t.start)
      s[which === 'plain' ? 'stopPlain' : 'stopHosts']?.push(t.stop)
    }
    // The network alone: two hosts, no service.
    let net: HostNetwork | undefined
    s.makeNetwork?.push(await timed(async () => (net = await HostNetwork.create(`${Date.now().toString(36)}-${process.pid}-${r.toString(16).padStart(6, '0')}`, ['core1', 'core2'], DEFAULT_HOST_NETWORK))))
    const n = net as unknown as HostNetwork
    s.partitionHeal?.push(await timed(async () => (await n.partition('core1', 'core2'), await n.heal('core1', 'core2'))))
    s.downUp?.push(await timed(async () => (await n.down('core1'), await n.up('core1'))))
    s.removeNetwork?.push(await timed(() => n.close()))
  }
  const sum = Object.fromEntries(Object.entries(s).map(([k, xs]) => [k, summarize(xs)])) as Record<string, Summary>
  const ratio = (a: string, b: string): number => round((sum[a]?.median ?? NaN) / (sum[b]?.median ?? NaN), 2)
  const result = {
    date: new Date().toISOString(),
    rounds: ROUNDS,
    cpus: os.cpus().length,
    load: { before: loadBefore.map((x) => round(x, 2)), after: os.loadavg().map((x) => round(x, 2)) },
    summaries: sum,
    ratios: { start: ratio('startHosts', 'startPlain'), stop: ratio('stopHosts', 'stopPlain') },
    startDeltaMs: round((sum.startHosts?.median ?? NaN) - (sum.startPlain?.median ?? NaN)),
  }
  console.log(JSON.stringify(result, null, 2))
  if (values['no-write']) return
  fs.writeFileSync(path.join(here, 'results/topology-hosts.json'), `${JSON.stringify(result, null, 2)}\n`)
  const line = (label: string, key: string): string => `| ${label} | ${formatSummary(sum[key] as Summary)} |`
  writeResultsSection(
    'topology-hosts',
    `## Hosts: network namespaces (\`bench/topology-hosts.bench.ts\`)

PostgreSQL + Redis started (call → every service ready) and stopped, each on a host of its own
(two namespaces on a bridge, \`hosts: { core1: {}, core2: {} }\`) vs both on the loopback,
alternating in the same run; then the hosts' network alone (two hosts, no service). ${ROUNDS} rounds,
${result.date.slice(0, 10)}, ${result.cpus} CPUs, load ${result.load.before.join(' ')} before, ${result.load.after.join(' ')} after (a shared machine).

| what | time |
|---|---|
${line('start, no hosts', 'startPlain')}
${line('start, on two hosts', 'startHosts')}
${line('stop, no hosts', 'stopPlain')}
${line('stop, on two hosts', 'stopHosts')}
${line('make the network (bridge, 2 namespaces, veths, addresses)', 'makeNetwork')}
${line('remove it', 'removeNetwork')}
${line('partition + heal (2 routes each way)', 'partitionHeal')}
${line('down + up (one link)', 'downUp')}

Start on hosts / without: **${result.ratios.start}×** (median ${result.startDeltaMs >= 0 ? '+' : ''}${result.startDeltaMs} ms); stop: ${result.ratios.stop}×.
Every \`ip\` command is a process of its own, which costs 80-160 ms at this load (a few ms on an idle machine):
the network is made by one \`ip -batch\` for the root namespace, then one per host in parallel, and removed by one;
a partition is one \`ip route\` per side, a host's loss one \`ip link\`. A start on hosts also waits for the network before
the first service starts.`,
  )
}

await main()
