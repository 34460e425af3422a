// Benchmark of the published package: how big it is packed and installed, and how long `rig`
// takes to start from it (compiled JavaScript under node_modules) against the sources this
// repository runs (TypeScript, types stripped at load), in the same run, interleaved.
//
//   node_modules/.bin/node bench/package.bench.ts [--runs 20] [--no-write]
//
// Writes bench/results/package.json and the package section of bench/RESULTS.md. Installing
// uses npm's cache (the versions are this repository's locked ones); see bench/README.md.
import { execFileSync, spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { createConsumer, locked, packed, scratchDir } from '../test/package/consumer-project.ts'
import { walk } from '../test/package/package-files.ts'
import { formatSummary, round, summarize, type Summary } from './lib/stats.ts'
import { writeResultsSection } from './lib/results-md.ts'

const REPO = path.resolve(import.meta.dirname, '..')
const RESULTS_JSON = path.join(import.meta.dirname, 'results', 'package.json')
const { values: args } = parseArgs({ options: { runs: { type: 'string', default: '20' }, 'no-write': { type: 'boolean', default: false } } })
const log = (line: string): void => void process.stderr.write(`${line}\n`)

const CONFIG = "import { defineConfig, postgres, redis } from 'testrig'\n\nexport default defineConfig({ services: { db: postgres(), cache: redis() } })\n"

/** Bytes of every file under `dir`. */
const sizeOf = (dir: string): number => walk(dir).reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0)
const kB = (bytes: number): string => `${(bytes / 1000).toFixed(1)} kB`

/** A `rig` to time: a Node entry file and the project it runs in. */
interface Variant {
  name: 'installed' | 'source'
  bin: string
  cwd: string
}

/** Wall time of one `node BIN args` from spawn to exit. */
function time(v: Variant, argv: string[]): Promise<{ ms: number; code: number | null }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now()
    const child = spawn(process.execPath, [v.bin, ...argv], { cwd: v.cwd, env: { ...process.env, NO_COLOR: '1', RIG_TMP_DIR: path.join(v.cwd, 'tmp') }, stdio: 'ignore' })
    child.on('error', reject)
    child.on('close', (code) => resolve({ ms: performance.now() - t0, code }))
  })
}

async function rig(v: Variant, argv: string[]): Promise<void> {
  const r = await time(v, argv)
  if (r.code !== 0) throw new Error(`rig ${argv.join(' ')} (${v.name}) exited with ${r.code}`)
}

