// `npm run build`: the published package, in dist/. The repository's own package.json names
// the TypeScript sources, which Node runs directly here (tests, examples, demo, bench need no
// build). The build compiles them (tsconfig.build.json) and writes the manifest users install:
// every entry mapped to its JavaScript and declarations, `bin` to JavaScript, the repository's
// scripts and devDependencies left out. `--pack DIR` then packs dist/ into DIR and prints the
// tarball's path as the last line. Vitest's setup file is then bundled into one module
// (`bundleSetup`).
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

/**
 * The setup file the Vitest plugin adds to every test file (src/vitest/plugin-node.ts), in the
 * build; the module whose `setupFile()` it calls (registering the hooks for the file being run),
 * and the module that one becomes.
 */
const VITEST_SETUP = 'src/vitest/setup.js'
const VITEST_SETUP_HOOKS = 'src/vitest/setup-hooks.js'
const VITEST_SETUP_BUNDLE = 'src/vitest/setup-bundle.js'
/** Modules the bundled setup imports rather than copies: their classes are the ones `instanceof` tests against, whichever entry a test imported them from. */
const SHARED = ['src/errors.js', 'src/guard/errors.js']

/**
 * Vitest imports the plugin's setup file in each test file, and by default each test file runs
 * in a fresh worker: the setup's static imports (the test session, the guard client, the log
 * scan, the worker's helpers: 14 modules) were resolved, read, compiled and linked again for
 * every file. The build bundles them into one module, {@link VITEST_SETUP_BUNDLE}, and the
 * setup file only imports it and calls its `setupFile()`, which registers the hooks for the file
 * being run (Node loads the bundle once per worker, which may run several files: `isolate:
 * false`). Vitest runs a setup file through its module runner even from node_modules, which
 * costs more than Node's own import for a module of this size, and it hands the bundle, a
 * package module, to Node. What the setup imports on first use (dynamic imports: a
 * test's controls, the guard itself when there is no guard host) and {@link SHARED} stay the
 * compiled modules next to it; the state the session shares with the helpers a test calls
 * through `testrig/vitest` is one per process, whichever copy of src/runner/worker.ts holds it.
 */
export async function bundleSetup(out: string): Promise<void> {
  const { rolldown } = await import('rolldown')
  const entry = path.join(out, VITEST_SETUP_HOOKS)
  const shared = new Set(SHARED.map((f) => path.join(out, f)))
  const bundle = await rolldown({
    input: entry,
    // The comments that name each module's source are then relative to the package.
    cwd: out,
    platform: 'node',
    // Packages (vitest, Node's built-ins) are the user's: imported, never copied.
    external: (id) => !id.startsWith('.') && !path.isAbsolute(id),
    makeAbsoluteExternalsRelative: true,
    plugins: [
      {
        name: 'testrig-setup-bundle',
        resolveId(source, importer, extra) {
          if (!source.startsWith('.') || !importer) return null
          const file = path.resolve(path.dirname(importer), source)
          return extra.kind === 'dynamic-import' || shared.has(file) ? { id: file, external: true } : null
        },
      },
    ],
  })
  const dir = fs.mkdtempSync(path.join(out, '.setup-'))
  try {
    const { output } = await bundle.write({ dir, format: 'esm', entryFileNames: path.basename(VITEST_SETUP_BUNDLE), codeSplitting: false, sourcemap: false })
    if (output.length !== 1) throw new Error(`the setup bundle is more than one module: ${output.map((o) => o.fileName).join(', ')}`)
    fs.renameSync(path.join(dir, path.basename(VITEST_SETUP_BUNDLE)), path.join(out, VITEST_SETUP_BUNDLE))
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
    await bundle.close()
  }
  // Node loads the bundle once per worker, while Vitest runs the setup file for every test file
  // (a worker may run several: `isolate: false`): the hooks are registered by this call, not by
  // importing the bundle.
  fs.writeFileSync(
    path.join(out, VITEST_SETUP),
    `// rig's per-test-file setup (src/vitest/setup.ts), its hooks bundled into one module by scripts/build.ts.\nimport { setupFile } from './${path.basename(VITEST_SETUP_BUNDLE)}'\n\nsetupFile()\n`,
  )
}

/** Builds the package into `out` (emptied first); returns the manifest written. */
export async function build(out = path.join(ROOT, 'dist')): Promise<Record<string, unknown>> {
  fs.rmSync(out, { recursive: true, force: true })
  run(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', out])
  // The command's declarations describe nothing anyone imports.
  for (const f of fs.readdirSync(path.join(out, 'bin'))) if (f.endsWith('.d.ts')) fs.rmSync(path.join(out, 'bin', f))
  await bundleSetup(out)
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
    await build(out)
    console.log(`built ${path.relative(process.cwd(), out) || '.'}`)
    if (values.pack) console.log(pack(out, path.resolve(values.pack)))
  } catch (err) {
    console.error(`build: ${(err as Error).message}`)
    process.exit(1)
  }
}
