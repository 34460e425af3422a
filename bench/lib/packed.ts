// The package as users install it, for benchmarks that measure it rather than the sources: a
// checkout's own scripts/build.ts builds and packs it, and the tarball is unpacked as npm does
// (a real directory under the project's node_modules, compiled JavaScript, no type stripping).
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

/** Builds and packs the checkout at `repo`; returns the directory its tarball unpacked into (remove it when done). */
export function packedPackage(repo: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-bench-packed-'))
  const out = execFileSync(process.execPath, [path.join(repo, 'scripts', 'build.ts'), '--out', path.join(dir, 'build'), '--pack', dir], { cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
  const tarball = out.trim().split('\n').at(-1) ?? ''
  if (!tarball.endsWith('.tgz') || !fs.existsSync(tarball)) throw new Error(`${repo}: the build printed no tarball:\n${out}`)
  const pkg = path.join(dir, 'package')
  fs.mkdirSync(pkg)
  execFileSync('tar', ['xzf', tarball, '-C', pkg, '--strip-components=1'])
  fs.rmSync(path.join(dir, 'build'), { recursive: true, force: true })
  return pkg
}
