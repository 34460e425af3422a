// Helpers shared by the build and consumer tests: walking a package, the relative links of a
// markdown file, and an installed Node too old for rig (the system one, on many machines).
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { nodeSupported } from '../../src/node-version.ts'

/** Every file under `dir`, relative to it, `/`-separated. */
export function walk(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true, withFileTypes: true }) as fs.Dirent[]).filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
}

/** Relative link targets of a markdown text (no URLs, no anchors). */
export function markdownLinks(text: string): string[] {
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!).filter((l) => !/^[a-z]+:|^#/.test(l)).map((l) => l.replace(/#.*$/, ''))
}

function findOldNode(): { path: string; version: string } | undefined {
  for (const p of ['/usr/bin/node', '/usr/local/bin/node']) {
    const r = spawnSync(p, ['--version'], { encoding: 'utf8' })
    const version = r.stdout?.trim()
    if (r.status === 0 && version && !nodeSupported(version.slice(1))) return { path: p, version }
  }
  return undefined
}

/** An installed Node that rig does not support, if the machine has one. */
export const oldNode = findOldNode()