async function main(): Promise<void> {
  const runs = Number(args.runs)
  const loadBefore = os.loadavg()
  const started = performance.now()
  const tBuild = performance.now()
  const tarball = packed()
  const buildMs = performance.now() - tBuild
  const build = path.join(scratchDir(), 'build')
  log(`built and packed in ${Math.round(buildMs)} ms: ${tarball}`)

  // With `pg`, which `rig up` needs for PostgreSQL, as in a user's project.
  const installed = await createConsumer('installed', {}, [locked('pg')])
  installed.write('rig.config.ts', CONFIG)
  const testrigDir = path.join(installed.dir, 'node_modules/testrig')
  const source = path.join(scratchDir(), 'source')
  fs.mkdirSync(path.join(source, 'node_modules'), { recursive: true, mode: 0o755 })
  fs.symlinkSync(REPO, path.join(source, 'node_modules/testrig'))
  fs.writeFileSync(path.join(source, 'package.json'), JSON.stringify({ name: 'source', type: 'module' }))
  fs.writeFileSync(path.join(source, 'rig.config.ts'), CONFIG)
  const variants: Variant[] = [
    { name: 'installed', bin: path.join(testrigDir, 'bin/rig.js'), cwd: installed.dir },
    { name: 'source', bin: path.join(REPO, 'bin/rig.ts'), cwd: source },
  ]

  const samples: Record<string, number[]> = {}
  const add = (key: string, ms: number): number => (samples[key] ??= []).push(ms)
  try {
    for (const v of variants) await rig(v, ['up', '--detach'])
    // One warm-up of each (page cache), not counted; then ABBA rounds so load hits both alike.
    for (const v of variants) for (const argv of [['--help'], ['status']]) await time(v, argv)
    for (let i = 0; i < runs; i++) {
      const order = i % 2 === 0 ? variants : [...variants].reverse()
      for (const v of order) {
        for (const argv of [['--help'], ['status']]) {
          const r = await time(v, argv)
          if (r.code !== 0) throw new Error(`rig ${argv.join(' ')} (${v.name}) exited with ${r.code}`)
          add(`${v.name} ${argv[0]}`, r.ms)
        }
      }
      log(`round ${i + 1}/${runs}`)
    }
  } finally {
    for (const v of variants) await time(v, ['down'])
  }

  const s = Object.fromEntries(Object.entries(samples).map(([k, xs]) => [k, summarize(xs)])) as Record<string, Summary>
  const ratio = (cmd: string): number => round(s[`installed ${cmd}`]!.median / s[`source ${cmd}`]!.median, 2)
  let commit = ''
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO, encoding: 'utf8' }).trim()
  } catch {}
  const result = {
    benchmark: 'package',
    date: new Date().toISOString(),
    commit,
    durationS: round((performance.now() - started) / 1000, 1),
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model.trim() ?? '', memoryGiB: round(os.totalmem() / 2 ** 30, 1), node: process.version, loadAvgBefore: loadBefore.map((x) => round(x, 2)), loadAvgAfter: os.loadavg().map((x) => round(x, 2)) },
    size: {
      packedBytes: fs.statSync(tarball).size,
      files: walk(build).length,
      unpackedBytes: sizeOf(build),
      installedBytes: sizeOf(testrigDir),
      javascriptBytes: walk(build).filter((f) => f.endsWith('.js')).reduce((n, f) => n + fs.statSync(path.join(build, f)).size, 0),
      declarationBytes: walk(build).filter((f) => f.endsWith('.d.ts')).reduce((n, f) => n + fs.statSync(path.join(build, f)).size, 0),
      // Its drivers are optional peers, which npm does not install.
      dependencies: Object.keys((JSON.parse(fs.readFileSync(path.join(testrigDir, 'package.json'), 'utf8')) as { dependencies?: object }).dependencies ?? {}),
    },
    buildMs: round(buildMs),
    runs,
    start: s,
    ratio: { help: ratio('--help'), status: ratio('status') },
  }
  for (const [k, v] of Object.entries(s)) log(`${k}: ${formatSummary(v)}`)
  log(`installed / source: --help ${result.ratio.help}×, status ${result.ratio.status}×`)
  if (args['no-write']) return
  const busy = Math.max(loadBefore[0] ?? 0, os.loadavg()[0] ?? 0) > os.cpus().length
  fs.writeFileSync(RESULTS_JSON, `${JSON.stringify(result, null, 2)}\n`)
  const row = (label: string, x: Summary): string => `| ${label} | ${Math.round(x.median)} ms | ${Math.round(x.p90)} ms | ${Math.round(x.min)} ms | ${Math.round(x.max)} ms | ${x.n} |`
  writeResultsSection(
    'package',
    `
## Package (\`bench/package.bench.ts\`)

${result.date.slice(0, 10)}, commit \`${commit}\`; ${result.machine.cpus} × ${result.machine.cpuModel}, ${result.machine.memoryGiB} GiB, Node ${result.machine.node}; load average ${result.machine.loadAvgBefore.join(' / ')} before, ${result.machine.loadAvgAfter.join(' / ')} after (other work shares this machine).${busy ? ' **The machine was busy (1-minute load above its CPU count): absolute times are inflated by other work; the ratio, from interleaved rounds, is the figure to read.**' : ''} ${runs} interleaved rounds after one warm-up; total ${result.durationS} s.

| size | |
|---|---|
| packed (\`npm pack\` of the build) | ${kB(result.size.packedBytes)} |
| unpacked | ${kB(result.size.unpackedBytes)} in ${result.size.files} files (JavaScript ${kB(result.size.javascriptBytes)}, declarations ${kB(result.size.declarationBytes)}, the rest README, LICENSE, docs) |
| installed (\`node_modules/testrig\`) | ${kB(result.size.installedBytes)}; dependencies installed with it: ${result.size.dependencies.length === 0 ? 'none' : result.size.dependencies.join(', ')} |

Start time: spawn → exit of \`node <bin> ARGS\` with the same Node, from a project whose \`rig up --detach\` environment (PostgreSQL + Redis) is running, so \`rig status\` loads \`rig.config.ts\` and reads the live state. **installed**: the package installed from its tarball, \`node_modules/testrig/bin/rig.js\`. **source**: this repository's \`bin/rig.ts\`, types stripped at load, in a project linking \`node_modules/testrig\` to it. (\`npx rig\` adds npm's own start-up, a few hundred ms, to either.)

| command | median | p90 | min | max | n |
|---|---|---|---|---|---|
${row('`rig --help`, installed', s['installed --help']!)}
${row('`rig --help`, source', s['source --help']!)}
${row('`rig status`, installed', s['installed status']!)}
${row('`rig status`, source', s['source status']!)}

**Ratio installed / source (medians): \`--help\` ${result.ratio.help}×, \`status\` ${result.ratio.status}×.** Building and packing took ${Math.round(buildMs)} ms.
`,
  )
  log(`wrote ${path.relative(process.cwd(), RESULTS_JSON)} and bench/RESULTS.md`)
}

try {
  await main()
} finally {
  fs.rmSync(scratchDir(), { recursive: true, force: true })
}
