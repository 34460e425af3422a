// `npm run build`: the published package, in dist/. The repository's own package.json names
// the TypeScript sources, which Node runs directly here (tests, examples, demo, bench need no
// build). The build compiles them (tsconfig.build.json) and writes the manifest users install:
// every entry mapped to its JavaScript and declarations, `bin` to JavaScript, the repository's
// scripts and devDependencies left out. `--pack DIR` then packs dist/ into DIR and prints the
// tarball's path as the last line.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { parseArgs } from 'node:util'

const ROOT = path.resolve(import.meta.dirname, '..')
/** Shipped next to the build: the README, the pages it links to, the licence. */
const SHIPPED = ['README.md', 'LICENSE', 'docs']
/** Manifest fields the package keeps; the rest (scripts, devDependencies…) is the repository's. */
const KEPT = ['name', 'version', 'description', 'keywords', 'license', 'repository', 'homepage', 'bugs', 'type', 'engines', 'bin', 'exports', 'dependencies', 'peerDependencies', 'peerDependenciesMeta']

type Exports = Record<string, string | Record<string, string>>

const withExt = (file: string, ext: string): string => file.replace(/\.ts$/, ext)

/** The manifest of the build, from the repository's: `.ts` entries become `types` + JavaScript. */
export function publishedManifest(source: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const key of KEPT) if (source[key] !== undefined) out[key] = source[key]
  const exports: Exports = {}
  for (const [entry, target] of Object.entries(source.exports as Record<string, string>)) {
    exports[entry] = target.endsWith('.ts') ? { types: withExt(target, '.d.ts'), default: withExt(target, '.js') } : target
  }
  out.exports = exports
  out.bin = Object.fromEntries(Object.entries(source.bin as Record<string, string>).map(([name, file]) => [name, withExt(file, '.js')]))
  return out
}

/** Every file the manifest points at, relative to the package. */
function targets(manifest: Record<string, unknown>): string[] {
  const files = Object.values(manifest.bin as Record<string, string>)
  for (const t of Object.values(manifest.exports as Exports)) files.push(...(typeof t === 'string' ? [t] : Object.values(t)))
  return files
}

function run(command: string, args: string[]): string {
  const r = spawnSync(command, args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
  if (r.status !== 0) {
    process.stdout.write(r.stdout ?? '')
    throw new Error(`${command} ${args.join(' ')} exited with ${r.status ?? r.signal}`)
  }
  return r.stdout
}

/** Builds the package into `out` (emptied first); returns the manifest written. */
export function build(out = path.join(ROOT, 'dist')): Record<string, unknown> {
  fs.rmSync(out, { recursive: true, force: true })
  run(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', out])
  // The command's declarations describe nothing anyone imports.
  for (const f of fs.readdirSync(path.join(out, 'bin'))) if (f.endsWith('.d.ts')) fs.rmSync(path.join(out, 'bin', f))
  // Sources that are not TypeScript (RabbitMQ's agent, in Erlang) ship as they are.
  fs.cpSync(path.join(ROOT, 'src'), path.join(out, 'src'), { recursive: true, filter: (f) => fs.statSync(f).isDirectory() || !f.endsWith('.ts') })
  const manifest = publishedManifest(JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')))
  fs.writeFileSync(path.join(out, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`)
  for (const f of SHIPPED) fs.cpSync(path.join(ROOT, f), path.join(out, f), { recursive: true })
  const missing = targets(manifest).filter((t) => !fs.existsSync(path.join(out, t)))
  if (missing.length > 0) throw new Error(`the build lacks files its manifest names: ${missing.join(', ')}`)
  return manifest
}

/** Packs the build in `out` into `dir`; returns the tarball's path. */
export function pack(out: string, dir: string): string {
  fs.mkdirSync(dir, { recursive: true })
  const [info] = JSON.parse(run('npm', ['pack', out, '--pack-destination', dir, '--json', '--silent'])) as { filename: string }[]
  return path.join(dir, info!.filename)
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { out: { type: 'string' }, pack: { type: 'string' } } })
  const out = path.resolve(values.out ?? path.join(ROOT, 'dist'))
  try {
    build(out)
    console.log(`built ${path.relative(process.cwd(), out) || '.'}`)
    if (values.pack) console.log(pack(out, path.resolve(values.pack)))
  } catch (err) {
    console.error(`build: ${(err as Error).message}`)
    process.exit(1)
  }
}
